#include "http_util.h"

#include <Poco/DeflatingStream.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

#include <sstream>

#include "json_writer.h"
#include "witness_client.h"

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

std::string Call::ClientKey() const {
  Poco::Net::IPAddress host = req.clientAddress().host();
  if (host.family() == Poco::Net::IPAddress::IPv6 && !host.isIPv4Mapped())
    host.mask(Poco::Net::IPAddress(64, Poco::Net::IPAddress::IPv6));
  return host.toString();
}

void Call::CountAnonymousSearch() {
  if (anonymous() && ctx.anonymous_search_limit &&
      !ctx.anonymous_search_limit->Allow(ClientKey())) {
    resp.set("Retry-After", "1");
    throw ApiError{HTTPResponse::HTTP_TOO_MANY_REQUESTS, "rate_limited",
                   "too many searches; try again in a second"};
  }
}

std::string ReadBody(Call& call) {
  constexpr std::streamsize kLimit = std::streamsize{64} * 1024;
  std::string body(static_cast<size_t>(kLimit) + 1, '\0');
  call.req.stream().read(body.data(), kLimit + 1);
  body.resize(static_cast<size_t>(call.req.stream().gcount()));
  if (static_cast<std::streamsize>(body.size()) > kLimit) {
    // Read on and drop up to 1 MiB more: closing with the client's bytes
    // unread would reset the connection, and the client, still sending,
    // might never see the 413.
    std::streamsize drained = 0;
    char sink[16384];
    while (drained < (std::streamsize{1} << 20) && call.req.stream().read(sink, sizeof sink))
      drained += call.req.stream().gcount();
    throw ApiError{HTTPResponse::HTTP_REQUESTENTITYTOOLARGE, "too_large",
                   "request body over 64 KiB"};
  }
  return body;
}

AdminAnswer RunAdminOrThrow(Call& call, const AdminRequest& request) {
  auto done = RunAdmin(request, *call.ctx.admin);
  if (done.ok()) return std::move(*done);
  switch (done.status().code()) {
    case Status::Code::kNotFound:
      if (request.kind == AdminRequest::Kind::kRequestEvent)
        throw ApiError{HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such request"};
      throw NotFound();
    case Status::Code::kInvalid:  // new input conflicts with nothing: it is bad
      if (request.kind == AdminRequest::Kind::kRegisterRequest ||
          request.kind == AdminRequest::Kind::kReportFigures)
        throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", done.status().message()};
      throw ApiError{HTTPResponse::HTTP_CONFLICT, "conflict", done.status().message()};
    case Status::Code::kBusy:
      throw ApiError{HTTPResponse::HTTP_SERVICE_UNAVAILABLE, "busy", done.status().message()};
    default:
      throw std::runtime_error(done.status().ToString());
  }
}

storage::CheckpointRow LatestCheckpointOf(storage::Catalog* catalog) {
  auto cp = OrThrow(catalog->LatestCheckpoint());
  if (!cp.has_value())
    throw ApiError{HTTPResponse::HTTP_NOT_FOUND, "empty_log", "the log has no records yet"};
  return std::move(*cp);
}

std::string ServedCheckpoint(const Call& call, const storage::CheckpointRow& cp) {
  return call.ctx.witnesses ? call.ctx.witnesses->Cosigned(cp.text) : cp.text;
}

bool ParseInt(const std::string& s, int64_t lo, int64_t hi, int64_t* out) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  int64_t v = std::stoll(s);
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

int YearParam(const Call& call, bool required) {
  int64_t year = 0;
  if (call.Param("year").empty() && !required) return 0;
  if (!ParseInt(call.Param("year"), 2000, 9999, &year))
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "year must be a year, e.g. 2026"};
  return static_cast<int>(year);
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

namespace {

// Whether Accept-Encoding names gzip without refusing it (q=0).
bool AcceptsGzip(const Poco::Net::HTTPServerRequest& req) {
  Poco::StringTokenizer codings(req.get("Accept-Encoding", ""), ",",
                                Poco::StringTokenizer::TOK_TRIM);
  for (const std::string& coding : codings) {
    Poco::StringTokenizer parts(coding, ";", Poco::StringTokenizer::TOK_TRIM);
    if (parts.count() > 0 && Poco::icompare(parts[0], "gzip") == 0)
      return parts.count() < 2 || (parts[1] != "q=0" && parts[1] != "q=0.0");
  }
  return false;
}

}  // namespace

void SendPacked(Call& call, const std::string& content_type, const std::string& body) {
  constexpr size_t kWorthPacking = 1024;
  call.resp.setStatusAndReason(HTTPResponse::HTTP_OK);
  call.resp.setContentType(content_type);
  call.resp.set("Vary", "Accept-Encoding");
  if (body.size() < kWorthPacking || !AcceptsGzip(call.req)) {
    call.resp.setContentLength64(static_cast<Poco::UInt64>(body.size()));
    call.resp.send() << body;
    return;
  }
  std::ostringstream packed;
  {
    Poco::DeflatingOutputStream deflate(packed, Poco::DeflatingStreamBuf::STREAM_GZIP);
    deflate << body;
    deflate.close();
  }
  const std::string out = packed.str();
  call.resp.set("Content-Encoding", "gzip");
  call.resp.setContentLength64(static_cast<Poco::UInt64>(out.size()));
  call.resp.send() << out;
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
