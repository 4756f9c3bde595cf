#include <catch2/catch.hpp>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <xapian.h>
#include <map>
#include <random>
#include <sstream>

#include "../indexer/src/entry_data.h"

#include "gongkai/indexer/chinese.h"
#include "gongkai/indexer/extract.h"
#include "gongkai/indexer/index.h"
#include "gongkai/indexer/question.h"
#include "gongkai/utf8.h"
#include "support/temp_dir.h"

using namespace gongkai::indexer;
using gongkai::test::TempDir;

TEST_CASE("encoding: BOMs, UTF-16, GBK and Big5 become UTF-8", "[indexer]") {
  const std::string text = "關於政務公開的通知";  // Traditional
  const std::string simplified = "关于政务公开的通知";
  std::string enc;
  CHECK(ToUtf8(text, &enc) == text);
  CHECK(enc == "UTF-8");
  CHECK(ToUtf8("\xEF\xBB\xBF" + text, &enc) == text);
  // UTF-16LE with BOM: "公開" = U+516C U+958B
  CHECK(ToUtf8(std::string("\xFF\xFE\x6C\x51\x8B\x95", 6), &enc) == "公開");
  CHECK(enc == "UTF-16LE");
  CHECK(ToUtf8(std::string("\xFE\xFF\x51\x6C\x95\x8B", 6), &enc) == "公開");
  // GBK bytes of the Simplified text, long enough for detection.
  std::string gbk = ConvertToUtf8("", "GB18030");  // empty stays empty
  CHECK(gbk.empty());
  const std::string gbk_bytes =
      "\xb9\xd8\xd3\xda\xd5\xfe\xce\xf1\xb9\xab\xbf\xaa\xb5\xc4\xcd\xa8\xd6\xaa";  // 关于政务公开的通知
  CHECK(ToUtf8(gbk_bytes + gbk_bytes + gbk_bytes, &enc) == simplified + simplified + simplified);
  const std::string big5_bytes =
      "\xc3\xf6\xa9\xf3\xac\x46\xb0\xc8\xa4\xbd\xb6\x7d";  // 關於政務公開
  CHECK(ConvertToUtf8(big5_bytes, "BIG5-HKSCS") == "關於政務公開");
  // Invalid bytes never truncate: they become U+FFFD and the rest survives.
  std::string broken = ConvertToUtf8("\xb9\xd8\xff\xd3\xda", "GB18030");
  CHECK(broken.find("关") == 0);
  CHECK(broken.find("\xEF\xBF\xBD") != std::string::npos);
  CHECK(broken.find("于") != std::string::npos);
  CHECK(gongkai::IsValidUtf8(ToUtf8("\x80\x81\xfe garbage \xff", nullptr)));
}

TEST_CASE("whitespace: wraps inside Chinese sentences are joined", "[indexer]") {
  CHECK(NormalizeWhitespace("政務 公開") == "政務公開");
  CHECK(NormalizeWhitespace("政務\u3000公開") == "政務公開");
  CHECK(NormalizeWhitespace("open   government\t data") == "open government data");
  CHECK(NormalizeWhitespace("第一段。\n\n第二段。") == "第一段。\n第二段。");
  CHECK(NormalizeWhitespace("  中文 English 中文  ") == "中文 English 中文");
}

TEST_CASE("extract: HTML title and body, scripts and styles dropped", "[indexer]") {
  auto e = Extract(
      "<html><head><meta "
      "charset=\"utf-8\"><title>政务公开\n方案</title><style>p{x:1}</style></head>"
      "<body><p>第一<span>段</span>&nbsp;文字&amp;符號</p><script>alert('不要')</script>"
      "<p>第二段</p></body></html>",
      "dir/plan.HTM");
  CHECK(e.type == "html");
  CHECK(e.has_text);
  CHECK(e.title == "政务公开方案");
  CHECK(e.text.find("第一段文字&符號") != std::string::npos);
  CHECK(e.text.find("第二段") != std::string::npos);
  CHECK(e.text.find("不要") == std::string::npos);
  CHECK(e.text.find("p{x:1}") == std::string::npos);
}

TEST_CASE("extract: HTML in a declared legacy charset, and a heading as title", "[indexer]") {
  const std::string gbk_body = "\xd5\xfe\xce\xf1\xb9\xab\xbf\xaa";  // 政务公开
  auto e = Extract(
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">"
      "</head><body><h1>" +
          gbk_body + "</h1><p>" + gbk_body + "</p></body></html>",
      "a.html");
  CHECK(e.title == "政务公开");
  CHECK(e.text.find("政务公开") != std::string::npos);
}

TEST_CASE("extract: text title, markdown heading, binary and unknown types", "[indexer]") {
  auto t = Extract("\n\n  通知標題  \n正文內容。\n", "a.txt");
  CHECK(t.title == "通知標題");
  CHECK(t.has_text);
  CHECK(Extract("# 法規名稱\n\n## 第一章\n", "law.md").title == "法規名稱");
  CHECK_FALSE(Extract(std::string("abc\0def", 7), "x.txt").has_text);
  auto pdf = Extract("%PDF-1.4 ...", "scan.pdf");
  CHECK(pdf.type == "pdf");
  CHECK_FALSE(pdf.has_text);
  CHECK_FALSE(pdf.note.empty());
  CHECK(Extract("", "empty.txt").note == "empty file");
  CHECK(TypeFromName("README") == "file");
  CHECK(TypeFromName("a.b/c") == "file");
  CHECK(TypeFromName("x.Docx") == "docx");
}

