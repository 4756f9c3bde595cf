#include "search_api.h"

#include <algorithm>

#include "http_util.h"

namespace gongkai::daemon {
namespace {

bool IsDate(const std::string& v) {
  return v.size() == 10 && v[4] == '-' && v[7] == '-' &&
         v.find_first_not_of("0123456789-") == std::string::npos;
}

}  // namespace

Result<indexer::SearchQuery> ReadSearchQuery(const ParamFn& param) {
  indexer::SearchQuery q;
  q.q = param("q");
  q.share = param("share");
  q.office = param("office");
  q.type = param("type");
  q.category = param("category");
  q.from = param("from");
  q.to = param("to");
  if ((!q.from.empty() && !IsDate(q.from)) || (!q.to.empty() && !IsDate(q.to)))
    return Status::Invalid("from and to are dates, YYYY-MM-DD");
  q.sort = param("sort");
  if (!q.sort.empty() && q.sort != "relevance" && q.sort != "newest" && q.sort != "oldest")
    return Status::Invalid("sort is relevance, newest or oldest");
  int64_t v = 0;
  if (const std::string limit = param("limit"); !limit.empty()) {
    if (!ParseInt(limit, 0, 100, &v)) return Status::Invalid("limit must be 0-100");
    q.limit = static_cast<int>(v);
  }
  if (const std::string offset = param("offset"); !offset.empty()) {
    if (!ParseInt(offset, 0, 1'000'000, &v)) return Status::Invalid("offset must be 0-1000000");
    q.offset = static_cast<int>(v);
  }
  const std::string status = param("status");
  if (status == "all") {
    q.status = std::nullopt;
  } else if (!status.empty()) {
    q.status = ParseDocumentStatus(status);
    if (!q.status) return Status::Invalid("status must be active, withdrawn or all");
  }
  const std::string relax = param("relax");
  if (relax == "0" || relax == "false")
    q.relax = false;
  else if (!relax.empty() && relax != "1" && relax != "true")
    return Status::Invalid("relax is 1 or 0 (true or false)");
  if (q.q.size() > 1000) return Status::Invalid("query longer than 1000 bytes");
  if (std::count(q.q.begin(), q.q.end(), '(') > 16)
    return Status::Invalid("query nested too deeply");
  return q;
}

std::string SearchAnswerJson(const indexer::SearchQuery& q, const indexer::SearchResult& result,
                             const std::vector<const indexer::SearchHit*>& hits,
                             const std::function<void(JsonWriter&, size_t)>& hit_extra,
                             const std::function<void(JsonWriter&)>& tail) {
  JsonWriter w;
  w.BeginObject().Field("total", result.total).Field("offset", q.offset).Field("limit", q.limit);
  w.Field("relaxed", result.relaxed);
  if (result.relaxed) {
    w.Field("strict_total", result.strict_total);
    w.Key("dropped").Strings(result.dropped);
    w.Key("optional").Strings(result.optional);
  }
  w.Key("results").BeginArray();
  for (size_t i = 0; i < hits.size(); ++i) {
    const indexer::IndexDoc& d = hits[i]->doc;
    w.BeginObject().Field("id", d.id);
    hit_extra(w, i);
    w.Field("share", d.share)
        .Field("path", d.path)
        .Field("office", d.office)
        .Field("title", d.title)
        .Field("type", d.type)
        .Field("version", d.version)
        .Field("sha256", d.sha256)
        .Field("size", d.size)
        .Field("modified", d.modified)
        .Field("published", d.published)
        .Field("status", d.status)
        .Field("snippet", hits[i]->snippet)
        .EndObject();
  }
  w.EndArray();
  w.Key("facets").BeginObject();
  for (const auto& [name, values] : result.facets) {
    w.Key(name).BeginObject();
    for (const auto& [value, count] : values) w.Field(value, count);
    w.EndObject();
  }
  w.EndObject();
  if (tail) tail(w);
  w.EndObject();
  return w.str();
}

}  // namespace gongkai::daemon
