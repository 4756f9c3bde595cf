// Suggestions (Searcher::Suggest) on a real Xapian index on disk: prefixes in
// either script, 文号 with any brackets, prefixes longer than the indexed
// ones, limits, distinctness, and, as a property over random indexes, that
// an anonymous caller is only ever offered public, active documents.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "gongkai/indexer/chinese.h"
#include "gongkai/indexer/index.h"
#include "support/temp_dir.h"

using namespace gongkai::indexer;
using gongkai::test::TempDir;

namespace {

IndexDoc Entry(const std::string& id, const std::string& title, const std::string& doc_number,
               const std::string& modified) {
  IndexDoc d;
  d.id = id;
  d.share = "pub";
  d.path = id + ".txt";
  d.office = "office";
  d.title = title;
  d.doc_number = doc_number;
  d.type = "txt";
  d.version = 1;
  d.status = "active";
  d.classification = "public";
  d.modified = modified;
  d.for_public = true;
  d.text = "正文";
  return d;
}

std::vector<Suggestion> Suggest(Searcher& s, const std::string& prefix, bool anonymous = true,
                                int limit = 10, const std::string& share = "") {
  SuggestQuery q;
  q.prefix = prefix;
  q.anonymous = anonymous;
  q.limit = limit;
  q.share = share;
  auto r = s.Suggest(q);
  REQUIRE(r.ok());
  return *r;
}

std::vector<std::string> Texts(const std::vector<Suggestion>& found) {
  std::vector<std::string> out;
  out.reserve(found.size());
  for (const auto& s : found) out.push_back(s.text);
  return out;
}

}  // namespace

TEST_CASE("suggest: one normal form for script, case, width, spaces and brackets",
          "[indexer][suggest]") {
  CHECK(NormalizeForSuggest("國辦發〔2020〕12號") == "国办发〔2020〕12号");
  for (const char* typed : {"国办发(2020)12号", "国办发[2020]12号", "国办发（2020）12号",
                            "国办发【2020】12号", "国办发［2020］12号", "国办发〖2020〗12号",
                            "国办发 ( 2020 ) 12 号", "國辦發（２０２０）１２號"})
    CHECK(NormalizeForSuggest(typed) == "国办发〔2020〕12号");
  CHECK(NormalizeForSuggest(" Open\u3000Data\tPlan ") == "opendataplan");
  CHECK(NormalizeForSuggest("ＧＢ／Ｔ") == "gb/t");
  CHECK(NormalizeForSuggest("").empty());
  CHECK(NormalizeForSuggest(" \t\u3000").empty());
}