TEST_CASE("script folding: Traditional to Simplified", "[indexer]") {
  CHECK(FoldScript("關於政務公開的通知") == "关于政务公开的通知");
  CHECK(FoldScript("关于政务公开") == "关于政务公开");
  CHECK(FoldScript("plain ASCII 123") == "plain ASCII 123");
  // Character by character, whatever surrounds a character (ASCII, a CJK
  // extension B character, a string cut anywhere): the same as OpenCC gives.
  CHECK(FoldScript("臺灣a環\t境 \xF0\xA0\x80\x80 國") == "台湾a环\t境 \xF0\xA0\x80\x80 国");
  CHECK(FoldScript("環") + FoldScript("境保護") == FoldScript("環境保護"));
  // A truncated sequence at the end (a raw CLI query) is repaired, not read past.
  const std::string truncated = "道路養護\xe9";
  CHECK(FoldScript(std::string_view(truncated)) == "道路养护\xEF\xBF\xBD");
  // Folding is per character, so a phrase cut from inside a word folds the
  // same way as it does inside the word (OpenCC's phrase table would give 计划线).
  CHECK(FoldScript("計畫線").find(FoldScript("畫線")) != std::string::npos);
  // Words the two sides of the strait write differently meet in one form.
  CHECK(FoldScript("都市計畫") == FoldScript("都市计划"));
  CHECK(FoldScript("瞭解") == FoldScript("了解"));
  CHECK(FoldScript("座標軸") == FoldScript("坐标轴"));
  CHECK(FoldScript("計畫") != FoldScript("计算"));
}

namespace {

IndexDoc Doc(const std::string& id, const std::string& share, const std::string& text,
             bool anon = true) {
  IndexDoc d;
  d.id = id;
  d.share = share;
  d.path = id + ".txt";
  d.office = "office-" + share;
  d.title = "標題" + id;
  d.type = "txt";
  d.version = 1;
  d.status = "active";
  d.classification = anon ? "public" : "restricted";
  d.modified = "2026-01-0" + id.substr(id.size() - 1) + "T00:00:00Z";
  d.for_public = anon;
  d.text = text;
  return d;
}

void Put(IndexWriter& w, const IndexDoc& d) { REQUIRE(w.Replace(d).ok()); }

// The strict answer (SearchQuery::relax off), unless `relax`.
std::vector<std::string> Ids(Searcher& s, const std::string& q, bool anonymous = false,
                             bool relax = false) {
  SearchQuery sq;
  sq.q = q;
  sq.anonymous = anonymous;
  sq.relax = relax;
  auto r = s.Search(sq);
  REQUIRE(r.ok());
  std::vector<std::string> out;
  for (const auto& h : r->hits) out.push_back(h.doc.id);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

namespace {

// Every stored field of `d`, as (name, value) text, for comparing two documents.
std::map<std::string, std::string> StoredFields(const IndexDoc& d) {
  return {{"id", d.id},
          {"share", d.share},
          {"path", d.path},
          {"office", d.office},
          {"title", d.title},
          {"type", d.type},
          {"sha256", d.sha256},
          {"modified", d.modified},
          {"published", d.published},
          {"status", d.status},
          {"classification", d.classification},
          {"category", d.category},
          {"text_note", d.text_note},
          {"member", d.member},
          {"doc_number", d.doc_number},
          {"origin", d.origin},
          {"version", std::to_string(d.version)},
          {"size", std::to_string(d.size)},
          {"for_inspectors", d.for_inspectors ? "1" : "0"},
          {"for_public", d.for_public ? "1" : "0"}};
}

// Random text: ASCII with JSON's special characters and controls, Chinese,
// characters outside the BMP (surrogate pairs when escaped).
std::string RandomText(std::mt19937& rng) {
  static const char32_t kPicks[] = {'"',    '\\',   '/',    '\b',   '\f',    '\n',    '\r',    '\t',
                                    0x01,   0x1F,   ' ',    'a',    'Z',     '7',     0x7F,    0xE9,
                                    0x2028, 0x516C, 0x958B, 0xFFFD, 0x1F600, 0x20000, 0x10FFFF};
  std::string out;
  const size_t n = rng() % 24;
  for (size_t i = 0; i < n; ++i) gongkai::AppendUtf8(kPicks[rng() % std::size(kPicks)], out);
  return out;
}

}  // namespace

TEST_CASE("index entry data: every field read back, as Poco's parser reads it, in any escaping",
          "[indexer]") {
  std::mt19937 rng(17);
  for (int round = 0; round < 300; ++round) {
    IndexDoc d;
    for (std::string* text : {&d.id, &d.share, &d.path, &d.office, &d.title, &d.type, &d.sha256,
                              &d.modified, &d.published, &d.status, &d.classification, &d.category,
                              &d.text_note, &d.member, &d.doc_number, &d.origin})
      *text = RandomText(rng);
    d.version = static_cast<int64_t>(rng()) - (int64_t{1} << 31);
    d.size = round == 0 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(rng());
    d.for_inspectors = rng() % 2 == 0;
    d.for_public = rng() % 2 == 0;
    d.text = "not stored";
    const std::string data = EncodeData(d);
    IndexDoc expected = d;
    expected.text.clear();
    REQUIRE(StoredFields(DecodeData(data)) == StoredFields(expected));
    CHECK(DecodeData(data).text.empty());

    // The same object as Poco writes it with every non-ASCII character
    // escaped (\uXXXX, pairs beyond the BMP), and pretty-printed.
    Poco::JSON::Object::Ptr parsed =
        Poco::JSON::Parser().parse(data).extract<Poco::JSON::Object::Ptr>();
    Poco::JSON::Object escaped(Poco::JSON_ESCAPE_UNICODE);
    for (const auto& [key, value] : *parsed) escaped.set(key, value);
    std::ostringstream out;
    escaped.stringify(out, 2);
    const std::string ascii = out.str();
    INFO(ascii);
    CHECK(std::none_of(ascii.begin(), ascii.end(), [](char c) { return c & 0x80; }));
    REQUIRE(StoredFields(DecodeData(ascii)) == StoredFields(expected));
  }

  // Missing fields read as IndexDoc's defaults; fields of another release
  // are skipped; a lone surrogate is U+FFFD.
  const IndexDoc empty = DecodeData(" { } ");
  CHECK(StoredFields(empty) == StoredFields(IndexDoc()));
  const IndexDoc other = DecodeData(
      R"({"later":"x\"y","n":-1.5e3,"t":true,"z":null,"title":"\u516c\u958B \ud83d\ude00 \/ )"
      R"(\ud800x \udc00","version" : 7 })");
  CHECK(other.title == "公開 😀 / \xEF\xBF\xBDx \xEF\xBF\xBD");
  CHECK(other.version == 7);
  CHECK(other.for_inspectors);

  // Anything else is refused with the byte where it went wrong.
  for (const char* bad :
       {"", "{", "[]", R"({"id":1})", R"({"version":"7"})", R"({"version":1.5})",
        R"({"version":99999999999999999999})", R"({"for_public":1})", R"({"id":"a"} x)",
        R"({"id":"a\q"})", R"({"id":"\u12"})", R"({"id":"\u12G4"})", R"({"id":"a)",
        R"({"id":"a",})", R"({"x":[1]})", R"({"x":{}})", R"({"id" "a"})"}) {
    INFO(bad);
    CHECK_THROWS_AS(DecodeData(bad), Poco::DataFormatException);
  }
}

