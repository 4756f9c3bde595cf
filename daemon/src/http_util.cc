#include "http_util.h"

#include "json_writer.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerResponse;

ApiError NotFound() {
  return {HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such document or version"};
}

std::string Call::Param(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? "" : it->second;
}

CatalogPool::Lease Call::BorrowCatalog() const { return OrThrow(ctx.catalogs->Borrow()); }

storage::CheckpointRow LatestCheckpointOf(storage::Catalog* catalog) {
  auto cp = OrThrow(catalog->LatestCheckpoint());
  if (!cp.has_value())
    throw ApiError{HTTPResponse::HTTP_NOT_FOUND, "empty_log", "the log has no records yet"};
  return std::move(*cp);
}

bool ParseInt(const std::string& s, int64_t lo, int64_t hi, int64_t* out) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  int64_t v = std::stoll(s);
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

void SendText(HTTPServerResponse& resp, HTTPResponse::HTTPStatus status,
              const std::string& content_type, const std::string& body) {
  resp.setStatusAndReason(status);
  resp.setContentType(content_type);
  resp.set("Cache-Control", "no-store");
  resp.setContentLength64(static_cast<Poco::UInt64>(body.size()));
  resp.send() << body;
}

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
  w.BeginObject()
      .Key("error")
      .BeginObject()
      .Field("code", e.code)
      .Field("message", e.message)
      .EndObject()
      .EndObject();
  if (e.status == HTTPResponse::HTTP_UNAUTHORIZED) resp.set("WWW-Authenticate", "Bearer");
  SendJson(resp, e.status, w.str());
}

}  // namespace gongkai::daemon
