// Search quality on the shared corpus (issue 5), through the real daemon:
//
// 1. Every file of ../shared/corpus/docs is archived, and each one either
//    yields text or carries a precise reason (text_note) why not.
// 2. Known-item search: for each document, queries built from it must find
//    it in the first 10 anonymous results (in its share: the zip archives,
//    whose members repeat generated/'s texts, are in a share of their own),
//    for at least 98 % of the queries of each kind and format. The kinds:
//      phrase  - 8 consecutive Chinese characters (or 4 English words) from
//                the document's text, in quotes;
//      words   - the same, without quotes (what people usually type);
//      script  - the phrase converted to the other script with OpenCC's
//                phrase-level converters (t2s / s2t), in quotes;
//      title   - the title the extractor found, as typed;
//      number  - the gazette record's document number (字號), as typed.
//    The machine conversions in generated/ are queried with phrases taken
//    from their *source* text (generated/manifest.tsv), so a format whose
//    extraction loses or garbles text fails here instead of agreeing with
//    itself.
//
//    Each query is asked strictly (relax=0) too: relaxation (issue 18) must
//    never cost a known item its rank.
// 3. Citizens' questions (issue 18): tests/questions.py makes questions about
//    known documents (a title's words in a question frame, either script)
//    for a dev and a held-out test split, and asks them strictly and as
//    answered. On the test split, whose frames were not used to tune
//    relaxation: at least 300 questions, the expected document in the top 10
//    for 90 %, no answer at all for at most 2 %.
//
// Phrases are picked where they are specific: the index counts at most 10
// documents holding the quoted phrase (so the expected one can be in a top
// 10); a phrase it cannot find at all counts 0, is used, and fails. Few
// documents may go without a phrase, so an index that matches everything
// cannot pass by having every query skipped. The figures are
// printed as a table (docs/indexing.md, "Search quality"). Skipped, saying so, when the
// corpus is absent.
#include <opencc/opencc.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <Poco/JSON/Parser.h>

#include "gongkai/indexer/chinese.h"
#include "gongkai/indexer/extract.h"
#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
namespace fs = std::filesystem;

namespace {

constexpr double kGoal = 0.98;

struct Doc {
  std::string rel;     // path in the share = path under corpus/docs
  std::string format;  // extension; for generated/txt the encoding too (gbk.txt)
  std::string text;    // the text phrases are taken from (the source's, for generated/)
  std::string title;   // what the extractor found in the file itself
  std::string number;  // 字號, gazette pages only
};

class Converter {
 public:
  explicit Converter(const char* config) : h_(opencc_open(config)) {}
  ~Converter() {
    if (h_ != reinterpret_cast<opencc_t>(-1)) opencc_close(h_);
  }
  bool ok() const { return h_ != reinterpret_cast<opencc_t>(-1); }
  std::string operator()(const std::string& s) const {
    char* out = opencc_convert_utf8(h_, s.data(), s.size());
    std::string r = out ? out : s;
    if (out) opencc_convert_utf8_free(out);
    return r;
  }

 private:
  opencc_t h_;
};

// Code points of valid UTF-8 as (offset, length) pairs.
std::vector<std::pair<size_t, size_t>> Chars(const std::string& s) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    out.emplace_back(i, len);
    i += len;
  }
  return out;
}

bool IsHan(const std::string& s, std::pair<size_t, size_t> ch) {
  if (ch.second != 3) return false;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data() + ch.first);
  const unsigned cp = ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  return cp >= 0x4E00 && cp <= 0x9FFF;
}

