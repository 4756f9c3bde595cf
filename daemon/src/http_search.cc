#include <Poco/URI.h>

#include "gongkai/ledger/visibility.h"
#include "http_handlers.h"
#include "json_writer.h"
#include "page_chrome.h"
#include "search_api.h"
#include "web_assets.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

namespace {

ApiError BadRequest(const std::string& message) {
  return {HTTPResponse::HTTP_BAD_REQUEST, "bad_request", message};
}

indexer::SearchQuery ReadQuery(const Call& call) {
  auto q = ReadSearchQuery([&call](const std::string& name) { return call.Param(name); });
  if (!q.ok()) throw BadRequest(q.status().message());
  q->anonymous = call.anonymous();
  return *q;
}

// A hit as answered: with its document's 索引号 from the catalog.
struct ShownHit {
  const indexer::SearchHit* hit;
  std::string index_no;
};

// The hits this caller may receive. The index filter is the first line;
// every hit is then re-checked on the catalog (one read for the page)
// against the rule the ledger's visibility.h states, which inspectors pass.
std::vector<ShownHit> VisibleHits(const Call& call, const std::vector<indexer::SearchHit>& hits) {
  std::vector<std::string> ids;
  ids.reserve(hits.size());
  for (const auto& h : hits) ids.push_back(h.doc.id);
  auto catalog = call.BorrowCatalog();
  const std::map<std::string, ledger::DocumentState> states =
      OrThrow(ledger::LoadDocuments(*catalog.get(), ids));
  std::vector<ShownHit> out;
  for (const auto& h : hits) {
    auto it = states.find(h.doc.id);
    if (it == states.end()) {
      if (!call.anonymous()) out.push_back({&h, ""});  // archived since the index was read
      continue;
    }
    auto shown = ledger::ShownVersion(call.role, it->second);
    if (!call.anonymous() || (shown && shown->version == h.doc.version))
      out.push_back({&h, it->second.doc.index_no});
  }
  return out;
}

std::string ResultJson(const indexer::SearchQuery& q, const indexer::SearchResult& result,
                       const std::vector<ShownHit>& hits) {
  std::vector<const indexer::SearchHit*> shown;
  shown.reserve(hits.size());
  for (const ShownHit& h : hits) shown.push_back(h.hit);
  return SearchAnswerJson(q, result, shown, [&hits](JsonWriter& w, size_t i) {
    w.Field("index_no", hits[i].index_no);
  });
}

// The search of the call's parameters, within the anonymous rate limit
// (429), as the caller may see it.
std::pair<indexer::SearchResult, std::vector<ShownHit>> RunSearch(Call& call,
                                                                  const indexer::SearchQuery& q) {
  call.CountAnonymousSearch();
  auto result = call.ctx.searcher->Search(q);
  if (!result.ok() && result.status().code() == Status::Code::kInvalid)
    throw BadRequest(result.status().message());
  if (!result.ok()) throw std::runtime_error(result.status().ToString());
  std::vector<ShownHit> hits = VisibleHits(call, result->hits);
  return {std::move(*result), std::move(hits)};
}

// app.js's relaxedHint, for the page without JavaScript.
std::string RelaxedHintHtml(const std::string& query, const indexer::SearchResult& result) {
  auto list = [](const std::vector<std::string>& words) {
    std::string out;
    for (const std::string& w : words) out += (out.empty() ? "" : "、") + w;
    return out;
  };
  std::string title = result.strict_total > 0
                          ? "完全符合“" + query + "”的文件只有 " +
                                std::to_string(result.strict_total) + " 份，排在最前"
                          : "没有完全符合“" + query + "”的文件";
  std::string text = result.strict_total > 0 ? "其后是相近的结果" : "以下是相近的结果";
  if (!result.dropped.empty()) text += "，已略去“" + list(result.dropped) + "”";
  if (!result.optional.empty()) text += "，不一定包含全部词语：" + list(result.optional);
  return "<div class=\"alert alert-info\"><p class=\"alert-title\">" + EscapeHtml(title) +
         "</p><p>" + EscapeHtml(text + "。") + "</p></div>\n";
}

// The results as HTML for a browser without JavaScript: in <noscript>, so
// that the page's script, which renders them itself, never shows them twice.
std::string ResultsHtml(const indexer::SearchQuery& q, const indexer::SearchResult& result,
                        const std::vector<ShownHit>& hits) {
  std::string out =
      "<noscript>\n<p class=\"result-count\">共 " + std::to_string(result.total) + " 条结果</p>\n";
  if (result.relaxed) out += RelaxedHintHtml(q.q, result);
  out += "<ol class=\"results\">\n";
  for (const ShownHit& shown : hits) {
    const indexer::IndexDoc& d = shown.hit->doc;
    const std::string content =
        "/api/v1/documents/" + d.id + "/versions/" + std::to_string(d.version) + "/content";
    out += "<li class=\"result\" translate=\"no\"><h3><a href=\"" + EscapeHtml(content) + "\">" +
           EscapeHtml(d.title.empty() ? d.path : d.title) + "</a></h3>\n<p class=\"result-meta\">" +
           EscapeHtml(d.office) + (d.published.empty() ? "" : " · " + EscapeHtml(d.published)) +
           (shown.index_no.empty() ? "" : " · " + EscapeHtml(shown.index_no)) + "</p>\n";
    // A query's snippet is HTML already (escaped, with <b> marks); a listing's is text.
    out += "<p class=\"snippet\">" +
           (q.q.empty() ? EscapeHtml(shown.hit->snippet) : shown.hit->snippet) + "</p></li>\n";
  }
  out += "</ol>\n";
  if (q.offset + q.limit < result.total) {
    std::string next = "/?q=";
    std::string encoded;
    Poco::URI::encode(q.q, "&=+?#/", encoded);
    next += encoded + "&offset=" + std::to_string(q.offset + q.limit);
    out += "<p class=\"pager\"><a class=\"btn\" href=\"" + EscapeHtml(next) + "\">下一页</a></p>\n";
  }
  return out + "</noscript>";
}

}  // namespace

void ServeSearch(Call& call) {
  const indexer::SearchQuery q = ReadQuery(call);
  const auto [result, hits] = RunSearch(call, q);
  SendJson(call.resp, HTTPResponse::HTTP_OK, ResultJson(q, result, hits));
}

// The search page; with ?q= it carries the results for reading without
// JavaScript (ResultsHtml).
void ServeSearchPage(Call& call) {
  std::string page(WebAssets().at("index.html"));
  std::string results;
  if (!call.Param("q").empty()) {
    const indexer::SearchQuery q = ReadQuery(call);
    const auto [result, hits] = RunSearch(call, q);
    results = ResultsHtml(q, result, hits);
  }
  ReplaceMarker(page, "<!--#results-->", results);
  SendPage(call, FillChrome(page, "/", *call.ctx.config));
}

}  // namespace gongkai::daemon
