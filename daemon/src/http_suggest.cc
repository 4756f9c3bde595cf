// GET /api/v1/suggest: titles and document numbers (文号) that start with what
// has been typed into the search box.
#include <map>

#include "gongkai/ledger/visibility.h"
#include "http_handlers.h"
#include "json_writer.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

namespace {

constexpr size_t kMaxPrefixBytes = 200;
constexpr int kDefaultLimit = 10;

ApiError BadRequest(const std::string& message) {
  return {HTTPResponse::HTTP_BAD_REQUEST, "bad_request", message};
}

indexer::SuggestQuery ReadSuggestQuery(const Call& call) {
  indexer::SuggestQuery q;
  q.prefix = call.Param("q");
  if (q.prefix.empty() || q.prefix.size() > kMaxPrefixBytes)
    throw BadRequest("q must be 1 to 200 bytes");
  q.share = call.Param("share");
  q.limit = kDefaultLimit;
  if (!call.Param("limit").empty()) {
    int64_t v = 0;
    if (!ParseInt(call.Param("limit"), 1, indexer::kMaxSuggestions, &v))
      throw BadRequest("limit must be 1-20");
    q.limit = static_cast<int>(v);
  }
  q.anonymous = call.anonymous();
  return q;
}

// The suggestions this caller may receive. The index filter is the first
// line; for an anonymous caller each document is then re-checked on the
// catalog (one read), as search hits are: the suggested version must be the
// one ledger::ShownVersion shows, and the document active.
std::vector<indexer::Suggestion> Visible(const Call& call,
                                         std::vector<indexer::Suggestion> suggestions) {
  if (!call.anonymous() || suggestions.empty()) return suggestions;
  std::vector<std::string> ids;
  ids.reserve(suggestions.size());
  for (const auto& s : suggestions) ids.push_back(s.id);
  auto catalog = call.BorrowCatalog();
  const std::map<std::string, ledger::DocumentState> states =
      OrThrow(ledger::LoadDocuments(*catalog.get(), ids));
  std::vector<indexer::Suggestion> out;
  for (auto& s : suggestions) {
    auto it = states.find(s.id);
    if (it == states.end() || it->second.doc.status != DocumentStatus::kActive) continue;
    auto shown = ledger::ShownVersion(call.role, it->second);
    if (shown && shown->version == s.version) out.push_back(std::move(s));
  }
  return out;
}

std::string SuggestJson(const std::string& q, const std::vector<indexer::Suggestion>& found) {
  JsonWriter w;
  w.BeginObject().Field("q", q);
  w.Key("suggestions").BeginArray();
  for (const auto& s : found)
    w.BeginObject()
        .Field("text", s.text)
        .Field("kind", indexer::ToString(s.kind))
        .Field("id", s.id)
        .EndObject();
  w.EndArray().EndObject();
  return w.str();
}

}  // namespace

void ServeSuggest(Call& call) {
  const indexer::SuggestQuery q = ReadSuggestQuery(call);
  // A search to the anonymous rate limit: typing sends one every few
  // hundred milliseconds at most.
  call.CountAnonymousSearch();
  auto found = call.ctx.searcher->Suggest(q);
  if (!found.ok()) throw std::runtime_error(found.status().ToString());
  // no-store (SendJson): what is suggested depends on the caller's token.
  SendJson(call.resp, HTTPResponse::HTTP_OK,
           SuggestJson(q.prefix, Visible(call, std::move(*found))));
}

}  // namespace gongkai::daemon
