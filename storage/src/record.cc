#include "gongkai/storage/record.h"

#include <ctime>

#include "gongkai/utf8.h"

namespace gongkai::storage {

std::string JsonQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    if (const size_t len = Utf8SequenceLength(s, i); len > 0) {  // copy it, or emit U+FFFD
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  out += '"';
  return out;
}

std::string SerializeRecord(const RecordFields& r) {
  std::string out = "{\"seq\":" + std::to_string(r.seq);
  out += ",\"event\":" + JsonQuote(ToString(r.event));
  out += ",\"doc\":" + JsonQuote(r.doc);
  out += ",\"share\":" + JsonQuote(r.share);
  out += ",\"path\":" + JsonQuote(r.path);
  if (!r.from.empty()) out += ",\"from\":" + JsonQuote(r.from);
  out += ",\"version\":" + std::to_string(r.version);
  out += ",\"sha256\":" + JsonQuote(r.sha256);
  out += ",\"size\":" + std::to_string(r.size);
  out += ",\"modified\":" + JsonQuote(r.modified);
  out += ",\"classification\":" + JsonQuote(ToString(r.classification));
  out += ",\"review\":" + JsonQuote(ToString(r.review));
  if (!r.meta.empty()) out += ",\"meta\":" + JsonQuote(r.meta);
  if (!r.index_no.empty()) out += ",\"index_no\":" + JsonQuote(r.index_no);
  out += ",\"time\":" + JsonQuote(r.time);
  out += ",\"key\":" + JsonQuote(r.key);
  out += ",\"prev\":" + JsonQuote(r.prev);
  out += '}';
  return out;
}

std::string SerializeRequestRecord(const RequestRecordFields& r) {
  std::string out = "{\"seq\":" + std::to_string(r.seq);
  out += ",\"event\":" + JsonQuote(r.event);
  out += ",\"request\":" + JsonQuote(r.request);
  out += ",\"date\":" + JsonQuote(r.date);
  if (!r.channel.empty()) out += ",\"channel\":" + JsonQuote(r.channel);
  if (!r.applicant_type.empty()) out += ",\"applicant_type\":" + JsonQuote(r.applicant_type);
  if (!r.outcome.empty()) out += ",\"outcome\":" + JsonQuote(r.outcome);
  if (r.days > 0) out += ",\"days\":" + std::to_string(r.days);
  if (!r.reply_document.empty()) out += ",\"reply_document\":" + JsonQuote(r.reply_document);
  out += ",\"details_sha256\":" + JsonQuote(r.details_sha256);
  if (!r.note_sha256.empty()) out += ",\"note_sha256\":" + JsonQuote(r.note_sha256);
  out += ",\"time\":" + JsonQuote(r.time);
  out += ",\"key\":" + JsonQuote(r.key);
  out += ",\"prev\":" + JsonQuote(r.prev);
  out += '}';
  return out;
}

std::string SerializeReportFiguresRecord(const ReportFiguresRecordFields& r) {
  return "{\"seq\":" + std::to_string(r.seq) +
         ",\"event\":\"report.figures\",\"year\":" + std::to_string(r.year) +
         ",\"figures\":" + JsonQuote(r.figures) + ",\"time\":" + JsonQuote(r.time) +
         ",\"key\":" + JsonQuote(r.key) + ",\"prev\":" + JsonQuote(r.prev) + "}";
}

std::string SaltedSha256(const std::string& salt, const std::string& text) {
  return Hex(Sha256Of(salt + "\n" + text));
}

std::string RequestNoteJson(const std::string& note, const std::string& approved_by) {
  if (note.empty() && approved_by.empty()) return "";
  return "{\"note\":" + JsonQuote(note) + ",\"approved_by\":" + JsonQuote(approved_by) + "}";
}

std::string ChainOf(const std::string& doc, const std::string& request) {
  return request.empty() ? doc : "request " + request;
}

Digest LeafHash(std::string_view record) {
  Sha256 h;
  const uint8_t zero = 0;
  h.Update(&zero, 1);
  h.Update(record.data(), record.size());
  return h.Finish();
}

Digest NodeHash(const Digest& left, const Digest& right) {
  Sha256 h;
  const uint8_t one = 1;
  h.Update(&one, 1);
  h.Update(left.data(), left.size());
  h.Update(right.data(), right.size());
  return h.Finish();
}

std::string Rfc3339FromNanos(int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1'000'000'000);
  if (ns < 0 && ns % 1'000'000'000 != 0) --secs;
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  return Rfc3339FromNanos(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

}  // namespace gongkai::storage
