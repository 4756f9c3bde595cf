// The search API's parameters and answer (docs/api.md, Search): one place
// for gongkaid's and gongkai-hub's GET /api/v1/search.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "gongkai/indexer/index.h"
#include "gongkai/status.h"
#include "json_writer.h"

namespace gongkai::daemon {

// A request parameter's value, "" when absent.
using ParamFn = std::function<std::string(const std::string& name)>;

// q, share, office, type, category, from, to, sort, limit, offset, status
// and relax. Invalid, with the message for a 400, when one is out of range.
// `anonymous` is left as it is (true): the caller's role sets it.
Result<indexer::SearchQuery> ReadSearchQuery(const ParamFn& param);

// The answer's JSON for `hits` (those of `result` the caller may see).
// `hit_extra(w, i)` adds fields to hit i after its id (gongkaid's index_no,
// the hub's node); `tail(w)` adds fields to the answer after its facets.
std::string SearchAnswerJson(const indexer::SearchQuery& q, const indexer::SearchResult& result,
                             const std::vector<const indexer::SearchHit*>& hits,
                             const std::function<void(JsonWriter&, size_t)>& hit_extra,
                             const std::function<void(JsonWriter&)>& tail = nullptr);

}  // namespace gongkai::daemon
