#include "http_service.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <fstream>
#include <set>

#include "gongkai/indexer/extract.h"
#include "gongkai/log.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/utf8.h"
#include "freshness.h"
#include "http_server.h"
#include "json_writer.h"
#include "web_assets.h"

namespace gongkai::daemon {

using Poco::Net::HTTPMessage;
using Poco::Net::HTTPRequestHandler;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

Result<CatalogPool::Lease> CatalogPool::Borrow() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      auto c = std::move(free_.back());
      free_.pop_back();
      return Lease(this, std::move(c));
    }
  }
  auto c = storage::OpenSqliteCatalog(path_, env_);
  if (!c.ok()) return c.status();
  return Lease(this, std::move(*c));
}

void CatalogPool::Return(std::unique_ptr<storage::Catalog> c) {
  std::lock_guard<std::mutex> lock(mutex_);
  free_.push_back(std::move(c));
}

namespace {

// An error that a handler reports as an HTTP status with a JSON body.
struct ApiError {
  HTTPResponse::HTTPStatus status;
  std::string code;
  std::string message;
};

ApiError NotFound() { return {HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such document or version"}; }

void SendJson(HTTPServerResponse& resp, HTTPResponse::HTTPStatus status, const std::string& body) {
  resp.setStatusAndReason(status);
  resp.setContentType("application/json; charset=utf-8");
  resp.set("Cache-Control", "no-store");
  resp.set("X-Content-Type-Options", "nosniff");
  resp.setContentLength64(static_cast<Poco::UInt64>(body.size()));
  resp.send() << body;
}

void SendError(HTTPServerResponse& resp, const ApiError& e) {
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject().Field("code", e.code).Field("message", e.message).EndObject().EndObject();
  if (e.status == HTTPResponse::HTTP_UNAUTHORIZED) resp.set("WWW-Authenticate", "Bearer");
  SendJson(resp, e.status, w.str());
}

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));  // URI::getPath() has decoded already
    i = j + 1;
  }
  return out;
}

bool ParseInt(const std::string& s, int64_t lo, int64_t hi, int64_t* out) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  int64_t v = std::stoll(s);
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

