// Archives: zip, tar (plain or gzip/bzip2/xz/zstd-compressed), 7z and rar,
// read with libarchive from memory, each regular-file member extracted in
// memory by ExtractMember (extract.h describes the limits and the names).
#include <archive.h>
#include <archive_entry.h>
#include <iconv.h>
#include <locale.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <vector>

#include "extract_internal.h"
#include "gongkai/utf8.h"

namespace gongkai::indexer::detail {
namespace {

using ArchivePtr = std::unique_ptr<archive, decltype(&archive_read_free)>;

// libarchive converts names between the archive's charset and the current
// locale's; in the "C" locale (the worker's) it drops UTF-8 names it cannot
// convert to ASCII. While an archive is read, the thread runs in C.UTF-8:
// UTF-8 names then arrive intact and any others as their raw bytes, which
// SanitizeMemberName decodes. Thread-local (uselocale), so safe in a
// multi-threaded caller; without C.UTF-8 nothing changes.
class Utf8Locale {
 public:
  Utf8Locale() {
    static const locale_t kUtf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
    if (kUtf8) previous_ = uselocale(kUtf8);
  }
  ~Utf8Locale() {
    if (previous_) uselocale(previous_);
  }
  Utf8Locale(const Utf8Locale&) = delete;
  Utf8Locale& operator=(const Utf8Locale&) = delete;

 private:
  locale_t previous_ = nullptr;
};

// The decompression filters libarchive implements itself. A filter it would
// run as an external program (its fallback when built without the library,
// announced by ARCHIVE_WARN) is left out: the worker starts no programs for
// archives. Probed once.
using SupportFilter = int (*)(archive*);
const std::vector<SupportFilter>& NativeFilters() {
  static const std::vector<SupportFilter> kNative = [] {
    std::vector<SupportFilter> out;
    for (SupportFilter support :
         {archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
          archive_read_support_filter_xz, archive_read_support_filter_lzma,
          archive_read_support_filter_zstd}) {
      archive* probe = archive_read_new();
      if (probe && support(probe) == ARCHIVE_OK) out.push_back(support);
      archive_read_free(probe);
    }
    return out;
  }();
  return kNative;
}

ArchivePtr OpenArchive(std::string_view bytes, const ArchiveLimits& limits) {
  ArchivePtr a(archive_read_new(), &archive_read_free);
  if (!a) throw std::bad_alloc();
  // The seekable zip reader reads the whole central directory before the
  // first member; one declaring more members than the limit is streamed
  // from its local headers instead, so reading stops at the limit.
  if (ZipReader::DeclaredMembers(bytes) > limits.max_entries)
    archive_read_support_format_zip_streamable(a.get());
  else
    archive_read_support_format_zip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  archive_read_support_format_7zip(a.get());
  archive_read_support_format_rar(a.get());
  archive_read_support_format_rar5(a.get());
  for (SupportFilter support : NativeFilters()) support(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) a.reset();
  return a;
}

std::string FormatName(archive* a) {
  switch (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) {
    case ARCHIVE_FORMAT_ZIP:
      return "zip";
    case ARCHIVE_FORMAT_TAR:
      return "tar";
    case ARCHIVE_FORMAT_7ZIP:
      return "7z";
    case ARCHIVE_FORMAT_RAR:
    case ARCHIVE_FORMAT_RAR_V5:
      return "rar";
    default:
      return "archive";
  }
}

// "64 MiB", or "1000 bytes" for limits that are not whole MiB (tests use small ones).
std::string Size(uint64_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

std::string Hex(unsigned char c) {
  static const char kDigits[] = "0123456789ABCDEF";
  return {'%', kDigits[c >> 4], kDigits[c & 15]};
}

// Strict GB18030 to UTF-8; false if any byte sequence is not GB18030.
bool DecodeGb18030(std::string_view raw, std::string* out) {
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  out->assign(raw.size() * 2 + 8, '\0');
  char* in = const_cast<char*>(raw.data());
  size_t in_left = raw.size();
  char* o = out->data();
  size_t o_left = out->size();
  const size_t rc = iconv(cd, &in, &in_left, &o, &o_left);
  iconv_close(cd);
  if (rc == static_cast<size_t>(-1) || in_left != 0) return false;
  out->resize(out->size() - o_left);
  return IsValidUtf8(*out);
}

// Valid UTF-8 kept, every other byte escaped.
std::string EscapeInvalid(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size();) {
    if (size_t len = Utf8SequenceLength(raw, i)) {
      out.append(raw.substr(i, len));
      i += len;
    } else {
      out += Hex(static_cast<unsigned char>(raw[i++]));
    }
  }
  return out;
}

// Control characters (C0, DEL, C1) and the bidirectional embeddings,
// overrides and isolates (U+202A-202E, U+2066-2069), which would make a
// displayed path lie about its order, as %XX escapes of their UTF-8 bytes.
std::string EscapeControls(const std::string& utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size();) {
    const size_t len = std::max<size_t>(1, Utf8SequenceLength(utf8, i));
    const auto c0 = static_cast<unsigned char>(utf8[i]);
    const auto c1 = i + 1 < utf8.size() ? static_cast<unsigned char>(utf8[i + 1]) : 0;
    const auto c2 = i + 2 < utf8.size() ? static_cast<unsigned char>(utf8[i + 2]) : 0;
    const bool control = c0 < 0x20 || c0 == 0x7F || (c0 == 0xC2 && c1 >= 0x80 && c1 <= 0x9F);
    const bool bidi = c0 == 0xE2 && ((c1 == 0x80 && c2 >= 0xAA && c2 <= 0xAE) ||
                                     (c1 == 0x81 && c2 >= 0xA6 && c2 <= 0xA9));
    if (control || bidi) {
      for (size_t k = 0; k < len; ++k) out += Hex(static_cast<unsigned char>(utf8[i + k]));
    } else {
      out.append(utf8, i, len);
    }
    i += len;
  }
  return out;
}

// The most bytes of a member path kept (cut on a segment or UTF-8 boundary).
constexpr size_t kMaxNameBytes = 1024;

// One archive being read: the entries of its libarchive handle, the summary.
class ArchiveScan {
 public:
  ArchiveScan(archive* a, int depth, ArchiveBudget* budget, Extracted* e)
      : a_(a), depth_(depth), budget_(*budget), e_(*e) {}

