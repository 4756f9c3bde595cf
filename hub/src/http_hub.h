// gongkai-hub's HTTP routes:
//   POST /witness/add-checkpoint         C2SP tlog-witness
//   GET  /witness/<origin hash>/checkpoint  the latest cosigned checkpoint
//   GET  /api/v1/status                  nodes, witnessed sizes, split views
//   GET  /metrics                        Prometheus text format
// Handlers never let an exception escape; every answer is logged at debug.
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>

namespace gongkai::hub {

class Hub;

// `hub` must outlive the factory.
Poco::Net::HTTPRequestHandlerFactory* NewHubHandlerFactory(Hub* hub);

}  // namespace gongkai::hub
