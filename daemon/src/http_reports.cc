#include "annual_report.h"
#include "catalogue.h"
#include "freshness.h"
#include "gongkai/disclosure/calendar.h"
#include "gongkai/disclosure/report_figures.h"
#include "gongkai/ledger/requests.h"
#include "http_handlers.h"
#include "json_writer.h"
#include "timeliness.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

// JSON, or CSV as a download with format=csv; as_of defaults to today (UTC).
void ServeFreshness(Call& call) {
  const std::string as_of = call.Param("as_of").empty() ? TodayUtc() : call.Param("as_of");
  auto catalog = call.BorrowCatalog();
  if (!call.ctx.calendar) throw std::runtime_error("no working-day calendar in this service");
  auto lines = Freshness(*call.ctx.config, catalog.get(), *call.ctx.calendar, as_of);
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

// The annual report (table 三 so far): JSON, a printable page with
// format=html, or CSV with format=csv; 409 naming the cells when the
// format's cross-checks fail.
void ServeAnnualReport(Call& call) {
  const int year = YearParam(call, true);
  const std::string format = call.Param("format").empty() ? "json" : call.Param("format");
  if (format != "json" && format != "html" && format != "csv")
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request",
                   "format must be json, html or csv"};
  if (!call.ctx.calendar) throw std::runtime_error("no working-day calendar in this service");
  auto catalog = call.BorrowCatalog();
  const AnnualReport report =
      OrThrow(LoadAnnualReport(*catalog.get(), *call.ctx.calendar, call.ctx.config->agency, year));
  if (!report.table3.problems.empty()) {
    std::string cells;
    for (const std::string& p : report.table3.problems) cells += (cells.empty() ? "" : "; ") + p;
    throw ApiError{HTTPResponse::HTTP_CONFLICT, "cross_check_failed",
                   "the report's cross-checks fail, so it is not rendered: " + cells};
  }
  if (format == "json") return SendJson(call.resp, HTTPResponse::HTTP_OK, AnnualReportJson(report));
  if (format == "html")
    return SendText(call.resp, HTTPResponse::HTTP_OK, "text/html; charset=utf-8",
                    AnnualReportHtml(report));
  SendText(call.resp, HTTPResponse::HTTP_OK, "text/csv; charset=utf-8", AnnualReportCsv(report));
}

// The timeliness report of ?year= (this year by default), JSON.
void ServeTimeliness(Call& call) {
  int year = YearParam(call, false);
  if (year == 0) year = disclosure::YearOf(disclosure::LocalToday());
  if (!call.ctx.calendar) throw std::runtime_error("no working-day calendar in this service");
  auto catalog = call.BorrowCatalog();
  SendJson(call.resp, HTTPResponse::HTTP_OK,
           TimelinessJson(OrThrow(
               LoadTimeliness(*catalog.get(), *call.ctx.config, *call.ctx.calendar, year))));
}

// Signs the figures in the body for the year in the path (admin), through
// the ledger like every change; answers them normalised with their record.
void ServeReportFigures(Call& call) {
  int64_t year = 0;
  if (!ParseInt(call.path.at("year"), 2000, 9999, &year))
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "year must be a year, e.g. 2026"};
  AdminRequest request;
  request.kind = AdminRequest::Kind::kReportFigures;
  request.year = year;
  request.figures = ReadBody(call);
  const AdminAnswer done = RunAdminOrThrow(call, request);
  JsonWriter w;
  w.BeginObject().Field("year", year).Field("log_index", done.log_index).Key("figures");
  w.Raw(disclosure::ReportFiguresJson(*disclosure::ParseReportFigures(request.figures)));
  SendJson(call.resp, HTTPResponse::HTTP_OK, w.EndObject().str());
}

}  // namespace gongkai::daemon