  // Reads every entry, or until a limit or a broken header stops it.
  void Run(archive_entry* first) {
    archive_entry* entry = first;
    for (;;) {
      if (!budget_.stopped.empty()) break;
      if (!Entry(entry)) break;
      const int rc = archive_read_next_header(a_, &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
        broken_ = Error("broken " + format_ + " archive");
        break;
      }
    }
  }

  // The archive's own note, e.g. "zip archive: 12 members indexed, 1 skipped (encrypted)".
  std::string Summary() const {
    const size_t indexed = e_.members.size();
    std::string note = format_ + " archive: " + std::to_string(indexed) + " member" +
                       (indexed == 1 ? "" : "s") + " indexed";
    uint64_t skipped = 0;
    std::string why;
    for (const auto& [reason, n] : skipped_) {
      skipped += n;
      why += (why.empty() ? "" : ", ") + (n > 1 ? std::to_string(n) + " " : "") + reason;
    }
    if (skipped) note += ", " + std::to_string(skipped) + " skipped (" + why + ")";
    if (renamed_)
      note += ", " + std::to_string(renamed_) + " unsafe name" + (renamed_ == 1 ? "" : "s") +
              " cleaned";
    if (!broken_.empty()) note += "; " + broken_;
    if (!budget_.stopped.empty() && depth_ == 0) note += "; stopped: " + budget_.stopped;
    return note;
  }

  void set_format(std::string f) { format_ = std::move(f); }

 private:
  std::string Error(const std::string& what) const {
    const char* msg = archive_error_string(a_);
    return what + (msg && *msg ? std::string(": ") + msg : "");
  }

  void Skip(const std::string& reason) { ++skipped_[reason]; }

  bool Stop(std::string why) {
    budget_.stopped = std::move(why);
    return false;
  }

