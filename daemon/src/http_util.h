// What the API's handlers share: the request as the router parsed it, errors
// that become JSON error answers, and the answer helpers.
#pragma once

#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "auth.h"
#include "http_service.h"

namespace gongkai::daemon {

// An error a handler reports as an HTTP status with a JSON error body.
struct ApiError {
  Poco::Net::HTTPResponse::HTTPStatus status;
  std::string code;
  std::string message;
};

// The 404 for a document or version the caller may not see or that does not exist.
ApiError NotFound();

// One request, authenticated and routed: what a handler works from.
struct Call {
  const ServiceContext& ctx;
  Poco::Net::HTTPServerRequest& req;
  Poco::Net::HTTPServerResponse& resp;
  Role role = Role::kAnonymous;
  std::map<std::string, std::string> query;  // decoded, valid UTF-8
  std::map<std::string, std::string> path;   // the route's {placeholders}

  bool anonymous() const { return role == Role::kAnonymous; }
  // A query parameter, "" when absent.
  std::string Param(const std::string& name) const;
  // A catalog reader for this request. Throws std::runtime_error.
  CatalogPool::Lease BorrowCatalog() const;
  // Who the per-client limits count: the IPv4 address, or the IPv6 /64
  // (one household or office gets a /64, and each address in it its own
  // budget would be no limit at all).
  std::string ClientKey() const;
  // Counts an anonymous search (a query or a suggestion) against the
  // per-client limit, [daemon] anonymous_search_rate. Throws the 429
  // (rate_limited, Retry-After: 1) beyond it; tokens are not limited.
  void CountAnonymousSearch();
};

// The value of `r`. Throws std::runtime_error (a 500) on an error.
template <typename T>
T OrThrow(Result<T> r) {
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  return std::move(*r);
}

// The latest checkpoint. Throws ApiError (404 empty_log) before the first record.
storage::CheckpointRow LatestCheckpointOf(storage::Catalog* catalog);
// A checkpoint as served: its note with the witnesses' cosignatures for it.
std::string ServedCheckpoint(const Call& call, const storage::CheckpointRow& cp);

// Parses decimal digits only (no sign, at most 18) within [lo, hi].
bool ParseInt(const std::string& s, int64_t lo, int64_t hi, int64_t* out);
// ?year= as a year (2000 to 9999); 0 when absent and not `required`; else a
// 400 bad_request.
int YearParam(const Call& call, bool required);

// The request body, at most 64 KiB (413 beyond).
std::string ReadBody(Call& call);

// RunAdmin() at the service's target; its failures as answers: NotFound a
// 404, Invalid a 409 (the change cannot be made now; a 400 for a new
// disclosure request, whose input is at fault), Busy a 503.
AdminAnswer RunAdminOrThrow(Call& call, const AdminRequest& request);

// Sends `body` with `content_type` and no-store caching.
void SendText(Poco::Net::HTTPServerResponse& resp, Poco::Net::HTTPResponse::HTTPStatus status,
              const std::string& content_type, const std::string& body);
void SendJson(Poco::Net::HTTPServerResponse& resp, Poco::Net::HTTPResponse::HTTPStatus status,
              const std::string& body);
void SendError(Poco::Net::HTTPServerResponse& resp, const ApiError& e);
// Sends `body` with 200 and `content_type`, gzip-compressed when the client
// accepts gzip and the body is long enough to gain from it. Headers set
// before (Cache-Control) are kept; Vary names Accept-Encoding.
void SendPacked(Call& call, const std::string& content_type, const std::string& body);

}  // namespace gongkai::daemon