const char* MediaType(const std::string& type) {
  static const std::map<std::string, const char*> k = {
      {"txt", "text/plain"}, {"md", "text/markdown"}, {"csv", "text/csv"},
      {"html", "text/html"}, {"json", "application/json"}, {"xml", "application/xml"},
      {"pdf", "application/pdf"}, {"zip", "application/zip"}, {"ofd", "application/ofd"},
      {"doc", "application/msword"}, {"xls", "application/vnd.ms-excel"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
      {"odt", "application/vnd.oasis.opendocument.text"},
      {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
      {"wps", "application/vnd.ms-works"}, {"7z", "application/x-7z-compressed"},
      {"tar", "application/x-tar"}, {"gz", "application/gzip"}};
  auto it = k.find(type);
  return it == k.end() ? "application/octet-stream" : it->second;
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

class ApiHandler final : public HTTPRequestHandler {
 public:
  explicit ApiHandler(const ServiceContext& ctx) : ctx_(ctx) {}

  void handleRequest(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    const auto started = std::chrono::steady_clock::now();
    Serve(req, resp);
    if (ctx_.metrics)
      ctx_.metrics->Record(route_, static_cast<int>(resp.getStatus()), std::chrono::steady_clock::now() - started);
  }

 private:
  void Serve(HTTPServerRequest& req, HTTPServerResponse& resp) {
    try {
      Route(req, resp);
    } catch (const ApiError& e) {
      if (!resp.sent()) SendError(resp, e);
    } catch (const Poco::Exception& e) {
      log::Error("HTTP " + req.getMethod() + " " + req.getURI() + ": " + e.displayText());
      if (!resp.sent()) SendError(resp, {HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal", "internal error"});
    } catch (const std::exception& e) {
      log::Error("HTTP " + req.getMethod() + " " + req.getURI() + ": " + e.what());
      if (!resp.sent()) SendError(resp, {HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal", "internal error"});
    } catch (...) {
      if (!resp.sent()) SendError(resp, {HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal", "internal error"});
    }
  }

  void Route(HTTPServerRequest& req, HTTPServerResponse& resp) {
    // A space inside the request target ("GET /search?q=a b HTTP/1.1")
    // leaves Poco with the version `b`, which its response would echo
    // in the status line.
    if (req.getVersion() != HTTPMessage::HTTP_1_1 && req.getVersion() != HTTPMessage::HTTP_1_0) {
      resp.setVersion(HTTPMessage::HTTP_1_1);
      resp.setKeepAlive(false);
      throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "malformed request line"};
    }
    // Both framings at once is how requests are smuggled past proxies.
    if (req.has("Transfer-Encoding") && req.has("Content-Length"))
      throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "both Content-Length and Transfer-Encoding"};
    Poco::URI uri;
    std::vector<std::pair<std::string, std::string>> query;
    try {
      uri = Poco::URI(req.getURI());
      query = uri.getQueryParameters();
    } catch (const Poco::Exception&) {
      throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "malformed URI"};
    }
    const std::vector<std::string> seg = Split(uri.getPath());
    params_.clear();
    for (const auto& [k, v] : query) {
      if (!IsValidUtf8(k) || !IsValidUtf8(v))
        throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "query parameters must be UTF-8"};
      params_[k] = v;
    }

    auto auth = ctx_.tokens->Authenticate(req.get("Authorization", ""));
    if (!auth) throw ApiError{HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", "invalid token"};
    role_ = *auth;

    const bool get = req.getMethod() == "GET" || req.getMethod() == "HEAD";
    if (seg.size() == 1 && seg[0] == "healthz") {
      route_ = "healthz";
      RequireGet(get);
      // 503 while ingest is paused (a full or failing data folder); searches
      // still work. Only inspectors learn why: the reason may name a file.
      const std::string problem = ctx_.storage_problem ? ctx_.storage_problem() : "";
      if (problem.empty()) return SendJson(resp, HTTPResponse::HTTP_OK, "{\"status\":\"ok\"}");
      JsonWriter w;
      w.BeginObject().Field("status", "degraded");
      if (!Anonymous()) w.Field("problem", problem);
      w.EndObject();
      return SendJson(resp, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, w.str());
    }
    if (seg.empty() || (seg.size() == 2 && seg[0] == "static")) {
      route_ = "page";
      RequireGet(get);
      return Asset(resp, seg.empty() ? "index.html" : seg[1]);
    }
    if (seg.size() == 1 && seg[0] == "metrics") {
      route_ = "metrics";
      RequireGet(get);
      return Metrics(resp);
    }
    if (seg.size() < 3 || seg[0] != "api" || seg[1] != "v1") throw ApiError{HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such endpoint"};
    const std::string& what = seg[2];
    route_ = what;
    if (what == "search" && seg.size() == 3) {
      RequireGet(get);
      return Search(req, resp);
    }
    if (what == "status" && seg.size() == 3) {
      RequireGet(get);
      if (role_ == Role::kAnonymous) throw ApiError{HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", "an inspector token is required"};
      return SendJson(resp, HTTPResponse::HTTP_OK, ctx_.status_json());
    }
    if (what == "documents" && seg.size() == 4) {
      RequireGet(get);
      return Document(resp, seg[3]);
    }
    if (what == "documents" && seg.size() == 5 && (seg[4] == "approve" || seg[4] == "classification")) {
      if (req.getMethod() != "POST")
        throw ApiError{HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "use POST"};
      route_ = seg[4];
      return Change(req, resp, seg[3], seg[4]);
    }
    if (what == "documents" && seg.size() == 7 && seg[4] == "versions" &&
        (seg[6] == "content" || seg[6] == "proof")) {
      RequireGet(get);
      int64_t n = 0;
      if (!ParseInt(seg[5], 1, INT64_C(1) << 40, &n)) throw NotFound();
      route_ = seg[6];
      if (seg[6] == "proof") return Proof(resp, seg[3], n);
      return Content(req, resp, seg[3], n);
    }
    if (what == "log" && seg.size() == 4) {
      RequireGet(get);
      route_ = seg[3];
      if (seg[3] == "checkpoint") return LatestCheckpoint(resp);
      if (seg[3] == "consistency") return Consistency(resp);
      if (seg[3] == "entries") return Entries(resp);
    }
    if (what == "reports" && seg.size() == 4 && seg[3] == "freshness") {
      RequireGet(get);
      return FreshnessReport(resp);
    }
    if (what == "keys" && seg.size() == 3) {
      RequireGet(get);
      return Keys(resp);
    }
    route_ = "other";
    throw ApiError{HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such endpoint"};
  }

  void FreshnessReport(HTTPServerResponse& resp) {
    if (Anonymous()) throw ApiError{HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", "an inspector token is required"};
    const std::string as_of = Param("as_of").empty() ? TodayUtc() : Param("as_of");
    auto catalog = BorrowCatalog();
    auto lines = Freshness(*ctx_.config, catalog.get(), as_of);
    if (!lines.ok()) throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", lines.status().message()};
    if (Param("format") == "csv") {
      const std::string csv = FreshnessCsv(*lines);
      resp.setStatusAndReason(HTTPResponse::HTTP_OK);
      resp.setContentType("text/csv; charset=utf-8");
      resp.set("Content-Disposition", "attachment; filename=\"freshness-" + as_of + ".csv\"");
      resp.setContentLength64(csv.size());
      resp.send() << csv;
      return;
    }
    SendJson(resp, HTTPResponse::HTTP_OK, FreshnessJson(as_of, *lines));
  }

  void Asset(HTTPServerResponse& resp, const std::string& name) {
    auto it = WebAssets().find(name);
    if (it == WebAssets().end()) throw ApiError{HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such file"};
    const std::string ext = name.substr(name.rfind('.') + 1);
    const char* type = ext == "html" ? "text/html; charset=utf-8"
                       : ext == "js" ? "text/javascript; charset=utf-8"
                       : ext == "css" ? "text/css; charset=utf-8"
                       : ext == "svg" ? "image/svg+xml"
                                      : "application/octet-stream";
    resp.setStatusAndReason(HTTPResponse::HTTP_OK);
    resp.setContentType(type);
    resp.set("Cache-Control", "no-cache");
    resp.set("X-Content-Type-Options", "nosniff");
    resp.set("Content-Security-Policy",
             "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'");
    resp.setContentLength64(it->second.size());
    resp.send().write(it->second.data(), static_cast<std::streamsize>(it->second.size()));
  }

  void Metrics(HTTPServerResponse& resp) {
    std::string out;
    if (ctx_.metrics) ctx_.metrics->Render(out);
    if (!Anonymous() && ctx_.archive_metrics) out += ctx_.archive_metrics();
    resp.setStatusAndReason(HTTPResponse::HTTP_OK);
    resp.setContentType("text/plain; version=0.0.4; charset=utf-8");
    resp.set("Cache-Control", "no-store");
    resp.setContentLength64(out.size());
    resp.send() << out;
  }

  static void RequireGet(bool get) {
    if (!get) throw ApiError{HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "use GET"};
  }

  std::string Param(const std::string& k) const {
    auto it = params_.find(k);
    return it == params_.end() ? "" : it->second;
  }

  bool Anonymous() const { return role_ == Role::kAnonymous; }

  // What the caller may see of a document: nullopt = nothing (404). For
  // anonymous callers: public documents, approved versions only.
  struct Visible {
    storage::DocumentRow doc;
    std::vector<storage::VersionRow> versions;
    const storage::VersionRow* Find(int64_t n) const {
      for (const auto& v : versions)
        if (v.version == n) return &v;
      return nullptr;
    }
  };

  CatalogPool::Lease BorrowCatalog() {
    auto lease = ctx_.catalogs->Borrow();
    if (!lease.ok()) throw std::runtime_error(lease.status().ToString());
    return std::move(*lease);
  }
  // The document and the versions of it this caller may see (ledger's rule);
  // nullopt when it does not exist for this caller.
  std::optional<Visible> Load(storage::Catalog* catalog, const std::string& id) {
    auto state = ledger::LoadDocument(*catalog, id);
    if (!state.ok()) throw std::runtime_error(state.status().ToString());
    if (!state->has_value()) return std::nullopt;
    std::vector<storage::VersionRow> versions = ledger::VisibleVersions(role_, **state);
    if (versions.empty()) return std::nullopt;
    return Visible{std::move((*state)->doc), std::move(versions)};
  }

  void Search(HTTPServerRequest& req, HTTPServerResponse& resp) {
    if (Anonymous() && ctx_.anonymous_search_limit &&
        !ctx_.anonymous_search_limit->Allow(req.clientAddress().host().toString())) {
      resp.set("Retry-After", "1");
      throw ApiError{HTTPResponse::HTTP_TOO_MANY_REQUESTS, "rate_limited", "too many searches; try again in a second"};
    }
    indexer::SearchQuery q;
    q.q = Param("q");
    q.share = Param("share");
    q.office = Param("office");
    q.type = Param("type");
    q.category = Param("category");
    q.anonymous = Anonymous();
    auto is_date = [](const std::string& v) {
      return v.size() == 10 && v[4] == '-' && v[7] == '-' &&
             v.find_first_not_of("0123456789-") == std::string::npos;
    };
    q.from = Param("from");
    q.to = Param("to");
    if ((!q.from.empty() && !is_date(q.from)) || (!q.to.empty() && !is_date(q.to)))
      throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "from and to are dates, YYYY-MM-DD"};
    q.sort = Param("sort");
    if (!q.sort.empty() && q.sort != "relevance" && q.sort != "newest" && q.sort != "oldest")
      throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "sort is relevance, newest or oldest"};
    int64_t v = 0;
    if (!Param("limit").empty()) {
      if (!ParseInt(Param("limit"), 0, 100, &v)) throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "limit must be 0-100"};
      q.limit = static_cast<int>(v);
    }
    if (!Param("offset").empty()) {
      if (!ParseInt(Param("offset"), 0, 1'000'000, &v)) throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "offset must be 0-1000000"};
      q.offset = static_cast<int>(v);
    }
    std::string status = Param("status");
    if (!status.empty()) {
      if (status != "active" && status != "withdrawn" && status != "all")
        throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "status must be active, withdrawn or all"};
      q.status = status;
    }
    if (q.q.size() > 1000) throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "query longer than 1000 bytes"};
    if (std::count(q.q.begin(), q.q.end(), '(') > 16)
      throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "query nested too deeply"};
    auto result = ctx_.searcher->Search(q);
    if (!result.ok() && result.status().code() == Status::Code::kInvalid)
      throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", result.status().message()};
    if (!result.ok()) throw std::runtime_error(result.status().ToString());
    auto catalog = BorrowCatalog();

    JsonWriter w;
    w.BeginObject().Field("total", result->total).Field("offset", q.offset).Field("limit", q.limit);
    w.Key("results").BeginArray();
    // Second line of defence: every hit an anonymous caller gets is
    // re-checked on the catalog (one query for the page).
    std::map<std::string, ledger::DocumentState> states;
    if (Anonymous()) {
      std::vector<std::string> ids;
      for (const auto& h : result->hits) ids.push_back(h.doc.id);
      auto found = ledger::LoadDocuments(*catalog.get(), ids);
      if (!found.ok()) throw std::runtime_error(found.status().ToString());
      states = std::move(*found);
    }
    for (const indexer::SearchHit& h : result->hits) {
      if (Anonymous()) {
        auto it = states.find(h.doc.id);
        auto shown = it == states.end() ? std::nullopt : ledger::ShownVersion(role_, it->second);
        if (!shown || shown->version != h.doc.version) continue;
      }
      const indexer::IndexDoc& d = h.doc;
      w.BeginObject()
          .Field("id", d.id)
          .Field("share", d.share)
          .Field("path", d.path)
          .Field("office", d.office)
          .Field("title", d.title)
          .Field("type", d.type)
          .Field("version", d.version)
          .Field("sha256", d.sha256)
          .Field("size", d.size)
          .Field("modified", d.modified)
          .Field("published", d.published)
          .Field("status", d.status)
          .Field("snippet", h.snippet)
          .EndObject();
    }
    w.EndArray();
    w.Key("facets").BeginObject();
    for (const auto& [name, values] : result->facets) {
      w.Key(name).BeginObject();
      for (const auto& [value, count] : values) w.Field(value, count);
      w.EndObject();
    }
    w.EndObject().EndObject();
    SendJson(resp, HTTPResponse::HTTP_OK, w.str());
  }

  void Document(HTTPServerResponse& resp, const std::string& id) {
    auto catalog = BorrowCatalog();
    auto vis = Load(catalog.get(), id);
    if (!vis) throw NotFound();
    const storage::VersionRow& shown = vis->versions.back();
    std::string title, text_note;  // from the index entry of the version this caller sees
    if (auto indexed = ctx_.searcher->Get(id, Anonymous()); indexed.ok() && indexed->version == shown.version) {
      title = indexed->title;
      text_note = indexed->text_note;
    }
    if (title.empty()) title = vis->doc.path.substr(vis->doc.path.rfind('/') + 1);
    std::string office = vis->doc.share;
    for (const ShareConfig& s : ctx_.config->shares)
      if (s.name == vis->doc.share) office = s.office;
    const storage::VersionRow& latest = vis->versions.back();
    JsonWriter w;
    w.BeginObject()
        .Field("id", vis->doc.id)
        .Field("share", vis->doc.share)
        .Field("path", vis->doc.path)
        .Field("office", office)
        .Field("title", title)
        .Field("type", indexer::TypeFromName(vis->doc.path))
        .Field("status", vis->doc.status)
        .Field("classification", vis->doc.classification)
        .Field("review", latest.review)
        .Field("created", vis->doc.created)
        // A hidden pending version or event must not show through `updated`.
        .Field("updated", Anonymous() ? shown.archived : vis->doc.updated);
    // Why its text is not (fully) searchable: for inspectors only, as a
    // parser failure is nobody else's business.
    if (!Anonymous()) w.Field("text_note", text_note);
    w.Key("meta").Raw(latest.meta.empty() ? "{}" : latest.meta);
    w.Key("versions").BeginArray();
    for (const storage::VersionRow& v : vis->versions) WriteVersion(w, v);
    w.EndArray().EndObject();
    SendJson(resp, HTTPResponse::HTTP_OK, w.str());
  }

  void Content(HTTPServerRequest& req, HTTPServerResponse& resp, const std::string& id, int64_t n) {
    auto catalog = BorrowCatalog();
    auto vis = Load(catalog.get(), id);
    const storage::VersionRow* version = vis ? vis->Find(n) : nullptr;
    if (!version) throw NotFound();
    const std::string etag = "\"" + version->sha256 + "\"";
    const std::string type = indexer::TypeFromName(vis->doc.path);
    resp.set("ETag", etag);
    resp.set("Accept-Ranges", "bytes");
    resp.set("Cache-Control", Anonymous() ? "public, max-age=86400, immutable" : "private, max-age=86400, immutable");
    resp.set("X-Content-Type-Options", "nosniff");
    resp.set("Content-Security-Policy", "sandbox");  // archived HTML must not run scripts here
    resp.set("Content-Disposition", Disposition(vis->doc.path));
    resp.setContentType(MediaType(type));
    std::string inm = req.get("If-None-Match", "");
    if (!inm.empty() && (inm == etag || inm == "*" || inm.find(etag) != std::string::npos)) {
      resp.setStatusAndReason(HTTPResponse::HTTP_NOT_MODIFIED);
      resp.setContentLength(0);
      resp.send();
      return;
    }
    const std::string path = ctx_.blobs->PathOf(version->sha256);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      log::Error("blob missing for document " + id + " v" + std::to_string(n) + ": " + path);
      throw ApiError{HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "blob_missing", "archived content is unavailable"};
    }
    const int64_t size = version->size;
    int64_t first = 0, last = size - 1;
    std::string range = req.get("Range", "");
    bool partial = false;
    if (!range.empty() && range.rfind("bytes=", 0) == 0 && range.find(',') == std::string::npos) {
      std::string spec = range.substr(6);
      size_t dash = spec.find('-');
      int64_t a = -1, b = -1;
      bool ok = dash != std::string::npos;
      if (ok && dash > 0) ok = ParseInt(spec.substr(0, dash), 0, INT64_MAX / 2, &a);
      if (ok && dash + 1 < spec.size()) ok = ParseInt(spec.substr(dash + 1), 0, INT64_MAX / 2, &b);
      if (ok && a < 0 && b > 0) {  // suffix: last b bytes
        first = std::max<int64_t>(0, size - b);
        partial = true;
      } else if (ok && a >= 0) {
        if (a >= size) {
          resp.set("Content-Range", "bytes */" + std::to_string(size));
          throw ApiError{HTTPResponse::HTTP_REQUESTED_RANGE_NOT_SATISFIABLE, "bad_range", "range not satisfiable"};
        }
        first = a;
        if (b >= 0) last = std::min(b, size - 1);
        partial = last >= first;
        if (!partial) first = 0, last = size - 1;
      }
    }
    if (partial) {
      resp.setStatusAndReason(HTTPResponse::HTTP_PARTIAL_CONTENT);
      resp.set("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                                    std::to_string(size));
    }
    const int64_t length = size == 0 ? 0 : last - first + 1;
    resp.setContentLength64(static_cast<Poco::UInt64>(length));
    std::ostream& out = resp.send();
    if (req.getMethod() == "HEAD") return;
    in.seekg(first);
    std::string buf(64 * 1024, '\0');
    int64_t left = length;
    while (left > 0 && in) {
      in.read(buf.data(), static_cast<std::streamsize>(std::min<int64_t>(left, static_cast<int64_t>(buf.size()))));
      std::streamsize got = in.gcount();
      if (got <= 0) break;
      out.write(buf.data(), got);
      left -= got;
    }
  }

  static std::string HexOf(const storage::Digest& d) { return storage::Hex(d); }

  // POST .../approve and .../classification (admin only).
  void Change(HTTPServerRequest& req, HTTPServerResponse& resp, const std::string& id, const std::string& what) {
    if (role_ == Role::kAnonymous) throw ApiError{HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", "an admin token is required"};
    if (role_ != Role::kAdmin) throw ApiError{HTTPResponse::HTTP_FORBIDDEN, "forbidden", "an admin token is required"};
    std::string body;
    const std::streamsize limit = 64 * 1024;
    body.resize(static_cast<size_t>(limit) + 1);
    req.stream().read(body.data(), limit + 1);
    body.resize(static_cast<size_t>(req.stream().gcount()));
    if (static_cast<std::streamsize>(body.size()) > limit)
      throw ApiError{HTTPResponse::HTTP_REQUESTENTITYTOOLARGE, "too_large", "request body over 64 KiB"};
    ledger::Change change;
    change.doc_id = id;
    if (what == "approve") {
      change.kind = ledger::Change::Kind::kApprove;
    } else {
      change.kind = ledger::Change::Kind::kClassify;
      std::string value;
      try {
        auto o = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
        value = o->optValue<std::string>("classification", "");
      } catch (const std::exception&) {
        throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "body must be {\"classification\": \"public\"|\"restricted\"}"};
      }
      if (value != "public" && value != "restricted")
        throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "classification must be public or restricted"};
      change.classification = value;
    }
    {
      auto catalog = BorrowCatalog();
      auto doc = catalog->GetDocument(id);
      if (!doc.ok()) throw std::runtime_error(doc.status().ToString());
      if (!doc->has_value()) throw NotFound();
      if (what == "classification" && (*doc)->classification == change.classification) {
        JsonWriter w;
        w.BeginObject().Field("id", id).Field("classification", change.classification).Field("changed", false).EndObject();
        return SendJson(resp, HTTPResponse::HTTP_OK, w.str());
      }
    }
    auto done = ctx_.submit(change);
    if (!done.ok()) {
      if (done.status().code() == Status::Code::kInvalid)
        throw ApiError{HTTPResponse::HTTP_CONFLICT, "conflict", done.status().message()};
      if (done.status().code() == Status::Code::kBusy)
        throw ApiError{HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "busy", done.status().message()};
      throw std::runtime_error(done.status().ToString());
    }
    // Answer only once searches reflect the change: after a "restricted" call
    // returns, no anonymous search may still find or count the document.
    const bool indexed = !ctx_.wait_indexed || ctx_.wait_indexed(done->record.seq);
    if (!indexed) log::Warning("index still behind record " + std::to_string(done->record.seq) + " after 10 s");
    JsonWriter w;
    w.BeginObject().Field("id", id).Field("version", done->version).Field("log_index", done->record.seq);
    w.Field("indexed", indexed);
    if (what == "approve") w.Field("review", "approved");
    else w.Field("classification", change.classification);
    w.Field("changed", true).EndObject();
    SendJson(resp, HTTPResponse::HTTP_OK, w.str());
  }

  storage::CheckpointRow Latest(storage::Catalog* catalog) {
    auto cp = catalog->LatestCheckpoint();
    if (!cp.ok()) throw std::runtime_error(cp.status().ToString());
    if (!cp->has_value()) throw ApiError{HTTPResponse::HTTP_NOT_FOUND, "empty_log", "the log has no records yet"};
    return **cp;
  }

  void Proof(HTTPServerResponse& resp, const std::string& id, int64_t n) {
    auto catalog = BorrowCatalog();
    auto vis = Load(catalog.get(), id);
    const storage::VersionRow* version = vis ? vis->Find(n) : nullptr;
    if (!version) throw NotFound();
    auto records = catalog->Records(version->log_index, 1);
    if (!records.ok()) throw std::runtime_error(records.status().ToString());
    if (records->empty()) throw std::runtime_error("record " + std::to_string(version->log_index) + " missing");
    const storage::RecordRow& r = records->front();
    const storage::CheckpointRow cp = Latest(catalog.get());
    auto path = storage::InclusionProof(static_cast<uint64_t>(r.seq), static_cast<uint64_t>(cp.size),
                                        catalog->Nodes());
    if (!path.ok()) throw std::runtime_error(path.status().ToString());
    JsonWriter w;
    w.BeginObject()
        .Field("log_index", r.seq)
        .Field("record", r.record)
        .Field("signature", r.signature)
        .Field("key_id", r.key_id)
        .Field("leaf_hash", r.leaf)
        .Field("tree_size", cp.size);
    w.Key("inclusion").BeginArray();
    for (const auto& h : *path) w.String(HexOf(h));
    w.EndArray().Field("checkpoint", cp.text).EndObject();
    SendJson(resp, HTTPResponse::HTTP_OK, w.str());
  }

  void LatestCheckpoint(HTTPServerResponse& resp) {
    auto catalog = BorrowCatalog();
    const storage::CheckpointRow cp = Latest(catalog.get());
    resp.setStatusAndReason(HTTPResponse::HTTP_OK);
    resp.setContentType("text/plain; charset=utf-8");
    resp.set("Cache-Control", "no-store");
    resp.setContentLength64(cp.text.size());
    resp.send() << cp.text;
  }

  void Consistency(HTTPServerResponse& resp) {
    auto catalog = BorrowCatalog();
    const storage::CheckpointRow cp = Latest(catalog.get());
    int64_t from = 0, to = cp.size;
    if (!ParseInt(Param("from"), 0, cp.size, &from) ||
        (!Param("to").empty() && !ParseInt(Param("to"), from, cp.size, &to)))
      throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request",
                     "need 0 <= from <= to <= " + std::to_string(cp.size) + " (the latest tree size)"};
    auto proof = storage::ConsistencyProof(static_cast<uint64_t>(from), static_cast<uint64_t>(to), catalog->Nodes());
    if (!proof.ok()) throw std::runtime_error(proof.status().ToString());
    JsonWriter w;
    w.BeginObject().Field("from", from).Field("to", to).Key("proof").BeginArray();
    for (const auto& h : *proof) w.String(HexOf(h));
    w.EndArray().EndObject();
    SendJson(resp, HTTPResponse::HTTP_OK, w.str());
  }

  void Entries(HTTPServerResponse& resp) {
    if (Anonymous()) throw ApiError{HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", "an inspector token is required"};
    auto catalog = BorrowCatalog();
    int64_t start = 0, end = 0;
    if (!ParseInt(Param("start").empty() ? "0" : Param("start"), 0, INT64_C(1) << 50, &start) ||
        (!Param("end").empty() && !ParseInt(Param("end"), start, INT64_C(1) << 50, &end)))
      throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "need 0 <= start <= end"};
    constexpr int64_t kMax = 1000;
    if (Param("end").empty()) end = start + kMax;
    auto records = catalog->Records(start, std::min(end - start, kMax));
    if (!records.ok()) throw std::runtime_error(records.status().ToString());
    JsonWriter w;
    w.BeginObject().Key("entries").BeginArray();
    for (const auto& r : *records)
      w.BeginObject()
          .Field("log_index", r.seq)
          .Field("record", r.record)
          .Field("signature", r.signature)
          .Field("key_id", r.key_id)
          .EndObject();
    w.EndArray().EndObject();
    SendJson(resp, HTTPResponse::HTTP_OK, w.str());
  }

  void Keys(HTTPServerResponse& resp) {
    auto catalog = BorrowCatalog();
    auto keys = catalog->Keys();
    if (!keys.ok()) throw std::runtime_error(keys.status().ToString());
    JsonWriter w;
    w.BeginObject().Key("keys").BeginArray();
    for (const auto& k : *keys) {
      auto raw = storage::RawPublicFromPem(k.public_pem);
      w.BeginObject()
          .Field("key_id", k.key_id)
          .Field("algorithm", "ed25519")
          .Field("public_key_pem", k.public_pem)
          .Field("note_key", raw.ok() ? storage::NoteVerifierKey(ctx_.config->origin, *raw) : "")
          .Field("created", k.created);
      w.Key("retired");
      if (k.retired.empty()) w.Null();
      else w.String(k.retired);
      w.EndObject();
    }
    w.EndArray().EndObject();
    SendJson(resp, HTTPResponse::HTTP_OK, w.str());
  }

  const ServiceContext& ctx_;
  std::map<std::string, std::string> params_;
  Role role_ = Role::kAnonymous;
  std::string route_ = "other";
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(const ServiceContext& ctx) : ctx_(ctx) {}
  HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override { return new ApiHandler(ctx_); }

 private:
  const ServiceContext& ctx_;
};

}  // namespace

const std::vector<RouteInfo>& ApiRoutes() {
  static const std::vector<RouteInfo> k = {
      {"GET", "/"},
      {"GET", "/static/{name}"},
      {"GET", "/healthz"},
      {"GET", "/metrics"},
      {"GET", "/api/v1/search"},
      {"GET", "/api/v1/status"},
      {"GET", "/api/v1/documents/{id}"},
      {"POST", "/api/v1/documents/{id}/approve"},
      {"POST", "/api/v1/documents/{id}/classification"},
      {"GET", "/api/v1/documents/{id}/versions/{n}/content"},
      {"GET", "/api/v1/documents/{id}/versions/{n}/proof"},
      {"GET", "/api/v1/log/checkpoint"},
      {"GET", "/api/v1/log/consistency"},
      {"GET", "/api/v1/log/entries"},
      {"GET", "/api/v1/keys"},
      {"GET", "/api/v1/reports/freshness"},
  };
  return k;
}

HttpService::HttpService(ServiceContext ctx) : ctx_(std::move(ctx)) {}
HttpService::~HttpService() { Stop(); }

Status HttpService::Start() {
  try {
    Poco::Net::SocketAddress addr(ctx_.config->listen_host, ctx_.config->listen_port);
    Poco::Net::ServerSocket socket(addr, 128);
    port_ = socket.address().port();
    // One thread serves one connection at a time, so clients that hold
    // connections are bounded: a cap per client address, a deadline for each
    // request's headers, 10 s per read of a body, 5 s idle between kept-alive
    // requests, at most 100 requests per connection. Connections beyond the
    // threads wait in a bounded queue.
    const int threads = ctx_.config->http_threads;
    pool_ = std::make_unique<Poco::ThreadPool>(std::min(threads, 4), threads, 60);
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(threads);
    params->setMaxQueued(512);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(5, 0));
    params->setMaxKeepAliveRequests(100);
    params->setTimeout(Poco::Timespan(10, 0));
    params->setServerName("gongkai");
    const GuardedHttpServer::Limits limits{ctx_.config->max_connections_per_client,
                                           ctx_.config->request_header_timeout};
    server_ = std::make_unique<GuardedHttpServer>(new Factory(ctx_), *pool_, socket, params, limits);
    server_->Start();
    return Status::OK();
  } catch (const Poco::Exception& e) {
    return Status::IOError("[daemon] listen: cannot listen on " + ctx_.config->listen_host + ":" +
                           std::to_string(ctx_.config->listen_port) + ": " + e.displayText());
  }
}

void HttpService::Stop() {
  if (server_) {
    server_->Stop();
    server_.reset();
  }
  if (pool_) {
    pool_->joinAll();
    pool_.reset();
  }
}

}  // namespace gongkai::daemon