  // Handles one entry; false when reading must stop.
  bool Entry(archive_entry* entry) {
    const ArchiveLimits& limits = budget_.limits;
    if (++budget_.entries > limits.max_entries)
      return Stop("more than " + std::to_string(limits.max_entries) + " entries");
    if (std::chrono::steady_clock::now() > budget_.deadline)
      return Stop("extraction took longer than " + std::to_string(limits.max_time.count() / 1000) +
                  " s");
    const auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) return true;
    if (type != AE_IFREG || archive_entry_hardlink(entry) || archive_entry_symlink(entry)) {
      Skip("link or special file");
      return true;
    }
    const char* raw = archive_entry_pathname(entry);
    if (!raw) raw = archive_entry_pathname_utf8(entry);
    std::string name = SanitizeMemberName(raw ? raw : "");
    if (!raw || name != raw) ++renamed_;
    if (name.empty()) name = "unnamed-" + std::to_string(budget_.entries);
    if (archive_entry_is_encrypted(entry)) {
      Skip("encrypted");
      return true;
    }
    // A declared size beyond the limit (a sparse entry claiming a terabyte)
    // is skipped unread where skipping is a seek; where it means
    // decompressing (below), and for a lying size, it is caught while reading.
    if (archive_entry_size_is_set(entry) &&
        static_cast<uint64_t>(archive_entry_size(entry)) > limits.max_member && SkippingIsFree()) {
      Skip("larger than " + Size(limits.max_member));
      return true;
    }
    std::string bytes;
    switch (ReadData(&bytes)) {
      case Read::kOk:
        break;
      case Read::kSkipped:
        return true;
      case Read::kStop:
        return false;
    }
    if (bytes.empty()) {
      Skip("empty");
      return true;
    }
    Member(name, bytes);
    return budget_.stopped.empty();
  }

  // Whether libarchive passes over a member's data without decompressing
  // it: in an uncompressed tar, and in a zip (the compressed size is known).
  // In a gzip/bzip2/xz/zstd stream, and in a 7z or rar solid block, it
  // decompresses everything it skips: that counts against the limits.
  bool SkippingIsFree() const {
    const int format = archive_format(a_) & ARCHIVE_FORMAT_BASE_MASK;
    return archive_filter_code(a_, 0) == ARCHIVE_FILTER_NONE &&
           (format == ARCHIVE_FORMAT_TAR || format == ARCHIVE_FORMAT_ZIP);
  }

  enum class Read { kOk, kSkipped, kStop };

  // Reads the member's data into *out; one larger than the member limit is
  // read on, and counted, without being kept, unless skipping it is free.
  Read ReadData(std::string* out) {
    const ArchiveLimits& limits = budget_.limits;
    char buf[64 * 1024];
    bool too_large = false;
    for (;;) {
      const la_ssize_t n = archive_read_data(a_, buf, sizeof buf);
      if (n == 0) {
        if (!too_large) return Read::kOk;
        Skip("larger than " + Size(limits.max_member));
        return Read::kSkipped;
      }
      if (n < 0) {
        if (n == ARCHIVE_FATAL) {
          broken_ = Error("broken " + format_ + " archive");
          return Read::kStop;
        }
        Skip("unreadable");
        return Read::kSkipped;
      }
      budget_.bytes += static_cast<uint64_t>(n);
      if (budget_.bytes > limits.max_total) {
        Stop("probable zip bomb: more than " + Size(limits.max_total) + " uncompressed");
        return Read::kStop;
      }
      if (budget_.bytes > limits.ratio_floor &&
          budget_.bytes / limits.max_ratio > budget_.compressed_size) {
        Stop("probable zip bomb: compression ratio above " + std::to_string(limits.max_ratio) +
             ":1");
        return Read::kStop;
      }
      if (std::chrono::steady_clock::now() > budget_.deadline) {
        Stop("extraction took longer than " + std::to_string(limits.max_time.count() / 1000) +
             " s");
        return Read::kStop;
      }
      if (too_large) continue;
      if (out->size() + static_cast<size_t>(n) > limits.max_member) {
        std::string().swap(*out);
        too_large = true;
        if (!SkippingIsFree()) continue;
        Skip("larger than " + Size(limits.max_member));
        return Read::kSkipped;  // the next header call skips the rest
      }
      out->append(buf, static_cast<size_t>(n));
    }
  }

  void Member(const std::string& name, const std::string& bytes) {
    Extracted m = ExtractMember(bytes, name, depth_ + 1, &budget_);
    std::vector<ArchiveMember> nested = std::move(m.members);
    m.members.clear();
    Add(name, std::move(m));
    for (ArchiveMember& n : nested) Add(name + "!/" + n.path, std::move(n.extracted));
  }

