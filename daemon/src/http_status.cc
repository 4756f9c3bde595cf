#include "http_handlers.h"
#include "json_writer.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

// 503 while ingest is paused (a full or failing data folder); searches still
// work. Only inspectors learn why: the reason may name a file.
void ServeHealth(Call& call) {
  const std::string problem = call.ctx.live ? call.ctx.live->StorageProblem() : "";
  if (problem.empty()) return SendJson(call.resp, HTTPResponse::HTTP_OK, "{\"status\":\"ok\"}");
  JsonWriter w;
  w.BeginObject().Field("status", "degraded");
  if (!call.anonymous()) w.Field("problem", problem);
  w.EndObject();
  SendJson(call.resp, HTTPResponse::HTTP_SERVICE_UNAVAILABLE, w.str());
}

// Request metrics for all; archive gauges only for inspectors, as their
// counts include documents the public may not see.
void ServeMetrics(Call& call) {
  std::string out;
  if (call.ctx.metrics) call.ctx.metrics->Render(out);
  if (!call.anonymous() && call.ctx.live) out += call.ctx.live->ArchiveGauges();
  SendText(call.resp, HTTPResponse::HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", out);
}

void ServeStatus(Call& call) {
  SendJson(call.resp, HTTPResponse::HTTP_OK, call.ctx.live ? call.ctx.live->StatusJson() : "{}");
}

}  // namespace gongkai::daemon