TEST_CASE("index: CJK words and phrases in either script, filters, watermark", "[indexer]") {
  TempDir dir;
  {
    auto w = IndexWriter::Open(dir / "index");
    REQUIRE(w.ok());
    CHECK((*w)->watermark() == -1);
    Put(**w, Doc("d1", "pub", "本鄉道路養護經費公開，歡迎群眾監督。"));
    Put(**w, Doc("d2", "pub", "关于印发政务公开实施方案的通知"));
    Put(**w, Doc("d3", "sec", "內部保密審查材料，道路規劃。", false));
    REQUIRE((*w)->Commit(41).ok());
    CHECK((*w)->doc_count() == 3);
  }
  auto w = IndexWriter::Open(dir / "index");
  CHECK((*w)->watermark() == 41);  // durable with the documents

  Searcher s(dir / "index");
  CHECK(Ids(s, "經費") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "经费") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "道路") == std::vector<std::string>{"d1", "d3"});
  CHECK(Ids(s, "道路", true) == std::vector<std::string>{"d1"});  // restricted filtered
  CHECK(Ids(s, "政務公開實施方案") == std::vector<std::string>{"d2"});
  CHECK(Ids(s, "\"群眾監督\"") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "\"監督群眾\"").empty());
  CHECK(Ids(s, "道路 -保密") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "經費 OR 方案") == std::vector<std::string>{"d1", "d2"});
  CHECK(Ids(s, "\"unbalanced").empty());  // a syntax error is not an exception

  // Replace is idempotent; Remove drops; the searcher sees commits after Invalidate.
  Put(**w, Doc("d1", "pub", "改寫後的內容"));
  REQUIRE((*w)->Remove("d2").ok());
  REQUIRE((*w)->Commit(42).ok());
  s.Invalidate();
  CHECK(Ids(s, "經費").empty());
  CHECK(Ids(s, "改寫") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "方案").empty());

  SearchQuery all;
  all.anonymous = false;
  auto r = s.Search(all);
  CHECK(r->total == 2);
  CHECK(r->hits.front().doc.id == "d3");  // newest first
  CHECK(r->facets["share"]["pub"] == 1);
  CHECK(r->facets["share"]["sec"] == 1);
  all.share = "sec";
  CHECK(s.Search(all)->total == 1);
  all.anonymous = true;
  CHECK(s.Search(all)->total == 0);
  CHECK(s.Get("d1")->title == "標題d1");
  CHECK(s.Get("nope").status().IsNotFound());
}

TEST_CASE("index: snippets highlight the document's own characters for a query in the other script",
          "[indexer]") {
  TempDir dir;
  auto w = IndexWriter::Open(dir / "index");
  IndexDoc d = Doc("d1", "pub", "臺北市政府環境保護局公告：空氣品質監測結果。");
  d.for_public = true;
  REQUIRE((*w)->Replace(d).ok());
  REQUIRE((*w)->Commit(0).ok());
  Searcher s(dir / "index");
  SearchQuery q;
  q.q = "环境保护局";
  auto r = s.Search(q);
  REQUIRE(r.ok());
  REQUIRE(r->hits.size() == 1);
  const std::string& snippet = r->hits[0].snippet;
  INFO(snippet);
  // Every character of 環境保護局 is marked (some as one run), in Traditional.
  std::string marked;
  for (size_t p = 0; (p = snippet.find("<b>", p)) != std::string::npos;) {
    size_t e = snippet.find("</b>", p);
    marked += snippet.substr(p + 3, e - p - 3);
    p = e;
  }
  CHECK(marked.find("環境保護局") != std::string::npos);
  CHECK(snippet.find("环") == std::string::npos);
}