TEST_CASE("suggest: titles and 文号 by prefix, either script, any brackets, newest first",
          "[indexer][suggest]") {
  TempDir dir;
  const std::string long_a = "关于印发某某市二〇二〇年度政务公开工作要点的通知";  // 24 characters
  const std::string long_b = "关于印发某某市二〇二〇年度政务公开工作考核办法的通知";
  {
    auto w = IndexWriter::Open(dir / "index");
    REQUIRE(w.ok());
    auto put = [&](const IndexDoc& d) { REQUIRE((*w)->Replace(d).ok()); };
    put(Entry("d1", "關於做好政務公開工作的通知", "國辦發〔2020〕12號", "2026-01-01T00:00:00Z"));
    put(Entry("d2", "关于做好政务公开工作的意见", "国办发[2021]3号", "2026-02-01T00:00:00Z"));
    IndexDoc same = Entry("d3", "关于做好政务公开工作的意见", "", "2026-01-15T00:00:00Z");
    put(same);  // the same title again: one suggestion
    IndexDoc member = Entry("d2", "关于做好成员文件", "", "2026-02-01T00:00:00Z");
    member.path = "d2.zip!/m.txt";
    member.member = "m.txt";
    put(member);
    IndexDoc restricted = Entry("d4", "关于做好内部审查的通知", "", "2026-03-01T00:00:00Z");
    restricted.for_public = false;
    put(restricted);
    IndexDoc withdrawn = Entry("d5", "关于做好已撤回的通知", "", "2026-03-01T00:00:00Z");
    withdrawn.status = "withdrawn";
    put(withdrawn);
    IndexDoc other_share = Entry("d6", "关于做好另一来源的通知", "", "2025-12-01T00:00:00Z");
    other_share.share = "other";
    put(other_share);
    put(Entry("d7", long_a, "", "2026-01-02T00:00:00Z"));
    put(Entry("d8", long_b, "", "2026-01-03T00:00:00Z"));
    // A newer version awaits review: inspectors' entry Q, the public's entry P.
    IndexDoc current = Entry("d9", "关于做好待审新标题的通知", "", "2026-04-01T00:00:00Z");
    current.version = 2;
    current.for_public = false;
    put(current);
    IndexDoc approved = Entry("d9", "关于做好已公开旧标题的通知", "", "2026-01-05T00:00:00Z");
    approved.for_inspectors = false;
    put(approved);
    REQUIRE((*w)->Commit(1).ok());
  }
  Searcher s(dir / "index");

  // Either script, newest first; one of two equal titles; no member.
  const std::vector<std::string> anonymous = {
      "关于做好政务公开工作的意见", "关于做好已公开旧标题的通知", "關於做好政務公開工作的通知",
      "关于做好另一来源的通知"};
  CHECK(Texts(Suggest(s, "关于做好")) == anonymous);
  CHECK(Texts(Suggest(s, "關於做好")) == anonymous);
  CHECK(Texts(Suggest(s, " 关于 做好 ")) == anonymous);
  CHECK(Suggest(s, "关于做好").front().id == "d2");  // the newer of the two
  CHECK(Suggest(s, "关于做好").front().kind == SuggestionKind::kTitle);
  // Inspectors: the restricted one and the pending title, not the public entry's.
  CHECK(Texts(Suggest(s, "关于做好", false)) ==
        std::vector<std::string>{"关于做好待审新标题的通知", "关于做好内部审查的通知",
                                 "关于做好政务公开工作的意见", "關於做好政務公開工作的通知",
                                 "关于做好另一来源的通知"});
  const auto pending = Suggest(s, "关于做好待审", false);
  REQUIRE(pending.size() == 1);
  CHECK(pending[0].id == "d9");
  CHECK(pending[0].version == 2);
  CHECK(Suggest(s, "关于做好待审").empty());
  CHECK(Suggest(s, "关于做好成员", false).empty());
  CHECK(Suggest(s, "关于做好已撤回", false).empty());

  // 文号 with other brackets, in either script; shown as the document has it.
  for (const char* typed :
       {"国办发(2020", "國辦發（2020）1", "国办发〔2020〕12号", "国办发 [2020"}) {
    const auto found = Suggest(s, typed);
    REQUIRE(found.size() == 1);
    CHECK(found[0].text == "國辦發〔2020〕12號");
    CHECK(found[0].kind == SuggestionKind::kDocNumber);
    CHECK(found[0].id == "d1");
  }
  CHECK(Texts(Suggest(s, "国办发")) ==
        std::vector<std::string>{"国办发[2021]3号", "國辦發〔2020〕12號"});
  CHECK(Suggest(s, "国办发(2020)13").empty());

  // Longer than the 16 indexed characters (3 bytes each): compared whole.
  const size_t chars16 = size_t{16} * 3, chars20 = size_t{20} * 3;
  REQUIRE(long_a.substr(0, chars16) == long_b.substr(0, chars16));
  CHECK(Texts(Suggest(s, long_a.substr(0, chars16))) == std::vector<std::string>{long_b, long_a});
  CHECK(Texts(Suggest(s, long_a.substr(0, chars20))) == std::vector<std::string>{long_a});
  CHECK(Texts(Suggest(s, long_b.substr(0, chars20))) == std::vector<std::string>{long_b});
  CHECK(Texts(Suggest(s, long_a)) == std::vector<std::string>{long_a});
  CHECK(Suggest(s, long_a + "附件").empty());

  // Limits and the share filter.
  CHECK(Suggest(s, "关于", true, 1).size() == 1);
  CHECK(Suggest(s, "关于", true, 0).size() == 1);  // clamped to 1..20
  CHECK(Suggest(s, "关于", true, 3).size() == 3);
  CHECK(Suggest(s, "关于", true, 500).size() == 6);
  CHECK(Texts(Suggest(s, "关于做好", true, 10, "other")) ==
        std::vector<std::string>{"关于做好另一来源的通知"});
  CHECK(Suggest(s, "   ").empty());
  CHECK(Suggest(s, "无此前缀").empty());
}