// Candidate phrases from several places in the text: 8 Chinese characters in
// a row, or failing that 4 English words of 3+ letters in a row.
std::vector<std::string> Candidates(const std::string& text) {
  std::vector<std::string> out;
  const auto chars = Chars(text);
  for (double at : {0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9}) {
    size_t run = 0;
    for (size_t k = static_cast<size_t>(chars.size() * at); k < chars.size(); ++k) {
      run = IsHan(text, chars[k]) ? run + 1 : 0;
      if (run == 8) {
        const size_t b = chars[k - 7].first;
        out.push_back(text.substr(b, chars[k].first + 3 - b));
        break;
      }
    }
  }
  if (!out.empty()) return out;
  for (double at : {0.5, 0.35, 0.65, 0.2, 0.8}) {
    std::vector<std::string> words;
    std::string cur;
    size_t start = static_cast<size_t>(text.size() * at);
    while (start < text.size() && std::isalpha(static_cast<unsigned char>(text[start])))
      ++start;  // a whole word
    for (size_t i = start; i <= text.size(); ++i) {
      const char c = i < text.size() ? text[i] : ' ';
      if (std::isalpha(static_cast<unsigned char>(c))) {
        cur += c;
        continue;
      }
      if (cur.size() >= 3 && (c == ' ' || words.size() == 3)) {
        words.push_back(cur);
        if (words.size() == 4) {
          out.push_back(words[0] + " " + words[1] + " " + words[2] + " " + words[3]);
          break;
        }
      } else if (!cur.empty() || c != ' ') {
        words.clear();
      }
      cur.clear();
    }
  }
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string FormatOf(const std::string& rel) {
  const fs::path p(rel);
  std::string ext = Lower(p.extension().string());
  if (!ext.empty()) ext.erase(0, 1);
  if (rel.rfind("generated/txt/", 0) == 0)
    return Lower(fs::path(p.stem()).extension().string().substr(1)) + "." + ext;
  return ext.empty() ? "none" : ext;
}

struct Tally {
  int queries = 0, found = 0;
  std::vector<std::string> missed;
};

}  // namespace

