// The API's route table and the router that answers from it.
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <vector>

#include "auth.h"
#include "http_service.h"

namespace gongkai::daemon {

struct Call;

struct Route {
  const char* method;  // a GET route answers HEAD too
  const char* path;    // OpenAPI path template; a {name} matches one segment
  Role role;           // the least role that may call it
  void (*handler)(Call&);
  const char* metric;  // the route label in /metrics
  // A hub token (Role::kHub) calls it as an inspector; it calls any other
  // route as anonymous, and is refused (403) where that is not enough.
  bool hub = false;
};

// Every route the service answers: the single source of routing, role checks
// and /metrics labels. docs/openapi.json describes exactly these (a test
// checks paths, methods and which routes require a token).
const std::vector<Route>& RouteTable();

// Makes a handler per request that answers from RouteTable(). `ctx` must
// outlive the factory. Handlers never let an exception escape.
Poco::Net::HTTPRequestHandlerFactory* NewApiHandlerFactory(const ServiceContext& ctx);

}  // namespace gongkai::daemon
