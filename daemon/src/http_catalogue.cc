// The 公开目录 (catalogue.h) over HTTP: GET /api/v1/catalogue for programs
// and GET /catalogue, the page, rendered here so that it reads without
// JavaScript. Both answer the same entries, whoever asks.
#include <Poco/URI.h>

#include <string>

#include "catalogue.h"
#include "http_handlers.h"
#include "page_chrome.h"
#include "web_assets.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

namespace {

constexpr int64_t kPageSize = 50;

// The filter and page of ?year=&category=&offset=&limit=; 400 when malformed.
struct CatalogueQuery {
  CatalogueFilter filter;
  int64_t offset = 0, limit = kPageSize;
};

CatalogueQuery ReadQuery(const Call& call) {
  CatalogueQuery q;
  q.filter = {YearParam(call, false), call.Param("category")};
  if (!call.Param("offset").empty() && !ParseInt(call.Param("offset"), 0, 10'000'000, &q.offset))
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "offset must be 0-10000000"};
  if (!call.Param("limit").empty() && !ParseInt(call.Param("limit"), 0, 1000, &q.limit))
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "limit must be 0-1000"};
  return q;
}

// The public catalogue of the filter: from the cache when there is one.
Catalogue PublicCatalogue(Call& call, const CatalogueFilter& filter) {
  auto catalog = call.BorrowCatalog();
  if (!call.ctx.catalogue) return OrThrow(LoadCatalogue(*catalog.get(), *call.ctx.config, filter));
  return FilterCatalogue(*OrThrow(call.ctx.catalogue->Get(*catalog.get(), *call.ctx.config)),
                         filter);
}

// "/catalogue?year=2026&category=..." with `offset` when not 0 and `limit`
// when not the page's size.
std::string PageLink(const CatalogueFilter& f, int64_t offset = 0, int64_t limit = kPageSize) {
  std::string query;
  if (f.year > 0) query += "&year=" + std::to_string(f.year);
  if (!f.category.empty()) {
    std::string encoded;
    Poco::URI::encode(f.category, "&=+?#/", encoded);
    query += "&category=" + encoded;
  }
  if (offset > 0) query += "&offset=" + std::to_string(offset);
  if (limit != kPageSize) query += "&limit=" + std::to_string(limit);
  return "/catalogue" + (query.empty() ? "" : "?" + query.substr(1));
}

// A category as the office wrote it (not switched to 繁體), or 未分类.
std::string CategoryName(const std::string& category) {
  return category.empty() ? "未分类" : "<span translate=\"no\">" + EscapeHtml(category) + "</span>";
}

// Every category of the year with its count, the one shown marked.
std::string CategoriesHtml(const Catalogue& c, const CatalogueFilter& f) {
  int64_t all = 0;
  for (const auto& [category, n] : c.categories) all += n;
  auto item = [&](const std::string& label, const std::string& category, int64_t n) {
    const bool current = f.category == category;
    return "<li><a href=\"" + EscapeHtml(PageLink({f.year, category})) + "\"" +
           (current ? " aria-current=\"page\"" : "") + ">" + label + "</a> <span class=\"count\">" +
           std::to_string(n) + "</span></li>\n";
  };
  std::string out = "<ul>\n" + item("全部", "", all);
  for (const auto& [category, n] : c.categories)
    if (!category.empty()) out += item(CategoryName(category), category, n);
  return out + "</ul>";
}

std::string YearsHtml(const Catalogue& c, int year) {
  std::string out =
      "<select id=\"c-year\" name=\"year\" class=\"input\">\n<option "
      "value=\"\">全部年份</option>\n";
  for (auto it = c.years.rbegin(); it != c.years.rend(); ++it)
    out += "<option value=\"" + std::to_string(*it) + "\"" + (*it == year ? " selected" : "") +
           ">" + std::to_string(*it) + "</option>\n";
  return out + "</select>";
}