// Random indexes whose titles come from a few characters (in both scripts),
// so that prefixes collide; random visibility, status, members and pending
// versions. Every suggestion must come from an entry the caller may see,
// none twice, and when few enough entries hold the prefix, every one of
// them must be offered up to the limit.
TEST_CASE("suggest: anonymous callers are offered only public active documents (property)",
          "[indexer][suggest][property]") {
  const uint32_t seed = 20261218;
  std::mt19937 rng(seed);
  const std::vector<std::string> alphabet = {"关", "于", "公", "开", "通", "知", "國", "国",
                                             "辦", "办", "(",  "〔", " ",  "A",  "a"};
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  auto text = [&](int max_chars) {
    std::string t;
    for (int n = 1 + pick(max_chars); n > 0; --n) t += alphabet[pick(alphabet.size())];
    return t;
  };
  int checked = 0;
  for (int round = 0; round < 6; ++round) {
    TempDir dir;
    std::vector<IndexDoc> entries;  // what the index holds, as the model
    {
      auto w = IndexWriter::Open(dir / "index");
      REQUIRE(w.ok());
      for (int i = 0; i < 250; ++i) {
        IndexDoc d = Entry("doc" + std::to_string(i), text(20), pick(3) ? "" : text(8),
                           "2026-01-" + std::to_string(10 + pick(20)) + "T00:00:00Z");
        d.share = pick(4) ? "pub" : "other";
        d.status = pick(5) ? "active" : "withdrawn";
        d.version = 2;
        d.for_public = pick(2);
        entries.push_back(d);
        if (!d.for_public && pick(2)) {  // an older approved version, public
          IndexDoc p = Entry(d.id, text(20), pick(2) ? "" : text(8), "2025-06-01T00:00:00Z");
          p.share = d.share;
          p.status = d.status;
          p.for_inspectors = false;
          entries.push_back(p);
        }
        for (int m = pick(3); m > 0; --m) {  // archive members: never suggested
          IndexDoc member = entries.back();
          member.member = "m" + std::to_string(m) + ".txt";
          member.path += "!/" + member.member;
          member.title = text(20);
          entries.push_back(member);
        }
      }
      for (const IndexDoc& e : entries) REQUIRE((*w)->Replace(e).ok());
      REQUIRE((*w)->Commit(round).ok());
    }
    Searcher s(dir / "index");
    for (int probe = 0; probe < 150; ++probe) {
      const bool anonymous = pick(3) > 0;
      std::string prefix = text(pick(4) ? 3 : 20);
      // Sometimes a prefix of a real title, long or short, in the other script.
      if (pick(2)) {
        const IndexDoc& e = entries[pick(entries.size())];
        prefix = e.title.substr(0, std::min(e.title.size(), size_t{1} + pick(e.title.size())));
      }
      const int limit = 1 + pick(20);
      const std::string share = pick(4) ? "" : "pub";
      INFO("seed " << seed << ", round " << round << ", probe " << probe << ", prefix \"" << prefix
                   << "\", anonymous " << anonymous << ", limit " << limit << ", share " << share);
      const std::string typed = NormalizeForSuggest(prefix);
      size_t cut = 0;  // bytes of the first kSuggestPrefixChars characters: the term looked up
      for (size_t chars = 0; cut < typed.size() && chars < kSuggestPrefixChars; ++chars) do
          ++cut;
        while (cut < typed.size() && (static_cast<unsigned char>(typed[cut]) & 0xC0) == 0x80);
      // The model: the entries the caller may be offered, and their texts.
      std::set<std::pair<SuggestionKind, std::string>> expected;
      size_t holding = 0;  // entries with the prefix's term; Suggest looks at 256 at most
      auto may_offer = [&](const IndexDoc& e) {
        return e.member.empty() && e.status == "active" &&
               (anonymous ? e.for_public : e.for_inspectors) && (share.empty() || e.share == share);
      };
      for (const IndexDoc& e : entries) {
        if (!may_offer(e) || typed.empty()) continue;
        bool holds = false;
        for (const auto& [kind, t] : {std::pair{SuggestionKind::kTitle, e.title},
                                      std::pair{SuggestionKind::kDocNumber, e.doc_number}}) {
          const std::string n = NormalizeForSuggest(t);
          if (!t.empty() && n.rfind(typed, 0) == 0) expected.emplace(kind, t);
          if (!t.empty() && n.compare(0, cut, typed, 0, cut) == 0) holds = true;
        }
        holding += holds;
      }
      const auto found = Suggest(s, prefix, anonymous, limit, share);
      std::set<std::pair<SuggestionKind, std::string>> seen;
      for (const Suggestion& g : found) {
        CAPTURE(g.text, g.id, g.version);
        CHECK(seen.emplace(g.kind, g.text).second);  // distinct
        CHECK(expected.count({g.kind, g.text}) == 1);
        // The very entry it came from may be offered to this caller.
        bool from_visible_entry = false;
        for (const IndexDoc& e : entries)
          if (e.id == g.id && e.version == g.version && may_offer(e) &&
              (g.kind == SuggestionKind::kTitle ? e.title : e.doc_number) == g.text)
            from_visible_entry = true;
        CHECK(from_visible_entry);
      }
      CHECK(found.size() <= static_cast<size_t>(limit));
      if (holding <= 256)  // all looked at: all offered, up to the limit
        CHECK(found.size() == std::min(expected.size(), static_cast<size_t>(limit)));
      ++checked;
    }
  }
  CHECK(checked == 6 * 150);
}