  void Add(std::string path, Extracted m) {
    budget_.text += m.text.size();
    if (budget_.text > budget_.limits.max_text) {
      Stop("more than " + Size(budget_.limits.max_text) + " of member text");
      return;
    }
    e_.members.push_back({std::move(path), std::move(m)});
  }

  archive* a_;
  const int depth_;
  ArchiveBudget& budget_;
  Extracted& e_;
  std::string format_ = "archive";
  uint64_t renamed_ = 0;
  std::map<std::string, uint64_t> skipped_;
  std::string broken_;
};

}  // namespace

bool LooksLikeArchive(std::string_view b) {
  auto starts = [&](std::string_view magic) { return b.substr(0, magic.size()) == magic; };
  return starts(std::string_view("7z\xBC\xAF\x27\x1C", 6)) || starts("Rar!\x1A\x07") ||
         starts("\x1F\x8B") || starts("BZh") ||
         starts(std::string_view("\xFD"
                                 "7zXZ\0",
                                 6)) ||
         starts("\x28\xB5\x2F\xFD") || (b.size() >= 512 && b.substr(257, 5) == "ustar");
}

std::string SanitizeMemberName(std::string_view raw) {
  std::string utf8;
  if (IsValidUtf8(raw))
    utf8 = std::string(raw);
  else if (!DecodeGb18030(raw, &utf8))
    utf8 = EscapeInvalid(raw);
  utf8 = EscapeControls(utf8);  // after decoding: a GBK trail byte may be 0x5C or below 0x80
  std::string out, segment;
  bool first = true;
  auto flush = [&] {
    // A drive letter ("C:") leads an absolute Windows path: dropped like "/".
    const bool drive = first && segment.size() == 2 && segment[1] == ':' &&
                       std::isalpha(static_cast<unsigned char>(segment[0]));
    if (!segment.empty() && segment != "." && segment != ".." && !drive) {
      if (out.size() + 1 + segment.size() <= kMaxNameBytes) {
        if (!out.empty()) out += '/';
        out += segment;
      }
    }
    segment.clear();
    first = false;
  };
  for (char c : utf8) {
    if (c == '/' || c == '\\')
      flush();
    else
      segment += c;
  }
  flush();
  return out;
}

bool ExtractArchive(std::string_view bytes, int depth, ArchiveBudget* budget, Extracted* e) {
  // What the magic bytes promise, for an archive too broken for libarchive
  // to recognise; a compressed stream may hold anything, so it promises nothing.
  auto starts = [&](std::string_view magic) { return bytes.substr(0, magic.size()) == magic; };
  const std::string promised = ZipReader::LooksLikeZip(bytes)                      ? "zip"
                               : starts(std::string_view("7z\xBC\xAF\x27\x1C", 6)) ? "7z"
                               : starts("Rar!\x1A\x07")                            ? "rar"
                                                                                   : "";
  Utf8Locale locale;
  ArchivePtr a = OpenArchive(bytes, budget->limits);
  archive_entry* entry = nullptr;
  const int rc = a ? archive_read_next_header(a.get(), &entry) : ARCHIVE_FATAL;
  const bool has_entry = rc == ARCHIVE_OK || rc == ARCHIVE_WARN;
  const bool recognised = a && archive_format(a.get()) != 0;
  if (!has_entry && rc != ARCHIVE_EOF && !recognised && promised.empty()) return false;
  const std::string format = recognised ? FormatName(a.get()) : promised;
  if (e->type == "file") e->type = format;
  if (depth > budget->limits.max_depth) {
    e->note = format + " archive nested more than " + std::to_string(budget->limits.max_depth) +
              " levels deep: not expanded";
    return true;
  }
  ArchiveScan scan(a.get(), depth, budget, e);
  scan.set_format(format);
  if (has_entry) scan.Run(entry);
  std::string summary = scan.Summary();
  if (!has_entry && rc != ARCHIVE_EOF) {
    const char* msg = a ? archive_error_string(a.get()) : nullptr;
    summary += std::string("; unreadable") + (msg && *msg ? std::string(": ") + msg : "");
  }
  e->note = std::move(summary);
  std::string list;
  for (const ArchiveMember& m : e->members) list += m.path + "\n";
  e->text = NormalizeWhitespace(list);
  e->has_text = !e->text.empty();
  return true;
}

}  // namespace gongkai::indexer::detail