TEST_CASE(
    "index: a snippet shows where a phrase in the other script matched, in the document's script",
    "[indexer]") {
  TempDir dir;
  auto w = IndexWriter::Open(dir / "index");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "說明事項與其他內容。";  // 6 KB before the match
  text += "由主管機關依 A&B <條例> 辦理。";
  for (int i = 0; i < 50; ++i) text += "後續內容。";
  REQUIRE((*w)->Replace(Doc("d1", "pub", text)).ok());
  REQUIRE((*w)->Commit(0).ok());
  Searcher s(dir / "index");
  SearchQuery q;
  q.q = "\"主管机关\"";
  auto r = s.Search(q);
  REQUIRE(r.ok());
  REQUIRE(r->hits.size() == 1);
  const std::string& snippet = r->hits[0].snippet;
  INFO(snippet);
  CHECK(snippet.find("<b>主管機關</b>") !=
        std::string::npos);  // the phrase, as one run, in Traditional
  CHECK(snippet.find("A&amp;B &lt;條例&gt;") != std::string::npos);  // still escaped
  CHECK(snippet.find("说明") == std::string::npos);
  CHECK(snippet.find("机关") == std::string::npos);
}

TEST_CASE("index: English by stem and case-folded, numbers as typed", "[indexer]") {
  TempDir dir;
  auto w = IndexWriter::Open(dir / "index");
  Put(**w,
      Doc("d1", "pub", "Licences were published for the 2024 township budget. Contact ROOM 305."));
  Put(**w, Doc("d2", "pub", "The licensing office publishes reports quarterly."));
  Put(**w, Doc("d3", "pub", "縣政府公開預算 budgetary notes"));
  REQUIRE((*w)->Commit(1).ok());
  Searcher s(dir / "index");
  CHECK(Ids(s, "licence") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "publishing") == std::vector<std::string>{"d1", "d2"});  // published, publishes
  CHECK(Ids(s, "report") == std::vector<std::string>{"d2"});
  CHECK(Ids(s, "BUDGET") == std::vector<std::string>{"d1"});  // case-folded, exact word
  CHECK(Ids(s, "room 305") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "2024 budget") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "\"township budget\"") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "\"budget township\"").empty());
  CHECK(Ids(s, "预算 budgetary") == std::vector<std::string>{"d3"});  // mixed scripts and languages
  CHECK(Ids(s, "2025").empty());
}

TEST_CASE("index: CJK n-grams get no stems, which no query could reach – English words keep theirs",
          "[indexer]") {
  // The parser as Searcher sets it up: a query for any code point whose stems
  // Prepare leaves out never asks for a stem ("Z" term).
  Xapian::QueryParser qp;
  qp.set_stemmer(Xapian::Stem("english"));
  qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  const unsigned flags = Xapian::QueryParser::FLAG_DEFAULT | Xapian::QueryParser::FLAG_CJK_NGRAM;
  const auto stems_asked = [&](unsigned c) {
    std::string text;
    Xapian::Unicode::append_utf8(text, c);
    text += text + " x";  // a bigram too, and a Latin word after it
    const Xapian::Query q = qp.parse_query(text, flags);
    for (auto t = q.get_terms_begin(); t != q.get_terms_end(); ++t)
      if ((*t)[0] == 'Z' && *t != "Zx") return true;
    return false;
  };
  REQUIRE(stems_asked(0x0628));  // an Arabic letter is stemmed, so the check can fail
  REQUIRE_FALSE(IsCjkNgramCodePoint(0x0628));
  size_t swept = 0;
  std::vector<unsigned> stemmed;
  for (unsigned c = 0; c <= 0x10FFFF; ++c) {
    if (!IsCjkNgramCodePoint(c) || !Xapian::Unicode::is_wordchar(c)) continue;
    ++swept;
    if (stems_asked(c)) stemmed.push_back(c);
  }
  CHECK(swept > 70000);
  CHECK(stemmed.empty());

  TempDir dir;
  {
    auto w = IndexWriter::Open(dir / "index");
    Put(**w, Doc("d1", "pub", "中華民國 running the tests，ｇｏｖ２０２４"));
    REQUIRE((*w)->Commit(1).ok());
  }
  Xapian::Database db(dir / "index");
  std::vector<std::string> cjk_stems;
  for (auto t = db.allterms_begin("Z"); t != db.allterms_end("Z"); ++t)
    if (IsCjkNgramCodePoint(*Xapian::Utf8Iterator((*t).substr((*t)[1] == 'S' ? 2 : 1))))
      cjk_stems.push_back(*t);
  CHECK(cjk_stems.empty());
  CHECK(db.term_exists("Zrun"));
  CHECK(db.term_exists("中华"));
  CHECK(db.positionlist_begin(1, "华") != db.positionlist_end(1, "华"));
  Searcher s(dir / "index");
  CHECK(Ids(s, "runs") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "中華民國") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "\"华民\"") == std::vector<std::string>{"d1"});
}

