#include "http_router.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/URI.h>

#include <chrono>
#include <string_view>

#include "gongkai/log.h"
#include "gongkai/utf8.h"
#include "http_handlers.h"

namespace gongkai::daemon {

using Poco::Net::HTTPMessage;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

const std::vector<Route>& RouteTable() {
  constexpr Role kAll = Role::kAnonymous, kInspector = Role::kInspector, kAdmin = Role::kAdmin;
  // What a county hub reads at each sync (CONTRACT.md section 10): the entry
  // bundles, the request counts and the reports; never a document as more
  // than anonymous, a request's details or an admin's action.
  constexpr bool kHub = true;
  static const std::vector<Route> kRoutes = {
      {"GET", "/", kAll, ServeSearchPage, "page"},    // index.html, with results for ?q=
      {"GET", "/apply", kAll, ServePage, "page"},     // apply.html: the online request form
      {"GET", "/track", kAll, ServePage, "page"},     // track.html: a request's progress by code
      {"GET", "/requests", kAll, ServePage, "page"},  // requests.html: inspectors' list
      // guide.html filled from [disclosure]; report.html, the annual report
      {"GET", "/guide", kAll, ServeGuidePage, "page"},
      {"GET", "/catalogue", kAll, ServeCataloguePage, "page"},  // the 公开目录, from the catalog
      {"GET", "/report", kAll, ServePage, "page"},
      {"GET", "/static/{name}", kAll, ServePage, "page"},
      {"GET", "/healthz", kAll, ServeHealth, "healthz"},
      {"GET", "/metrics", kAll, ServeMetrics, "metrics"},
      {"GET", "/api/v1/search", kAll, ServeSearch, "search"},
      {"GET", "/api/v1/suggest", kAll, ServeSuggest, "suggest"},
      {"GET", "/api/v1/status", kInspector, ServeStatus, "status", kHub},
      {"GET", "/api/v1/documents/{id}", kAll, ServeDocument, "documents"},
      {"POST", "/api/v1/documents/{id}/approve", kAdmin, ServeApprove, "approve"},
      {"POST", "/api/v1/documents/{id}/classification", kAdmin, ServeClassification,
       "classification"},
      {"GET", "/api/v1/documents/{id}/versions/{n}/content", kAll, ServeContent, "content"},
      {"GET", "/api/v1/documents/{id}/versions/{n}/proof", kAll, ServeProof, "proof"},
      {"GET", "/api/v1/log/checkpoint", kAll, ServeCheckpoint, "checkpoint"},
      {"GET", "/api/v1/log/consistency", kAll, ServeConsistency, "consistency"},
      {"GET", "/api/v1/log/entries", kInspector, ServeEntries, "entries"},
      {"GET", "/api/v1/keys", kAll, ServeKeys, "keys"},
      // C2SP tlog-tiles (CONTRACT §10): hash tiles for all, entry bundles
      // for inspectors (ServeTile checks).
      {"GET", "/tlog/checkpoint", kAll, ServeCheckpoint, "tlog"},
      {"GET", "/tlog/tile/{tile...}", kAll, ServeTile, "tlog", kHub},
      {"GET", "/api/v1/reports/freshness", kInspector, ServeFreshness, "reports", kHub},
      {"GET", "/api/v1/reports/annual", kInspector, ServeAnnualReport, "reports", kHub},
      {"PUT", "/api/v1/reports/annual/{year}/figures", kAdmin, ServeReportFigures, "reports"},
      {"GET", "/api/v1/reports/timeliness", kInspector, ServeTimeliness, "reports"},
      {"GET", "/api/v1/catalogue", kAll, ServeCatalogue, "catalogue"},
      {"GET", "/api/v1/calendar/workdays", kAll, ServeWorkdays, "workdays"},
      {"GET", "/api/v1/guide", kAll, ServeGuide, "guide"},
      {"POST", "/api/v1/requests", kAll, ServeNewRequest, "requests"},
      {"GET", "/api/v1/requests", kInspector, ServeRequestList, "requests"},
      {"GET", "/api/v1/requests/{code}", kAll, ServeRequest, "requests"},
      {"POST", "/api/v1/requests/{code}/events", kAdmin, ServeRequestEvent, "requests"},
  };
  return kRoutes;
}

namespace {

// The path's non-empty segments (URI::getPath() has decoded them already).
std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Whether `segments` fit `route`'s template; fills `args` with its placeholders.
bool Matches(const Route& route, const std::vector<std::string>& segments,
             std::map<std::string, std::string>* args) {
  const std::vector<std::string> parts = Split(route.path);
  // A last placeholder "{name...}" takes the rest of the path, one segment
  // or more, joined by "/" (a tile's path: 0/x001/234.p/17).
  const bool rest = !parts.empty() && parts.back().size() > 5 &&
                    parts.back().compare(parts.back().size() - 4, 4, "...}") == 0;
  if (rest ? segments.size() < parts.size() : parts.size() != segments.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (rest && i + 1 == parts.size()) {
      std::string joined = segments[i];
      for (size_t k = i + 1; k < segments.size(); ++k) joined += "/" + segments[k];
      (*args)[parts[i].substr(1, parts[i].size() - 5)] = joined;
    } else if (parts[i].front() == '{')
      (*args)[parts[i].substr(1, parts[i].size() - 2)] = segments[i];
    else if (parts[i] != segments[i])
      return false;
  }
  return true;
}

bool Allows(const Route& route, const std::string& method) {
  return method == route.method || (method == "HEAD" && std::string_view(route.method) == "GET");
}

// The route for the request's path and method: 404 when no path matches, 405
// when one does for another method. `*metric` names what was found.
const Route& Find(Call& call, const std::vector<std::string>& segments, const char** metric) {
  const Route* same_path = nullptr;
  for (const Route& route : RouteTable()) {
    std::map<std::string, std::string> args;
    if (!Matches(route, segments, &args)) continue;
    if (!same_path) same_path = &route;
    if (!Allows(route, call.req.getMethod())) continue;
    call.path = std::move(args);
    *metric = route.metric;
    return route;
  }
  if (!same_path) throw ApiError{HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such endpoint"};
  *metric = same_path->metric;
  throw ApiError{HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                 std::string("use ") + same_path->method};
}

// 401 for an anonymous caller below the route's role, 403 for a token below it.
void RequireRole(const Route& route, Role caller) {
  if (caller >= route.role) return;
  const std::string message = std::string("an ") + ToString(route.role) + " token is required";
  if (caller == Role::kAnonymous)
    throw ApiError{HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", message};
  throw ApiError{HTTPResponse::HTTP_FORBIDDEN, "forbidden", message};
}

// Refuses what Poco lets through but must not be served.
void CheckFraming(const HTTPServerRequest& req, HTTPServerResponse& resp) {
  // A space inside the request target ("GET /search?q=a b HTTP/1.1") leaves
  // Poco with the version `b`, which its answer would echo in the status line.
  if (req.getVersion() != HTTPMessage::HTTP_1_1 && req.getVersion() != HTTPMessage::HTTP_1_0) {
    resp.setVersion(HTTPMessage::HTTP_1_1);
    resp.setKeepAlive(false);
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "malformed request line"};
  }
  // Both framings at once is how requests are smuggled past proxies.
  if (req.has("Transfer-Encoding") && req.has("Content-Length"))
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request",
                   "both Content-Length and Transfer-Encoding"};
}

// The request's path segments; fills call.query.
std::vector<std::string> ParseTarget(Call& call) {
  Poco::URI uri;
  std::vector<std::pair<std::string, std::string>> query;
  try {
    uri = Poco::URI(call.req.getURI());
    query = uri.getQueryParameters();
  } catch (const Poco::Exception&) {
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "malformed URI"};
  }
  for (const auto& [k, v] : query) {
    if (!IsValidUtf8(k) || !IsValidUtf8(v))
      throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request",
                     "query parameters must be UTF-8"};
    call.query[k] = v;
  }
  return Split(uri.getPath());
}