// Not run by default: `gongkai_unit_tests "[.suggest-bench]"` prints the time
// of Suggest on 5,000 documents for prefixes of several lengths.
TEST_CASE("suggest: time on 5000 documents", "[.suggest-bench]") {
  TempDir dir;
  std::mt19937 rng(7);
  const std::vector<std::string> chars = {"关", "于", "印", "发", "市", "政", "府", "办", "公",
                                          "厅", "通", "知", "意", "见", "规", "定", "实", "施",
                                          "方", "案", "年", "度", "工", "作", "要", "点"};
  std::string first_title;
  {
    auto w = IndexWriter::Open(dir / "index");
    REQUIRE(w.ok());
    for (int i = 0; i < 5000; ++i) {
      std::string title = "关于";
      for (int n = 0; n < 18; ++n)
        title += chars[std::uniform_int_distribution<size_t>(0, chars.size() - 1)(rng)];
      if (i == 0) first_title = title;
      REQUIRE((*w)->Replace(Entry("d" + std::to_string(i), title,
                                  "某政发〔" + std::to_string(2000 + i % 26) + "〕" +
                                      std::to_string(i) + "号",
                                  "2026-01-01T00:00:00Z"))
                  .ok());
    }
    REQUIRE((*w)->Commit(1).ok());
  }
  Searcher s(dir / "index");
  for (size_t chars_typed : {1, 2, 3, 4, 8, 20}) {
    const std::string prefix = first_title.substr(0, chars_typed * 3);
    Suggest(s, prefix);  // warm
    const auto start = std::chrono::steady_clock::now();
    const int runs = 200;
    size_t found = 0;
    for (int i = 0; i < runs; ++i) found = Suggest(s, prefix).size();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count() /
        runs;
    std::printf("suggest %zu characters: %.3f ms, %zu suggestions\n", chars_typed, ms, found);
  }
}