TEST_CASE("index: queries Xapian's parser refuses are taken word by word", "[indexer]") {
  TempDir dir;
  auto w = IndexWriter::Open(dir / "index");
  Put(**w, Doc("d1", "pub", "第 9 章 Unix 服務 與 網路 設定"));
  Put(**w, Doc("d2", "pub", "第 9 章 其他"));
  REQUIRE((*w)->Commit(1).ok());
  Searcher s(dir / "index");
  CHECK(Ids(s, "第 9 章 Unix 服务") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "9 章 Unix") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "Unix 服务 a 网路") == std::vector<std::string>{});  // every word required, "a" too
  CHECK(Ids(s, "Unix 服务 设定") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "\"9 章 Unix") == std::vector<std::string>{"d1"});
  // Taken word by word, an excluded word stays excluded: not required instead.
  Put(**w, Doc("d3", "pub", "第 9 章 Unix 服務 草稿"));
  REQUIRE((*w)->Commit(2).ok());
  s.Invalidate();
  CHECK(Ids(s, "第 9 章 Unix 服务 -草稿") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "第 9 章 Unix 服务 NOT 草稿") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "-草稿 第 9 章 Unix 服务") == std::vector<std::string>{"d1"});
}

TEST_CASE("index: document numbers are found as typed, with any of the bracket variants",
          "[indexer]") {
  TempDir dir;
  auto w = IndexWriter::Open(dir / "index");
  Put(**w, Doc("d1", "pub", "国务院办公厅关于印发实施方案的通知 国办发〔2020〕12号 各省人民政府"));
  Put(**w, Doc("d2", "pub", "行政院環境保護署公告 環署綜字第1030062324號 中華民國103年"));
  Put(**w, Doc("d3", "pub", "国办发〔2021〕3号 另一份文件，2020年12月"));
  REQUIRE((*w)->Commit(1).ok());
  Searcher s(dir / "index");
  for (const char* q : {"国办发〔2020〕12号", "国办发[2020]12号", "国办发(2020)12号",
                        "国办发（2020）12号", "国办发【2020】12号", "国办发〔2020〕12號",
                        "國辦發〔2020〕12號", "\"国办发〔2020〕12号\""}) {
    INFO(q);
    CHECK(Ids(s, q) == std::vector<std::string>{"d1"});
  }
  for (const char* q : {"環署綜字第1030062324號", "环署综字第1030062324号", "1030062324",
                        "\"環署綜字第1030062324號\""}) {
    INFO(q);
    CHECK(Ids(s, q) == std::vector<std::string>{"d2"});
  }
  CHECK(Ids(s, "国办发〔2021〕3号") == std::vector<std::string>{"d3"});
  CHECK(Ids(s, "关于国办发(2020)12号 方案") == std::vector<std::string>{"d1"});
  CHECK(Ids(s, "国办发〔2022〕12号").empty());
  // An excluded number stays excluded: the "-" stays on its phrase.
  CHECK(Ids(s, "国办发 -国办发(2020)12号") == std::vector<std::string>{"d3"});
  CHECK(Ids(s, "国办发 NOT 国办发(2020)12号") == std::vector<std::string>{"d3"});
}

TEST_CASE("query: document numbers become phrases, other brackets stay", "[indexer]") {
  CHECK(QuoteDocumentNumbers("国办发(2020)12号") == " \"国办发〔2020〕12号\" ");
  CHECK(QuoteDocumentNumbers("京政办发【2019】7号 通知") == "京 \"政办发〔2019〕7号\"  通知");
  CHECK(QuoteDocumentNumbers("a 国发[2021]3号 和 财预〔2022〕15號") ==
        "a  \"国发〔2021〕3号\"  和  \"财预〔2022〕15号\" ");
  CHECK(QuoteDocumentNumbers("\"国发[2021]3号\"") == "\"国发[2021]3号\"");  // already quoted
  CHECK(QuoteDocumentNumbers("预算 (2020 OR 2021)") == "预算 (2020 OR 2021)");
  CHECK(QuoteDocumentNumbers("国发(20)3号") == "国发(20)3号");    // not a year
  CHECK(QuoteDocumentNumbers("(2020)12号") == "(2020)12号");      // no agency
  CHECK(QuoteDocumentNumbers("国发(2020)号") == "国发(2020)号");  // no number
  CHECK(QuoteDocumentNumbers("国发(2020)12") == "国发(2020)12");
  CHECK(QuoteDocumentNumbers("") == "");
  CHECK(QuoteDocumentNumbers("\xE5\x9B(2020)1\xE5") == "\xE5\x9B(2020)1\xE5");  // truncated UTF-8
  // Two numbers typed together: the second's agency stops where the first
  // number ended, it does not take the first's 号 (nor copy the rest twice).
  CHECK(QuoteDocumentNumbers("国发(2020)1号国发(2021)2号") ==
        " \"国发〔2020〕1号\"  \"国发〔2021〕2号\" ");
  CHECK(QuoteDocumentNumbers("通知 -国发(2020)1号") == "通知 -\"国发〔2020〕1号\" ");
  CHECK(QuoteDocumentNumbers("+国发(2020)1号") == "+\"国发〔2020〕1号\" ");
  CHECK(QuoteDocumentNumbers("财预(2020)1号发(2021)2号") ==
        " \"财预〔2020〕1号\"  \"发〔2021〕2号\" ");
}