void Answer(Call& call, const char** metric) {
  CheckFraming(call.req, call.resp);
  const std::vector<std::string> segments = ParseTarget(call);
  auto role = call.ctx.tokens->Authenticate(call.req.get("Authorization", ""));
  if (!role) throw ApiError{HTTPResponse::HTTP_UNAUTHORIZED, "unauthorized", "invalid token"};
  call.role = *role;
  const Route& route = Find(call, segments, metric);
  if (call.role == Role::kHub) {
    if (!route.hub && route.role != Role::kAnonymous)
      throw ApiError{HTTPResponse::HTTP_FORBIDDEN, "forbidden",
                     "a hub token reads the log's entries, the status and the reports only"};
    call.role = route.hub ? Role::kInspector : Role::kAnonymous;
  }
  RequireRole(route, call.role);
  route.handler(call);
}

// Sends `e` unless an answer was started; a client that left is no error here.
void SendErrorUnlessSent(HTTPServerResponse& resp, const ApiError& e) noexcept {
  try {
    if (!resp.sent()) SendError(resp, e);
  } catch (...) {
  }
}

// The request's target without its query, for the log: a query may hold
// what a citizen searched for, their name say, which the log must not keep.
std::string PathOf(const HTTPServerRequest& req) {
  const std::string& uri = req.getURI();
  const size_t query = uri.find('?');
  return query == std::string::npos ? uri : uri.substr(0, query) + "?...";
}

// Answers every request; exceptions end here as error answers.
class ApiHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit ApiHandler(const ServiceContext& ctx) : ctx_(ctx) {}

  void handleRequest(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    const auto started = std::chrono::steady_clock::now();
    const char* metric = "other";
    Serve(req, resp, &metric);
    if (ctx_.metrics)
      ctx_.metrics->Record(metric, static_cast<int>(resp.getStatus()),
                           std::chrono::steady_clock::now() - started);
  }

 private:
  void Serve(HTTPServerRequest& req, HTTPServerResponse& resp, const char** metric) {
    const ApiError internal{HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal", "internal error"};
    try {
      Call call{ctx_, req, resp};
      Answer(call, metric);
    } catch (const ApiError& e) {
      SendErrorUnlessSent(resp, e);
    } catch (const Poco::Exception& e) {
      log::Error("HTTP " + req.getMethod() + " " + PathOf(req) + ": " + e.displayText());
      SendErrorUnlessSent(resp, internal);
    } catch (const std::exception& e) {
      log::Error("HTTP " + req.getMethod() + " " + PathOf(req) + ": " + e.what());
      SendErrorUnlessSent(resp, internal);
    } catch (...) {
      SendErrorUnlessSent(resp, internal);
    }
  }

  const ServiceContext& ctx_;
};

class ApiHandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit ApiHandlerFactory(const ServiceContext& ctx) : ctx_(ctx) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new ApiHandler(ctx_);
  }

 private:
  const ServiceContext& ctx_;
};

}  // namespace

Poco::Net::HTTPRequestHandlerFactory* NewApiHandlerFactory(const ServiceContext& ctx) {
  return new ApiHandlerFactory(ctx);
}

}  // namespace gongkai::daemon
