#include "freshness.h"
#include "http_handlers.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

// JSON, or CSV as a download with format=csv; as_of defaults to today (UTC).
void ServeFreshness(Call& call) {
  const std::string as_of = call.Param("as_of").empty() ? TodayUtc() : call.Param("as_of");
  auto catalog = call.BorrowCatalog();
  auto lines = Freshness(*call.ctx.config, catalog.get(), as_of);
  if (!lines.ok())
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", lines.status().message()};
  if (call.Param("format") != "csv")
    return SendJson(call.resp, HTTPResponse::HTTP_OK, FreshnessJson(as_of, *lines));
  const std::string csv = FreshnessCsv(*lines);
  call.resp.setStatusAndReason(HTTPResponse::HTTP_OK);
  call.resp.setContentType("text/csv; charset=utf-8");
  call.resp.set("Content-Disposition", "attachment; filename=\"freshness-" + as_of + ".csv\"");
  call.resp.setContentLength64(csv.size());
  call.resp.send() << csv;
}

}  // namespace gongkai::daemon