TEST_CASE("index: a type, category or office too long for a Xapian term is cut, not refused",
          "[indexer]") {
  TempDir dir;
  auto w = IndexWriter::Open(dir / "index");
  IndexDoc d = Doc("d1", "pub", "超長欄位測試");
  d.type = std::string(300, 'x');                    // a file named "report." + 300 letters
  for (int i = 0; i < 100; ++i) d.category += "類";  // 300 bytes, cut on a character boundary
  d.office = d.category;
  REQUIRE((*w)->Replace(d).ok());
  REQUIRE((*w)->Commit(1).ok());
  Searcher s(dir / "index");
  SearchQuery q;
  q.q = "超長欄位";
  q.type = d.type;
  q.category = d.category;
  q.office = d.office;
  auto r = s.Search(q);
  REQUIRE(r.ok());
  REQUIRE(r->hits.size() == 1);
  CHECK(r->hits[0].doc.type == d.type);  // the document's own data keeps the whole value
  q.type = std::string(299, 'x');
  CHECK(s.Search(q)->hits.size() ==
        1);  // the cut is shared: a filter this long cannot tell them apart
  q.type = "pdf";
  CHECK(s.Search(q)->hits.empty());
}

TEST_CASE("question: frames and function words are told apart from the words looked for",
          "[indexer][relax]") {
  using Words = std::vector<std::string>;
  auto q = SplitQuestion("请问交通部关于航空站回馈金分配的办法在哪里");
  REQUIRE(q);
  CHECK(q->words == Words{"交通部", "航空站回馈金分配", "办法"});
  CHECK(q->dropped == Words{"请问", "关于", "的", "在哪里"});
  // Traditional: matched after folding, given back as typed.
  q = SplitQuestion("請問交通部關於航空站回饋金分配的辦法在哪裡？");
  REQUIRE(q);
  CHECK(q->words == Words{"交通部", "航空站回饋金分配", "辦法"});
  CHECK(q->dropped == Words{"請問", "關於", "的", "在哪裡"});
  // The longest frame wins, each dropped word is listed once, punctuation splits.
  q = SplitQuestion("有没有测绘法的的文件，在哪里能查到");
  REQUIRE(q);
  CHECK(q->words == Words{"测绘法"});
  CHECK(q->dropped == Words{"有没有", "的", "文件", "在哪里能查到"});
  q = SplitQuestion("where can I find the Civil Aeronautics Act?");
  REQUIRE(q);
  CHECK(q->words == Words{"Civil", "Aeronautics", "Act"});
  CHECK(q->dropped == Words{"where", "can", "I", "find", "the"});
  q = SplitQuestion("2026年政府工作报告 浙江");
  REQUIRE(q);
  CHECK(q->words == Words{"2026年政府工作报告", "浙江"});
  CHECK(q->dropped.empty());
  q = SplitQuestion("请问在哪里");
  REQUIRE(q);
  CHECK(q->words.empty());
  // The nouns of asking only at a word's edges: not inside a name.
  q = SplitQuestion("请提供申请表的文件");
  REQUIRE(q);
  CHECK(q->words == Words{"申请表"});
  CHECK(q->dropped == Words{"请提供", "的", "文件"});
  q = SplitQuestion("查询政府信息查询系统的规定");
  REQUIRE(q);
  CHECK(q->words == Words{"政府信息查询系统"});
  CHECK(q->dropped == Words{"查询", "的", "规定"});
  CHECK_FALSE(SplitQuestion("目錄文件乙"));
  // One word and nothing around it: a name or an unquoted phrase, kept exact.
  CHECK_FALSE(SplitQuestion("唯一標記戊2號己"));
  CHECK_FALSE(SplitQuestion("  航空站回馈金分配办法？"));
  // Bad bytes: folded (repaired) words, valid UTF-8.
  q = SplitQuestion("\xff请问经费\xe9");
  REQUIRE(q);
  for (const auto& w : q->words) CHECK(gongkai::IsValidUtf8(w));
  // The query language keeps its exact meaning: never relaxed.
  for (const char* exact :
       {"\"航空站\" 回馈金", "“航空站的回馈金”", "经费 OR 方案", "经费 AND 方案", "道路 NOT 保密",
        "道路 -保密", "+道路 经费", "title:方案", "(道路 经费)", "国办发〔2020〕12号在哪里",
        "请问国办发(2020)12号"})
    CHECK_FALSE(SplitQuestion(exact));
}

