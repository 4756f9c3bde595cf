// The API's handlers, one per route of RouteTable() (http_router.cc), which
// has already checked the method and the caller's role. Each answers through
// call.resp, or throws ApiError (that answer) or another exception (a 500).
#pragma once

#include "http_util.h"

namespace gongkai::daemon {

// http_page.cc: the pages (daemon/web, filled by FillChrome) and their files
void ServePage(Call& call);
// Sends `html` as a page, with the pages' caching and security headers.
void SendPage(Call& call, const std::string& html);

// http_guide.cc: 政府信息公开指南 (条例第十二条) from [disclosure]
void ServeGuidePage(Call& call);
void ServeGuide(Call& call);

// http_status.cc
void ServeHealth(Call& call);
void ServeMetrics(Call& call);
void ServeStatus(Call& call);

// http_search.cc
void ServeSearch(Call& call);
void ServeSearchPage(Call& call);

// http_suggest.cc: titles and 文号 starting with what has been typed
void ServeSuggest(Call& call);

// http_documents.cc
void ServeDocument(Call& call);
void ServeContent(Call& call);
void ServeProof(Call& call);

// http_admin.cc
void ServeApprove(Call& call);
void ServeClassification(Call& call);

// http_log.cc
void ServeCheckpoint(Call& call);
void ServeTile(Call& call);
void ServeConsistency(Call& call);
void ServeEntries(Call& call);
void ServeKeys(Call& call);

// http_reports.cc
void ServeFreshness(Call& call);
void ServeAnnualReport(Call& call);
void ServeReportFigures(Call& call);
void ServeTimeliness(Call& call);

// http_catalogue.cc
void ServeCatalogue(Call& call);
void ServeCataloguePage(Call& call);

// http_disclosure.cc
void ServeWorkdays(Call& call);
void ServeNewRequest(Call& call);
void ServeRequest(Call& call);
void ServeRequestList(Call& call);
void ServeRequestEvent(Call& call);

}  // namespace gongkai::daemon