std::string EntriesHtml(const Catalogue& c, const CatalogueQuery& q) {
  const auto total = static_cast<int64_t>(c.entries.size());
  std::string out =
      "<p class=\"result-count\" role=\"status\">共 " + std::to_string(total) + " 条" +
      (q.filter.category.empty() ? "" : "：" + CategoryName(q.filter.category)) + "</p>\n";
  if (total == 0) return out + "<p class=\"notice\">暂无符合条件的公开信息。</p>";
  out +=
      "<div class=\"table-scroll\"><table class=\"catalogue-table\">\n<caption "
      "class=\"visually-hidden\">政府信息公开目录</caption>\n<thead><tr><th "
      "scope=\"col\">索引号</th>"
      "<th scope=\"col\">名称和内容概述</th><th scope=\"col\">文号</th><th "
      "scope=\"col\">发布机构</th>"
      "<th scope=\"col\">生成日期</th><th scope=\"col\">发布日期</th></tr></thead>\n<tbody>\n";
  for (int64_t i = q.offset; i < total && i < q.offset + q.limit; ++i) {
    const CatalogueEntry& e = c.entries[static_cast<size_t>(i)];
    const std::string content =
        "/api/v1/documents/" + e.id + "/versions/" + std::to_string(e.version) + "/content";
    // The agency code, then the year and serial: a line break may fall between.
    const size_t slash = e.index_no.rfind('/') + 1;
    out += "<tr><td class=\"index-no\" translate=\"no\">" +
           EscapeHtml(e.index_no.substr(0, slash)) + "<wbr>" +
           EscapeHtml(e.index_no.substr(slash)) +
           "</td><td class=\"title\" translate=\"no\"><a href=\"" + EscapeHtml(content) + "\">" +
           EscapeHtml(e.title) + "</a>";
    if (!e.summary.empty()) out += "<p class=\"summary\">" + EscapeHtml(e.summary) + "</p>";
    if (e.legal_status == "repealed")
      out += "<p class=\"summary\"><span class=\"badge\">已废止</span> " +
             EscapeHtml(e.repealed_on) + "</p>";
    out += "</td><td translate=\"no\">" + EscapeHtml(e.doc_number) + "</td><td translate=\"no\">" +
           EscapeHtml(e.office) + "</td><td class=\"date\">" + EscapeHtml(e.created) +
           "</td><td class=\"date\">" + EscapeHtml(e.published) + "</td></tr>\n";
  }
  out += "</tbody>\n</table></div>\n";
  if (total <= q.limit) return out;
  out += "<nav class=\"pager\" aria-label=\"分页\">";
  out +=
      q.offset > 0
          ? "<a class=\"btn\" href=\"" +
                EscapeHtml(PageLink(q.filter, std::max<int64_t>(0, q.offset - q.limit), q.limit)) +
                "\">上一页</a>"
          : "<span></span>";
  out += "<span>第 " + std::to_string(q.offset / std::max<int64_t>(q.limit, 1) + 1) + " / " +
         std::to_string((total + q.limit - 1) / std::max<int64_t>(q.limit, 1)) + " 页</span>";
  out += q.offset + q.limit < total
             ? "<a class=\"btn\" href=\"" +
                   EscapeHtml(PageLink(q.filter, q.offset + q.limit, q.limit)) + "\">下一页</a>"
             : "<span></span>";
  return out + "</nav>";
}

}  // namespace

// JSON by pages, or every matching entry as CSV with format=csv.
void ServeCatalogue(Call& call) {
  const CatalogueQuery q = ReadQuery(call);
  const std::string format = call.Param("format");
  if (!format.empty() && format != "json" && format != "csv")
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request", "format must be json or csv"};
  const Catalogue c = PublicCatalogue(call, q.filter);
  if (format == "csv") {
    call.resp.set("Content-Disposition", "attachment; filename=\"catalogue.csv\"");
    return SendText(call.resp, HTTPResponse::HTTP_OK, "text/csv; charset=utf-8", CatalogueCsv(c));
  }
  SendJson(call.resp, HTTPResponse::HTTP_OK, CatalogueJson(c, q.offset, q.limit));
}

void ServeCataloguePage(Call& call) {
  CatalogueQuery q = ReadQuery(call);
  if (q.limit == 0) q.limit = kPageSize;
  const Catalogue c = PublicCatalogue(call, q.filter);
  std::string page(WebAssets().at("catalogue.html"));
  ReplaceMarker(page, "<!--#categories-->", CategoriesHtml(c, q.filter));
  ReplaceMarker(page, "<!--#years-->", YearsHtml(c, q.filter.year));
  ReplaceMarker(page, "<!--#category-field-->",
                q.filter.category.empty() ? std::string()
                                          : "<input type=\"hidden\" name=\"category\" value=\"" +
                                                EscapeHtml(q.filter.category) + "\">");
  std::string csv = "/api/v1/catalogue?format=csv";
  if (const std::string link = PageLink(q.filter); link.find('?') != std::string::npos)
    csv += "&" + link.substr(link.find('?') + 1);
  ReplaceMarker(page, "<!--#csv-link-->",
                "<a class=\"btn\" href=\"" + EscapeHtml(csv) + "\">下载目录 (CSV)</a>");
  ReplaceMarker(page, "<!--#entries-->", EntriesHtml(c, q));
  SendPage(call, FillChrome(page, "/catalogue", *call.ctx.config));
}

}  // namespace gongkai::daemon