TEST_CASE("index: a question without a strict match is relaxed, a query that matches is not",
          "[indexer][relax]") {
  TempDir dir;
  auto w = IndexWriter::Open(dir / "index");
  REQUIRE(w.ok());
  IndexDoc fee = Doc("d1", "pub", "交通部訂定航空站回饋金分配及使用辦法，自公布日施行。");
  fee.title = "航空站回饋金分配及使用辦法";
  Put(**w, fee);
  IndexDoc secret = Doc("d2", "pub", "交通部航空站回饋金分配辦法內部檢討意見。", false);
  Put(**w, secret);
  for (const char* id : {"d3", "d4", "d5"}) Put(**w, Doc(id, "pub", "道路養護經費公開。"));
  Put(**w, Doc("d6", "pub", "航空器登記規則。"));  // one pair of the question's: too few
  Put(**w, Doc("d7", "other", "航空站回饋金分配辦法說明。"));
  REQUIRE((*w)->Commit(1).ok());
  Searcher s(dir / "index");

  SearchQuery sq;
  sq.q = "请问交通部关于航空站回馈金分配的办法在哪里";
  sq.share = "pub";
  auto r = s.Search(sq);
  REQUIRE(r.ok());
  CHECK(r->relaxed);
  CHECK(r->strict_total == 0);
  CHECK(r->dropped == std::vector<std::string>{"请问", "关于", "的", "在哪里"});
  REQUIRE(r->total == 1);  // not the restricted d2, not d6 (too few pairs), not d7 (other share)
  CHECK(r->hits[0].doc.id == "d1");
  CHECK(r->hits[0].snippet.find("<b>") != std::string::npos);
  CHECK(r->facets["share"]["pub"] == 1);
  // Inspectors see the restricted one too; the strict answer is empty.
  sq.anonymous = false;
  CHECK(s.Search(sq)->total == 2);
  sq.relax = false;
  CHECK(s.Search(sq)->total == 0);
  CHECK_FALSE(s.Search(sq)->relaxed);

  // Fewer than kRelaxBelow strict matches: those first, then the relaxed ones.
  sq = SearchQuery();
  sq.q = "航空站回饋金 分配及使用辦法";  // strict: d1 only
  sq.anonymous = false;
  r = s.Search(sq);
  REQUIRE(r->relaxed);
  CHECK(r->strict_total == 1);
  REQUIRE(r->total == 3);
  CHECK(r->hits[0].doc.id == "d1");
  CHECK(r->optional == std::vector<std::string>{"航空站回饋金", "分配及使用辦法"});
  sq.offset = 1;
  sq.limit = 1;
  r = s.Search(sq);
  CHECK(r->total == 3);
  REQUIRE(r->hits.size() == 1);
  CHECK(r->hits[0].doc.id != "d1");

  // A query that matches kRelaxBelow documents is answered as without relaxation.
  CHECK(Ids(s, "道路養護經費", false, true) == std::vector<std::string>{"d3", "d4", "d5"});
  sq = SearchQuery();
  sq.q = "道路養護經費";
  r = s.Search(sq);
  CHECK(r->strict_total == 3);
  CHECK(r->total == 3);
  CHECK_FALSE(r->relaxed);
  // Nor is one word alone, or the query language.
  sq = SearchQuery();
  sq.q = "航空站回饋金分配辦法";  // d2 and d7 hold it: not even one public match in pub
  sq.share = "pub";
  r = s.Search(sq);
  CHECK_FALSE(r->relaxed);
  CHECK(r->total == 0);
  CHECK(Ids(s, "\"航空站的回馈金\"", true, true).empty());
  CHECK(Ids(s, "航空站的回馈金 -使用", true, true).empty());
}

TEST_CASE("index: relaxed answers hold only what the strict query could show (property)",
          "[indexer][relax]") {
  // Random documents from a few characters, in every state of visibility,
  // and random questions over them: whatever relaxation adds, an anonymous
  // caller only ever sees public, active entries, exactly as strictly.
  const uint32_t seed = 20261205;
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  const std::vector<std::string> chars = {"航", "空", "站", "回", "馈",
                                          "金", "分", "配", "办", "法"};
  auto text = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += chars[rng() % chars.size()];
    return s;
  };
  TempDir dir;
  auto w = IndexWriter::Open(dir / "index");
  REQUIRE(w.ok());
  std::map<std::string, IndexDoc> docs;
  for (int i = 0; i < 60; ++i) {
    IndexDoc d = Doc("p" + std::to_string(i) + "0", "pub", text(12), rng() % 2 == 0);
    d.status = rng() % 4 == 0 ? "withdrawn" : "active";
    Put(**w, d);
    docs[d.id] = d;
  }
  REQUIRE((*w)->Commit(1).ok());
  Searcher s(dir / "index");
  const std::vector<std::string> frames = {"请问{}在哪里", "{}的文件", "有没有{}", "{}怎么查"};
  int relaxed = 0;
  for (int round = 0; round < 300; ++round) {
    std::string q = frames[rng() % frames.size()];
    q.replace(q.find("{}"), 2, text(3) + "的" + text(3));
    SearchQuery sq;
    sq.q = q;
    sq.limit = 100;
    auto r = s.Search(sq);
    REQUIRE(r.ok());
    relaxed += r->relaxed;
    INFO(q);
    for (const auto& h : r->hits) {
      CHECK(docs.at(h.doc.id).for_public);
      CHECK(docs.at(h.doc.id).status == "active");
    }
  }
  CHECK(relaxed > 100);  // the property was exercised
}