TEST_CASE(
    "quality: every corpus file is archived and yields text or a reason, and known items are found "
    "in the top 10",
    "[e2e][corpus]") {
  const fs::path docs = fs::path(GONGKAI_SHARED_DIR) / "corpus/docs";
  if (!fs::is_directory(docs)) {
    std::cout << "SKIPPED: corpus not found at " << docs.string() << "\n";
    return;
  }
  const Converter t2s("/usr/share/opencc/t2s.json"), s2t("/usr/share/opencc/s2t.json");
  REQUIRE(t2s.ok());
  REQUIRE(s2t.ok());

  // Sources of the machine conversions, and the gazette's document numbers.
  std::map<std::string, std::string> source_of;  // generated id -> source rel
  {
    std::ifstream in(docs / "generated/manifest.tsv");
    for (std::string line; std::getline(in, line);)
      if (auto tab = line.find('\t'); tab != std::string::npos)
        source_of[line.substr(0, tab)] = line.substr(tab + 1);
  }
  REQUIRE(source_of.size() >= 6);
  std::map<std::string, std::string> number_of;  // rel -> 字號
  {
    std::ifstream in(docs / "zh-hant/ey-gazette/records.jsonl");
    Poco::JSON::Parser parser;
    for (std::string line; std::getline(in, line);) {
      auto o = parser.parse(line).extract<Poco::JSON::Object::Ptr>();
      const std::string id = o->optValue<std::string>("GazetteId", "");
      // One number per record (joint issues list several), and a real one ("**" occurs).
      if (id.find_first_of("0123456789") != std::string::npos &&
          id.find(';') == std::string::npos && id.find("、") == std::string::npos)
        number_of["zh-hant/ey-gazette/" + o->getValue<std::string>("html_file")] = id;
    }
  }
  REQUIRE(number_of.size() > 200);
  // Lists that describe the corpus (its README says so): archived, not known items.
  const std::set<std::string> metadata = {"zh-hant/ey-gazette/records.jsonl",
                                          "zh-hans/gov-work-reports-2026/index.tsv",
                                          "generated/manifest.tsv"};

  // Archives go to a share of their own: their members repeat texts that
  // generated/ already has in ten formats, and a known item's top 10 is
  // looked for in the documents' share.
  DaemonProcess d({{"pub", ""}, {"zips", ""}});
  std::vector<Doc> items;
  std::map<std::string, std::string> no_text;  // rel -> reason, from extraction in process
  for (const auto& e : fs::recursive_directory_iterator(docs)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), docs).string();
    const std::string bytes = gongkai::test::Slurp(e.path().string());
    const std::string share = FormatOf(rel) == "zip" ? "zips" : "pub";
    fs::create_directories(fs::path(d.FilePath(share, rel)).parent_path());
    fs::copy_file(e.path(), d.FilePath(share, rel));
    if (share == "zips" || metadata.count(rel)) continue;
    const auto x = gongkai::indexer::Extract(bytes, rel);
    if (!x.has_text) {
      no_text[rel] = x.note;
      continue;
    }
    Doc doc{rel, FormatOf(rel), x.text, x.title, ""};
    const std::string id =
        e.path().filename().string().substr(0, e.path().filename().string().find('.'));
    if (rel.rfind("generated/", 0) == 0 && source_of.count(id))
      doc.text = gongkai::indexer::Extract(gongkai::test::Slurp((docs / source_of[id]).string()),
                                           source_of[id])
                     .text;
    if (auto n = number_of.find(rel); n != number_of.end()) doc.number = n->second;
    items.push_back(std::move(doc));
  }
  REQUIRE(items.size() > 700);

  d.Start();
  auto status = d.WaitIdle(780, 1800);
  CHECK(status->getValue<int64_t>("failed") == 0);

  // 1. Every file archived; the ones without text say why.
  std::map<std::string, std::string> id_of;  // rel -> document id, from the inspector's listing
  for (int offset = 0;; offset += 100) {
    auto r = d.Get("/api/v1/search?limit=100&offset=" + std::to_string(offset), d.inspector());
    REQUIRE(r.status == 200);
    auto results = r.json()->getArray("results");
    for (size_t i = 0; i < results->size(); ++i) {
      auto o = results->getObject(static_cast<unsigned>(i));
      id_of[o->getValue<std::string>("path")] = o->getValue<std::string>("id");
    }
    if (results->size() < 100) break;
  }
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(docs)) {
    if (!e.is_regular_file()) continue;
    ++files;
    const std::string rel = fs::relative(e.path(), docs).string();
    INFO(rel);
    CHECK(id_of.count(rel) == 1);
  }
  std::cout << "quality: " << files << " files archived, " << no_text.size() << " without text:\n";
  for (const auto& [rel, reason] : no_text) {
    INFO(rel);
    auto r = d.Get("/api/v1/documents/" + id_of[rel], d.inspector());
    REQUIRE(r.status == 200);
    const std::string note = r.json()->optValue<std::string>("text_note", "");
    std::cout << "  " << rel << ": " << note << "\n";
    CHECK(!note.empty());
    CHECK(note == reason);  // the daemon's worker says what extraction in process says
  }

  // 2. Known items.
  std::map<std::string, size_t> title_count;
  for (const Doc& doc : items) ++title_count[gongkai::indexer::FoldScript(Lower(doc.title))];

  // An anonymous search in the documents' share, strict (never relaxed) or as answered.
  auto search = [&](const std::string& q, int limit, bool relax = false) {
    std::string enc;
    Poco::URI::encode(q, "&=+?#/\"", enc);
    auto r = d.Get("/api/v1/search?share=pub&limit=" + std::to_string(limit) +
                   "&relax=" + (relax ? "1" : "0") + "&q=" + enc);
    INFO("query " << q << ": " << r.body);
    REQUIRE(r.status == 200);
    return r.json();
  };
  std::map<std::string, std::map<std::string, Tally>> tally;  // kind -> format -> tally
  std::map<std::string, int> skipped;  // kind -> documents without a usable query
  // The rank (1-10) of `rel` in an answer, 0 if not in it.
  auto rank_in = [](const Poco::JSON::Object::Ptr& answer, const std::string& rel) {
    auto results = answer->getArray("results");
    for (size_t i = 0; i < results->size(); ++i)
      if (results->getObject(static_cast<unsigned>(i))->getValue<std::string>("path") == rel)
        return static_cast<int>(i) + 1;
    return 0;
  };
  int worse = 0;  // known items that rank lower as answered (relaxed) than strictly
  auto ask = [&](const std::string& kind, const Doc& doc, const std::string& q) {
    auto answer = search(q, 10, true);
    const int rank = rank_in(answer, doc.rel), strict = rank_in(search(q, 10), doc.rel);
    if (strict > 0 && (rank == 0 || rank > strict)) {
      ++worse;
      std::cout << "  ranks lower relaxed (" << rank << ") than strict (" << strict << "): " << q
                << "\n";
    }
    Tally& t = tally[kind][doc.format];
    ++t.queries;
    if (rank > 0)
      ++t.found;
    else
      t.missed.push_back(doc.rel + "  q=" + q + "  (" +
                         std::to_string(answer->getValue<int>("total")) + " hits)");
  };
  for (const Doc& doc : items) {
    std::string phrase;
    for (const std::string& c : Candidates(doc.text))
      if (search("\"" + c + "\"", 1)->getValue<int64_t>("total") <= 10) {
        phrase = c;
        break;
      }
    if (phrase.empty()) {
      ++skipped["phrase"];
    } else {
      ask("phrase", doc, "\"" + phrase + "\"");
      ask("words", doc, phrase);
      const bool traditional = gongkai::indexer::FoldScript(phrase) != phrase;
      const std::string other = traditional ? t2s(phrase) : s2t(phrase);
      if (other != phrase)
        ask("script", doc, "\"" + other + "\"");
      else
        ++skipped["script"];
    }
    const std::string title = gongkai::indexer::FoldScript(Lower(doc.title));
    if (Chars(doc.title).size() >= 4 && title_count[title] <= 10)
      ask("title", doc, doc.title);
    else
      ++skipped["title"];
    if (!doc.number.empty()) ask("number", doc, doc.number);
  }

  std::cout << "quality: known-item search, expected document in the top 10 (anonymous)\n"
            << "  kind    format      found/queries\n";
  for (const auto& [kind, formats] : tally) {
    int q = 0, f = 0;
    for (const auto& [format, t] : formats) {
      q += t.queries;
      f += t.found;
      std::printf("  %-7s %-10s %5d/%-5d %6.1f %%\n", kind.c_str(), format.c_str(), t.found,
                  t.queries, 100.0 * t.found / t.queries);
      for (const std::string& m : t.missed) std::cout << "      missed: " << m << "\n";
    }
    std::printf("  %-7s %-10s %5d/%-5d %6.1f %%  (%d documents had no usable query)\n",
                kind.c_str(), "ALL", f, q, 100.0 * f / q, skipped[kind]);
  }
  CHECK(skipped["phrase"] * 20 <= static_cast<int>(items.size()));  // at most 5 % (19 of 798 now)
  for (const auto& [kind, formats] : tally)
    for (const auto& [format, t] : formats) {
      INFO(kind << " " << format << ": " << t.found << "/" << t.queries);
      CHECK(t.found >= kGoal * t.queries);
    }
  CHECK(tally.size() == 5);
  CHECK(worse == 0);  // relaxation never costs a known item its rank

  // 3. Citizens' questions (issue 18): tests/questions.py asks each split's
  // questions strictly and as answered; the goals hold on the held-out
  // split, whose question frames were not used to tune relaxation.
  const std::string questions =
      "/usr/bin/python3 " + gongkai::test::Quote(GONGKAI_SOURCE_DIR) + "/tests/questions.py ";
  const std::string url = "http://127.0.0.1:" + std::to_string(d.port());
  std::map<std::string, Poco::JSON::Object::Ptr> figures;  // split/mode -> eval's figures
  for (const std::string split : {"dev", "test"}) {
    const std::string file = d.root() + "/questions-" + split + ".tsv";
    REQUIRE(gongkai::test::RunCommand(questions + "generate --corpus " +
                                      gongkai::test::Quote(docs.string()) + " --split " + split +
                                      " > " + gongkai::test::Quote(file))
                .exit_code == 0);
    for (const std::string mode : {"strict", "relaxed"}) {
      const std::string out = d.root() + "/figures-" + split + "-" + mode + ".json";
      const auto run = gongkai::test::RunCommand(
          questions + "eval --url " + url + " --questions " + gongkai::test::Quote(file) +
          " --param share=pub --param relax=" + (mode == "strict" ? "0" : "1") + " --label " +
          mode + "-" + split + " --json " + gongkai::test::Quote(out) + " --misses");
      std::cout << "quality: questions " << run.out;
      REQUIRE(run.exit_code == 0);
      figures[split + "/" + mode] =
          Poco::JSON::Parser().parse(gongkai::test::Slurp(out)).extract<Poco::JSON::Object::Ptr>();
    }
  }
  const auto& held_out = figures["test/relaxed"];
  CHECK(held_out->getValue<int>("questions") >= 300);
  CHECK(held_out->getValue<double>("success_at_10") >= 0.90);
  CHECK(held_out->getValue<double>("zero_results") <= 0.02);
  CHECK(d.Stop() == 0);
}
