#include <algorithm>
#include <fstream>
#include <optional>

#include "gongkai/indexer/extract.h"
#include "gongkai/ledger/visibility.h"
#include "gongkai/log.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/merkle.h"
#include "http_handlers.h"
#include "json_writer.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerResponse;

namespace {

// A document and the versions a caller may see of it, oldest first.
struct Visible {
  storage::DocumentRow doc;
  std::vector<storage::VersionRow> versions;
  const storage::VersionRow* Find(int64_t n) const {
    for (const auto& v : versions)
      if (v.version == n) return &v;
    return nullptr;
  }
};

// What the caller may see of document `id` (ledger's rule), or nullopt (a
// 404, as for a document that does not exist).
std::optional<Visible> LoadVisible(const Call& call, storage::Catalog* catalog,
                                   const std::string& id) {
  auto state = OrThrow(ledger::LoadDocument(*catalog, id));
  if (!state.has_value()) return std::nullopt;
  std::vector<storage::VersionRow> versions = ledger::VisibleVersions(call.role, *state);
  if (versions.empty()) return std::nullopt;
  return Visible{std::move(state->doc), std::move(versions)};
}

// The {n} of a version route; a malformed number is a version that does not exist.
int64_t VersionNumber(const Call& call) {
  int64_t n = 0;
  if (!ParseInt(call.path.at("n"), 1, INT64_C(1) << 40, &n)) throw NotFound();
  return n;
}

const char* MediaType(const std::string& type) {
  static const std::map<std::string, const char*> kTypes = {
      {"txt", "text/plain"},
      {"md", "text/markdown"},
      {"csv", "text/csv"},
      {"html", "text/html"},
      {"json", "application/json"},
      {"xml", "application/xml"},
      {"pdf", "application/pdf"},
      {"zip", "application/zip"},
      {"ofd", "application/ofd"},
      {"doc", "application/msword"},
      {"xls", "application/vnd.ms-excel"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
      {"odt", "application/vnd.oasis.opendocument.text"},
      {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
      {"wps", "application/vnd.ms-works"},
      {"7z", "application/x-7z-compressed"},
      {"tar", "application/x-tar"},
      {"gz", "application/gzip"}};
  auto it = kTypes.find(type);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

// Content-Disposition with an ASCII fallback and the RFC 6266/5987 UTF-8 name.
std::string Disposition(const std::string& path) {
  std::string base = path.substr(path.rfind('/') + 1);
  std::string ascii, encoded;
  for (unsigned char c : base) {
    ascii += (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') ? static_cast<char>(c) : '_';
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      encoded += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      encoded += buf;
    }
  }
  return "inline; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

// The title and text note of the version the caller sees, from its index entry.
std::pair<std::string, std::string> IndexedFields(const Call& call, const Visible& vis) {
  std::string title, text_note;
  const storage::VersionRow& shown = vis.versions.back();
  if (auto indexed = call.ctx.searcher->Get(vis.doc.id, call.anonymous());
      indexed.ok() && indexed->version == shown.version) {
    title = indexed->title;
    text_note = indexed->text_note;
  }
  if (title.empty()) title = vis.doc.path.substr(vis.doc.path.rfind('/') + 1);
  return {title, text_note};
}

std::string DocumentJson(const Call& call, const Visible& vis) {
  const auto [title, text_note] = IndexedFields(call, vis);
  const storage::VersionRow& latest = vis.versions.back();
  JsonWriter w;
  w.BeginObject()
      .Field("id", vis.doc.id)
      .Field("index_no", vis.doc.index_no)
      .Field("share", vis.doc.share)
      .Field("path", vis.doc.path)
      .Field("office", OfficeOf(*call.ctx.config, vis.doc.share))
      .Field("title", title)
      .Field("type", indexer::TypeFromName(vis.doc.path))
      .Field("status", vis.doc.status)
      .Field("classification", vis.doc.classification)
      .Field("review", latest.review)
      .Field("created", vis.doc.created)
      // A hidden pending version or event must not show through `updated`.
      .Field("updated", call.anonymous() ? latest.archived : vis.doc.updated);
  // Why its text is not (fully) searchable: for inspectors only, as a parser
  // failure is nobody else's business.
  if (!call.anonymous()) w.Field("text_note", text_note);
  w.Key("meta").Raw(latest.meta.empty() ? "{}" : latest.meta);
  w.Key("versions").BeginArray();
  for (const storage::VersionRow& v : vis.versions) WriteVersion(w, v);
  w.EndArray().EndObject();
  return w.str();
}

void SetContentHeaders(const Call& call, const Visible& vis, const std::string& etag) {
  HTTPServerResponse& resp = call.resp;
  resp.set("ETag", etag);
  resp.set("Accept-Ranges", "bytes");
  resp.set("Cache-Control", call.anonymous() ? "public, max-age=86400, immutable"
                                             : "private, max-age=86400, immutable");
  resp.set("X-Content-Type-Options", "nosniff");
  resp.set("Content-Security-Policy", "sandbox");  // archived HTML must not run scripts here
  resp.set("Content-Disposition", Disposition(vis.doc.path));
  resp.setContentType(MediaType(indexer::TypeFromName(vis.doc.path)));
}

bool NotModified(const Call& call, const std::string& etag) {
  const std::string inm = call.req.get("If-None-Match", "");
  return !inm.empty() && (inm == etag || inm == "*" || inm.find(etag) != std::string::npos);
}

struct ByteRange {
  int64_t first = 0, last = -1;
  bool partial = false;
};

// The one range of a "bytes=a-b", "bytes=a-" or "bytes=-n" header within
// `size`; anything else is the whole. Throws 416 for a start past the end.
ByteRange ParseRange(const std::string& header, int64_t size, HTTPServerResponse& resp) {
  const ByteRange whole{0, size - 1, false};
  if (header.rfind("bytes=", 0) != 0 || header.find(',') != std::string::npos) return whole;
  const std::string spec = header.substr(6);
  const size_t dash = spec.find('-');
  int64_t a = -1, b = -1;
  if (dash == std::string::npos) return whole;
  if (dash > 0 && !ParseInt(spec.substr(0, dash), 0, INT64_MAX / 2, &a)) return whole;
  if (dash + 1 < spec.size() && !ParseInt(spec.substr(dash + 1), 0, INT64_MAX / 2, &b))
    return whole;
  if (a < 0) return b > 0 ? ByteRange{std::max<int64_t>(0, size - b), size - 1, true} : whole;
  if (a >= size) {
    resp.set("Content-Range", "bytes */" + std::to_string(size));
    throw ApiError{HTTPResponse::HTTP_REQUESTED_RANGE_NOT_SATISFIABLE, "bad_range",
                   "range not satisfiable"};
  }
  const int64_t last = b >= 0 ? std::min(b, size - 1) : size - 1;
  return last >= a ? ByteRange{a, last, true} : whole;
}

void SendBytes(const Call& call, std::ifstream& in, const ByteRange& range, int64_t size) {
  if (range.partial) {
    call.resp.setStatusAndReason(HTTPResponse::HTTP_PARTIAL_CONTENT);
    call.resp.set("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                       std::to_string(range.last) + "/" + std::to_string(size));
  }
  const int64_t length = size == 0 ? 0 : range.last - range.first + 1;
  call.resp.setContentLength64(static_cast<Poco::UInt64>(length));
  std::ostream& out = call.resp.send();
  if (call.req.getMethod() == "HEAD") return;
  in.seekg(range.first);
  std::string buf(size_t{64} * 1024, '\0');
  for (int64_t left = length; left > 0 && in;) {
    in.read(buf.data(), static_cast<std::streamsize>(
                            std::min<int64_t>(left, static_cast<int64_t>(buf.size()))));
    const std::streamsize got = in.gcount();
    if (got <= 0) break;
    out.write(buf.data(), got);
    left -= got;
  }
}

}  // namespace

void ServeDocument(Call& call) {
  auto catalog = call.BorrowCatalog();
  auto vis = LoadVisible(call, catalog.get(), call.path.at("id"));
  if (!vis) throw NotFound();
  SendJson(call.resp, HTTPResponse::HTTP_OK, DocumentJson(call, *vis));
}

void ServeContent(Call& call) {
  const int64_t n = VersionNumber(call);
  const std::string& id = call.path.at("id");
  auto catalog = call.BorrowCatalog();
  auto vis = LoadVisible(call, catalog.get(), id);
  const storage::VersionRow* version = vis ? vis->Find(n) : nullptr;
  if (!version) throw NotFound();
  const std::string etag = "\"" + version->sha256 + "\"";
  SetContentHeaders(call, *vis, etag);
  if (NotModified(call, etag)) {
    call.resp.setStatusAndReason(HTTPResponse::HTTP_NOT_MODIFIED);
    call.resp.setContentLength(0);
    call.resp.send();
    return;
  }
  const std::string path = call.ctx.blobs->PathOf(version->sha256);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    log::Error("blob missing for document " + id + " v" + std::to_string(n) + ": " + path);
    throw ApiError{HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "blob_missing",
                   "archived content is unavailable"};
  }
  SendBytes(call, in, ParseRange(call.req.get("Range", ""), version->size, call.resp),
            version->size);
}

void ServeProof(Call& call) {
  const int64_t n = VersionNumber(call);
  auto catalog = call.BorrowCatalog();
  auto vis = LoadVisible(call, catalog.get(), call.path.at("id"));
  const storage::VersionRow* version = vis ? vis->Find(n) : nullptr;
  if (!version) throw NotFound();
  const auto records = OrThrow(catalog->Records(version->log_index, 1));
  if (records.empty())
    throw std::runtime_error("record " + std::to_string(version->log_index) + " missing");
  const storage::RecordRow& r = records.front();
  const storage::CheckpointRow cp = LatestCheckpointOf(catalog.get());
  const auto path = OrThrow(storage::InclusionProof(
      static_cast<uint64_t>(r.seq), static_cast<uint64_t>(cp.size), catalog->Nodes()));
  JsonWriter w;
  w.BeginObject()
      .Field("log_index", r.seq)
      .Field("record", r.record)
      .Field("signature", r.signature)
      .Field("key_id", r.key_id)
      .Field("leaf_hash", r.leaf)
      .Field("tree_size", cp.size);
  w.Key("inclusion").BeginArray();
  for (const auto& h : path) w.String(storage::Hex(h));
  w.EndArray().Field("checkpoint", ServedCheckpoint(call, cp)).EndObject();
  SendJson(call.resp, HTTPResponse::HTTP_OK, w.str());
}

}  // namespace gongkai::daemon