TEST_CASE("index: several databases searched as one, each hit with its origin, with metadata kept",
          "[indexer]") {
  TempDir dir;
  const std::vector<std::string> dirs = {dir / "a", dir / "b", dir / "c"};
  for (size_t i = 0; i < dirs.size(); ++i) {
    auto w = IndexWriter::Open(dirs[i]);
    REQUIRE(w.ok());
    // Shard i holds i + 1 documents, each "shard i" in its text, from origins
    // "o<i>" and (in shard 2) "x".
    for (size_t k = 0; k <= i; ++k) {
      IndexDoc d = Doc("s" + std::to_string(i) + "d" + std::to_string(k + 1), "pub",
                       "鄉鎮公告 shard" + std::to_string(i));
      d.origin = i == 2 && k == 0 ? "x" : "o" + std::to_string(i);
      Put(**w, d);
    }
    REQUIRE((*w)->SetMetadata("hub.tree", std::string("\0\1bytes", 7)).ok());
    CHECK_FALSE((*w)->SetMetadata("gongkai.watermark", "9").ok());  // the index's own
    REQUIRE((*w)->Commit(7).ok());
  }
  auto reopened = IndexWriter::Open(dirs[1]);
  REQUIRE(reopened.ok());
  CHECK(*(*reopened)->Metadata("hub.tree") == std::string("\0\1bytes", 7));
  CHECK(*(*reopened)->Metadata("none") == "");
  reopened->reset();

  Searcher s(dirs);
  SearchQuery q;
  q.q = "鄉鎮公告";
  q.limit = 100;
  auto r = s.Search(q);
  REQUIRE(r.ok());
  CHECK(r->total == 6);
  REQUIRE(r->hits.size() == 6);
  for (const SearchHit& h : r->hits)  // "s<i>d<k>" is in shard i, of origin o<i> but s2d1
    CHECK(h.doc.origin == (h.doc.id == "s2d1" ? "x" : "o" + h.doc.id.substr(1, 1)));
  for (size_t i = 0; i < dirs.size(); ++i) {
    q.q = "shard" + std::to_string(i);
    r = s.Search(q);
    REQUIRE(r.ok());
    CHECK(r->total == static_cast<int64_t>(i + 1));
  }

  // One origin's entries are counted and removed alone.
  auto w = IndexWriter::Open(dirs[2]);
  REQUIRE(w.ok());
  CHECK((*w)->OriginCount("o2") == 2);
  CHECK((*w)->OriginCount("x") == 1);
  CHECK((*w)->OriginCount("o1") == 0);
  // Changes held apart by Begin() are dropped by Cancel(), not committed later.
  REQUIRE((*w)->Begin().ok());
  IndexDoc held = Doc("s2d9", "pub", "鄉鎮公告 shard2");
  held.origin = "o2";
  Put(**w, held);
  REQUIRE((*w)->RemoveOrigin("x").ok());
  REQUIRE((*w)->Cancel().ok());
  REQUIRE((*w)->Commit(0).ok());
  CHECK((*w)->OriginCount("o2") == 2);
  CHECK((*w)->OriginCount("x") == 1);
  REQUIRE((*w)->RemoveOrigin("o2").ok());
  REQUIRE((*w)->Commit(0).ok());
  CHECK((*w)->OriginCount("o2") == 0);
  CHECK((*w)->doc_count() == 1);
  s.Invalidate();
  q.q = "shard2";
  r = s.Search(q);
  REQUIRE(r.ok());
  REQUIRE(r->hits.size() == 1);
  CHECK(r->hits[0].doc.id == "s2d1");
}

TEST_CASE(
    "index: a two-character word's phrase boost ranks as the positional phrase did, without "
    "positions (property)",
    "[indexer]") {
  TempDir dir;
  const std::vector<std::string> chars = {"行", "政", "公", "告", "法", "规"};
  std::mt19937 rng(17);
  {
    auto w = IndexWriter::Open(dir / "index");
    REQUIRE(w.ok());
    for (int i = 0; i < 80; ++i) {  // texts where pairs stand together and apart
      std::string text;
      for (unsigned k = 0, n = 4 + rng() % 40; k < n; ++k) text += chars[rng() % chars.size()];
      Put(**w, Doc("d" + std::to_string(i), "pub", text));
    }
    REQUIRE((*w)->Commit(1).ok());
  }
  Searcher s(dir / "index");
  Xapian::Database db(dir / "index");
  Xapian::QueryParser qp;  // as the searcher's, before the boost lost its positions
  qp.set_database(db);
  qp.set_default_op(Xapian::Query::OP_AND);
  qp.add_prefix("title", "S");
  qp.set_stemmer(Xapian::Stem("english"));
  qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
  const unsigned flags = Xapian::QueryParser::FLAG_DEFAULT | Xapian::QueryParser::FLAG_CJK_NGRAM |
                         Xapian::QueryParser::FLAG_PURE_NOT;
  int compared = 0;
  for (const std::string& a : chars)
    for (const std::string& b : chars)
      for (const std::string& q : {a + b, a + " " + b, a + b + a}) {
        Xapian::Enquire enquire(db);
        enquire.set_query(
            Xapian::Query(Xapian::Query::OP_FILTER,
                          Xapian::Query(Xapian::Query::OP_AND_MAYBE, qp.parse_query(q, flags),
                                        qp.parse_query('"' + q + '"', flags)),
                          Xapian::Query("XANON")));
        enquire.set_sort_by_relevance_then_value(0, true);  // ties newest first, as the searcher's
        std::vector<std::string> expected;
        const Xapian::MSet mset = enquire.get_mset(0, 100);
        for (auto it = mset.begin(); it != mset.end(); ++it) {
          auto term = it.get_document().termlist_begin();
          term.skip_to("P");  // a public entry's unique term, P<id>
          expected.push_back((*term).substr(1));
        }
        SearchQuery sq;
        sq.q = q;
        sq.limit = 100;
        sq.relax = false;
        sq.status = std::nullopt;
        auto r = s.Search(sq);
        REQUIRE(r.ok());
        std::vector<std::string> got;
        for (const auto& hit : r->hits) got.push_back(hit.doc.id);
        INFO(q);
        CHECK(got == expected);
        compared += expected.empty() ? 0 : 1;
      }
  CHECK(compared > 80);  // most queries match something
}
