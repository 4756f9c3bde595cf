// Corpus test: every UTF-8 .txt and .html file of ../shared/corpus/docs is
// dropped into a share and must be found by a phrase taken from its own text.
// Skipped, saying so, when the corpus is absent.
#include <catch2/catch.hpp>
#include <filesystem>
#include <iostream>

#include "gongkai/indexer/extract.h"
#include "gongkai/utf8.h"
#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
namespace fs = std::filesystem;

namespace {

// A phrase of 6 consecutive CJK characters (or 3 consecutive ASCII words) from
// the middle of the text, or "" if there is none.
std::string PickPhrase(const std::string& text) {
  std::vector<std::pair<size_t, size_t>> chars;  // byte offset, length
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    chars.emplace_back(i, len);
    i += len;
  }
  auto is_cjk = [&](size_t k) {
    if (chars[k].second != 3) return false;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(text.data() + chars[k].first);
    unsigned cp = ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    return cp >= 0x4E00 && cp <= 0x9FFF;
  };
  for (size_t start : {chars.size() / 2, size_t{0}}) {
    size_t run = 0;
    for (size_t k = start; k < chars.size(); ++k) {
      run = is_cjk(k) ? run + 1 : 0;
      if (run == 6) {
        size_t b = chars[k - 5].first;
        return text.substr(b, chars[k].first + 3 - b);
      }
    }
  }
  // English: three alphabetic words in a row.
  std::vector<std::string> words;
  std::string cur;
  for (size_t i = text.size() / 2; i <= text.size(); ++i) {
    char c = i < text.size() ? text[i] : ' ';
    if (std::isalpha(static_cast<unsigned char>(c))) {
      cur += c;
    } else {
      if (cur.size() >= 4) {
        words.push_back(cur);
        if (words.size() == 3) return words[0] + " " + words[1] + " " + words[2];
      } else if (!cur.empty() || !std::isspace(static_cast<unsigned char>(c))) {
        words.clear();
      }
      cur.clear();
    }
  }
  return "";
}

}  // namespace

TEST_CASE("corpus: every UTF-8 text and HTML document is found by its own phrase",
          "[e2e][corpus]") {
  const fs::path docs = fs::path(GONGKAI_SHARED_DIR) / "corpus/docs";
  if (!fs::is_directory(docs)) {
    WARN("skipped: corpus not found at " << docs.string());
    return;
  }
  DaemonProcess d;
  std::map<std::string, std::string> phrases;  // share-relative path -> phrase
  for (const auto& e : fs::recursive_directory_iterator(docs)) {
    if (!e.is_regular_file()) continue;
    const std::string ext = e.path().extension().string();
    if (ext != ".txt" && ext != ".html") continue;
    const std::string bytes = gongkai::test::Slurp(e.path().string());
    if (!gongkai::IsValidUtf8(bytes)) continue;
    const std::string rel = fs::relative(e.path(), docs).string();
    auto extracted = gongkai::indexer::Extract(bytes, rel);
    std::string phrase = PickPhrase(extracted.text);
    if (phrase.empty()) continue;
    gongkai::test::WriteFile(d.FilePath("pub", rel), bytes);
    phrases[rel] = phrase;
  }
  INFO("documents with a phrase: " << phrases.size());
  REQUIRE(phrases.size() > 300);
  d.Start();
  d.WaitIdle(static_cast<int64_t>(phrases.size()), 900);
  size_t found = 0;
  std::vector<std::string> missed;
  for (const auto& [rel, phrase] : phrases) {
    // Boilerplate phrases match many documents: look through every page.
    bool hit = false;
    std::string q;
    Poco::URI::encode("\"" + phrase + "\"", "&=+?#/\"", q);
    for (int offset = 0; !hit; offset += 100) {
      auto r = d.Get("/api/v1/search?limit=100&offset=" + std::to_string(offset) + "&q=" + q);
      REQUIRE(r.status == 200);
      auto results = r.json()->getArray("results");
      for (size_t i = 0; i < results->size(); ++i)
        hit = hit ||
              results->getObject(static_cast<unsigned>(i))->getValue<std::string>("path") == rel;
      if (results->size() < 100) break;
    }
    if (hit)
      ++found;
    else
      missed.push_back(rel + " (\"" + phrase + "\")");
  }
  std::string missed_list;
  for (const auto& m : missed) missed_list += "\n  " + m;
  INFO("not found:" << missed_list);
  CHECK(found == phrases.size());
  CHECK(d.Stop() == 0);
}
