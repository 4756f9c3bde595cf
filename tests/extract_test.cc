// Extraction of PDF, OOXML, ODF and OFD: fixtures built here (zips written
// with libarchive, a PDF written by hand) and, when ../shared is present,
// the real and generated files of the shared corpus.
#include <archive.h>
#include <archive_entry.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

// Private pieces of gongkai::indexer tested on their own: the limits of the
// zip reader and the refusals of the XML reader.
#include "../indexer/src/xml_reader.h"
#include "../indexer/src/zip_reader.h"
#include "gongkai/indexer/extract.h"
#include "gongkai/utf8.h"

using gongkai::indexer::Extract;
using gongkai::indexer::Extracted;
namespace detail = gongkai::indexer::detail;
namespace fs = std::filesystem;

namespace {

using Members = std::vector<std::pair<std::string, std::string>>;

// A zip of `members` (deflated), written by libarchive into memory.
std::string MakeZip(const Members& members) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* client, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const auto& [name, data] : members) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name.c_str());
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_entry_set_size(entry, static_cast<la_int64_t>(data.size()));
    REQUIRE(archive_write_header(a, entry) == ARCHIVE_OK);
    REQUIRE(archive_write_data(a, data.data(), data.size()) ==
            static_cast<la_ssize_t>(data.size()));
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

const char* const kXmlDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
// The classic billion-laughs DTD: 10^9 "lol"s from a few hundred bytes.
std::string BillionLaughsDoctype(const std::string& root) {
  std::string dtd = "<!DOCTYPE " + root + " [\n<!ENTITY lol0 \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    dtd += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) dtd += "&lol" + std::to_string(i - 1) + ";";
    dtd += "\">\n";
  }
  return dtd + "]>\n";
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// UTF-8 to the hex of its UTF-16BE code units (BMP only): a PDF string in
// the UniGB-UCS2-H encoding.
std::string Ucs2Hex(const std::string& utf8) {
  std::string hex;
  for (size_t i = 0; i < utf8.size();) {
    unsigned char c = static_cast<unsigned char>(utf8[i]);
    unsigned cp;
    size_t len = c < 0x80 ? 1 : c >= 0xE0 ? 3 : 2;
    if (len == 1)
      cp = c;
    else if (len == 2)
      cp = ((c & 0x1F) << 6) | (utf8[i + 1] & 0x3F);
    else
      cp = ((c & 0x0F) << 12) | ((utf8[i + 1] & 0x3F) << 6) | (utf8[i + 2] & 0x3F);
    char buf[5];
    std::snprintf(buf, sizeof buf, "%04X", cp);
    hex += buf;
    i += len;
  }
  return "<" + hex + ">";
}

// A PDF with one page per content stream; /F1 is the non-embedded CID font
// STSong-Light (UniGB-UCS2-H: its text maps to Unicode only through the
// Adobe-GB1 tables of poppler-data), /F2 is Helvetica.
std::string MakePdf(const std::vector<std::string>& page_streams, const std::string& title = "") {
  std::vector<std::string> objects;  // object i+1
  size_t n_pages = page_streams.size();
  std::string kids;
  for (size_t i = 0; i < n_pages; ++i) kids += std::to_string(7 + 2 * i) + " 0 R ";
  objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objects.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n_pages) +
                    " >>");
  objects.push_back(
      "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding "
      "/UniGB-UCS2-H /DescendantFonts [4 0 R] >>");
  objects.push_back(
      "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "
      "/FontDescriptor 5 0 R /DW 1000 >>");
  objects.push_back(
      "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 "
      "1000 900] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 "
      "/StemV 93 >>");
  objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  for (size_t i = 0; i < n_pages; ++i) {
    objects.push_back(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font "
        "<< /F1 3 0 R /F2 6 0 R >> >> /Contents " +
        std::to_string(8 + 2 * i) + " 0 R >>");
    objects.push_back("<< /Length " + std::to_string(page_streams[i].size()) + " >>\nstream\n" +
                      page_streams[i] + "\nendstream");
  }
  if (!title.empty()) objects.push_back("<< /Title (" + title + ") >>");
  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char line[21];
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R" +
         (title.empty() ? "" : " /Info " + std::to_string(objects.size()) + " 0 R") +
         " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

// --- the shared corpus (../shared/corpus/docs), when present

const std::string kDocs = std::string(GONGKAI_SHARED_DIR) + "/corpus/docs/";

bool HaveCorpus() { return fs::is_directory(kDocs); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Extracted ExtractCorpusFile(const std::string& rel) {
  INFO(rel);
  REQUIRE(fs::exists(kDocs + rel));
  return Extract(ReadFile(kDocs + rel), rel);
}

#define SKIP_WITHOUT_CORPUS()                                 \
  do {                                                        \
    if (!HaveCorpus()) {                                      \
      WARN("skipped: the shared corpus is not at " << kDocs); \
      return;                                                 \
    }                                                         \
  } while (false)

const char* const kWordNs =
    "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" "
    "xmlns:mc=\"http://schemas.openxmlformats.org/markup-compatibility/2006\"";

std::string ContentTypes(const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::string xml = std::string(kXmlDecl) +
                    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
                    "<Default Extension=\"xml\" ContentType=\"application/xml\"/>";
  for (const auto& [part, type] : overrides)
    xml += "<Override PartName=\"" + part + "\" ContentType=\"" + type + "\"/>";
  return xml + "</Types>";
}

std::string CoreProperties(const std::string& title) {
  return std::string(kXmlDecl) +
         "<cp:coreProperties "
         "xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" "
         "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>" +
         title + "</dc:title></cp:coreProperties>";
}

// A .docx whose word/document.xml body is `body` (no core title if empty).
std::string MakeDocx(const std::string& body, const std::string& title = "",
                     const std::string& footnotes = "") {
  const std::string ct = "application/vnd.openxmlformats-officedocument.wordprocessingml.";
  std::vector<std::pair<std::string, std::string>> overrides = {
      {"/word/document.xml", ct + "document.main+xml"}};
  Members members;
  if (!title.empty()) {
    overrides.emplace_back("/docProps/core.xml",
                           "application/vnd.openxmlformats-package.core-properties+xml");
    members.emplace_back("docProps/core.xml", CoreProperties(title));
  }
  if (!footnotes.empty()) {
    overrides.emplace_back("/word/footnotes.xml", ct + "footnotes+xml");
    members.emplace_back("word/footnotes.xml", std::string(kXmlDecl) + "<w:footnotes " + kWordNs +
                                                   ">" + footnotes + "</w:footnotes>");
  }
  members.emplace_back("[Content_Types].xml", ContentTypes(overrides));
  members.emplace_back("word/document.xml", std::string(kXmlDecl) + "<w:document " + kWordNs +
                                                "><w:body>" + body + "</w:body></w:document>");
  return MakeZip(members);
}

std::string WordParagraph(const std::string& text) {
  return "<w:p><w:r><w:t xml:space=\"preserve\">" + text + "</w:t></w:r></w:p>";
}

// Runs of at least `len` Han characters (U+4E00..U+9FFF), cut into
// phrases of `len`, taken at `count` evenly spaced places of the text.
std::vector<std::string> HanPhrases(const std::string& text, size_t len, size_t count) {
  std::vector<std::string> all;
  std::vector<size_t> run;  // byte offsets of the current run's characters
  auto flush = [&](size_t end) {
    for (size_t k = 0; k + len <= run.size(); k += len) {
      size_t stop = k + len < run.size() ? run[k + len] : end;
      all.push_back(text.substr(run[k], stop - run[k]));
    }
    run.clear();
  };
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    bool han = false;
    if (n == 3 && i + 2 < text.size()) {
      unsigned cp = ((c & 0x0F) << 12) | ((text[i + 1] & 0x3F) << 6) | (text[i + 2] & 0x3F);
      han = cp >= 0x4E00 && cp <= 0x9FFF;
    }
    if (han)
      run.push_back(i);
    else
      flush(i);
    i += n;
  }
  flush(text.size());
  std::vector<std::string> picked;
  for (size_t k = 1; k <= count && !all.empty(); ++k)
    picked.push_back(all[all.size() * k / (count + 1)]);
  return picked;
}

}  // namespace

// ---------------------------------------------------------------- XML and zip readers

TEST_CASE("xml reader: a DTD is refused before parsing: billion laughs, external entities",
          "[indexer][extract]") {
  const std::string laughs =
      "<?xml version=\"1.0\"?>\n" + BillionLaughsDoctype("lolz") + "<lolz><a>&lol9;</a></lolz>";
  // No event carries expanded text, whatever the DTD does.
  std::vector<std::string> attacks = {
      laughs,
      "<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><x>&xxe;</x>",
      "<!DOCTYPE x SYSTEM \"http://127.0.0.1:1/evil.dtd\"><x>&remote;</x>",
      "<!DOCTYPE x [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]><x/>",
  };
  for (const std::string& xml : attacks) {
    INFO(xml.substr(0, 60));
    detail::XmlReader reader(xml);
    size_t text_bytes = 0;
    detail::XmlReader::Event ev;
    while ((ev = reader.Next()) != detail::XmlReader::Event::kDone &&
           ev != detail::XmlReader::Event::kError)
      if (ev == detail::XmlReader::Event::kText) text_bytes += reader.text().size();
    CHECK(ev == detail::XmlReader::Event::kError);
    CHECK(text_bytes == 0);
    CHECK_FALSE(reader.error().empty());
  }
  // The prolog check reads UTF-16 too; a well-formed UTF-16 part still parses.
  auto utf16le = [](const std::string& ascii) {
    std::string out = "\xFF\xFE";
    for (char c : ascii) out += std::string{c, '\0'};
    return out;
  };
  const std::string dtd16_xml =
      utf16le("<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE x []><x/>");
  detail::XmlReader dtd16(dtd16_xml);
  CHECK(dtd16.Next() == detail::XmlReader::Event::kError);
  CHECK(Contains(dtd16.error(), "DTD refused"));
  const std::string ok16_xml = utf16le("<?xml version=\"1.0\" encoding=\"UTF-16\"?><x>ok</x>");
  detail::XmlReader ok16(ok16_xml);
  CHECK(ok16.Next() == detail::XmlReader::Event::kStart);
  CHECK(ok16.Next() == detail::XmlReader::Event::kText);
  CHECK(ok16.text() == "ok");
  // An undeclared entity is malformed XML: refused too, never looked up.
  detail::XmlReader undeclared("<x>&nbsp;</x>");
  while (undeclared.Next() == detail::XmlReader::Event::kStart) {
  }
  CHECK_FALSE(undeclared.error().empty());
}

TEST_CASE("zip reader: member, total, count and ratio limits – member paths",
          "[indexer][extract]") {
  std::string zip = MakeZip({{"a.xml", std::string(600, 'a')},
                             {"b.xml", std::string(600, 'b')},
                             {"dir/c.xml", std::string(2000, 'c')}});
  auto read = [&](detail::ZipLimits limits, const std::string& only, std::string* error) {
    detail::ZipReader reader(zip, limits);
    std::map<std::string, std::string> members;
    bool ok =
        reader.Read([&](const std::string& n) { return only.empty() || n == only; }, &members);
    *error = reader.error();
    CHECK(ok == !reader.limit_reached());
    return ok;
  };
  std::string error;
  CHECK(read({}, "", &error));
  CHECK_FALSE(read({.max_member = 1000}, "dir/c.xml", &error));
  CHECK(error == "zip member dir/c.xml larger than 1000 bytes");
  CHECK(read({.max_member = 1000}, "a.xml", &error));  // only what is asked for counts
  CHECK_FALSE(read({.max_total = 1000}, "", &error));
  CHECK(error == "zip expands to more than 1000 bytes");
  CHECK_FALSE(read({.max_ratio = 2, .ratio_floor = 0}, "", &error));
  CHECK(Contains(error, "compression ratio above 2:1"));

  detail::ZipReader few(zip, {.max_members = 2});
  std::vector<std::string> names;
  CHECK_FALSE(few.List(&names));
  CHECK(few.limit_reached());
  detail::ZipReader all(zip);
  names.clear();
  REQUIRE(all.List(&names));
  CHECK(names == std::vector<std::string>{"a.xml", "b.xml", "dir/c.xml"});
  std::string bytes;
  CHECK_FALSE(all.ReadOne("missing.xml", &bytes));
  CHECK(all.ReadOne("b.xml", &bytes));
  CHECK(bytes == std::string(600, 'b'));

  CHECK(detail::NormalizeMemberPath("/Doc_0/./Pages/../Res/a.xml") == "Doc_0/Res/a.xml");
  CHECK(detail::NormalizeMemberPath("../../etc/passwd") == "etc/passwd");
  CHECK(detail::NormalizeMemberPath("a\\b.xml") == "a/b.xml");
}

// ---------------------------------------------------------------- PDF

TEST_CASE("extract: PDF with a CID font, lines of a sentence joined, hyphens rejoined",
          "[indexer][extract]") {
  std::string page1 = "BT /F1 12 Tf 72 750 Td " + Ucs2Hex("关于印发政务公开") + " Tj 0 -14 Td " +
                      Ucs2Hex("工作方案的通知") + " Tj ET\n" +
                      "BT /F2 12 Tf 72 600 Td (Open govern-) Tj 0 -14 Td (ment data) Tj ET";
  std::string page2 = "BT /F1 12 Tf 72 750 Td " + Ucs2Hex("第二页") + " Tj ET";
  Extracted e = Extract(MakePdf({page1, page2}), "notice.pdf");
  CHECK(e.type == "pdf");
  REQUIRE(e.has_text);
  INFO(e.text);
  // Needs poppler-data: STSong-Light is neither embedded nor has a ToUnicode map.
  CHECK(Contains(e.text, "关于印发政务公开工作方案的通知"));
  CHECK(Contains(e.text, "Open government data"));
  CHECK(Contains(e.text, "\n第二页"));
  CHECK(e.title == "关于印发政务公开");  // no metadata title: the first line
  CHECK(e.note.empty());

  // Metadata title; junk or a BOM before the header; no name at all.
  std::string titled = MakePdf({page2}, "Notice 2024");
  CHECK(Extract(titled, "a.pdf").title == "Notice 2024");
  CHECK(Extract("\xEF\xBB\xBF" + titled, "a.pdf").has_text);
  CHECK(Extract("\xEF\xBB\xBF" + titled, "upload").type == "pdf");
  CHECK(Extract("junk" + titled, "a.pdf").has_text);
  Extracted junk_unnamed = Extract("junk" + titled, "a.txt");
  CHECK(junk_unnamed.type == "txt");  // text that mentions %PDF- later is still text

  Extracted blank = Extract(MakePdf({"", ""}), "scan.pdf");
  CHECK_FALSE(blank.has_text);
  CHECK(Contains(blank.note, "no text layer"));
  Extracted mixed = Extract(MakePdf({"", page2}), "mixed.pdf");
  CHECK(mixed.has_text);
  CHECK(mixed.note == "1 of 2 PDF pages have no text layer");
}

TEST_CASE("extract: real PDFs of the corpus", "[indexer][extract][corpus]") {
  SKIP_WITHOUT_CORPUS();
  Extracted lshort = ExtractCorpusFile("formats/pdf-real/lshort-zh-cn.pdf");
  REQUIRE(lshort.has_text);
  CHECK(lshort.title == "The Short Introduction to LaTeX2e (Chinese Simplified)");
  // FandolSong without ToUnicode: Chinese only with poppler-data's Adobe-GB1 tables.
  CHECK(Contains(lshort.text, "一份（不太）简短的"));
  CHECK(Contains(lshort.text, "中文翻译"));
  Extracted tw = ExtractCorpusFile("formats/pdf-real/debian-reference.zh-tw.pdf");
  CHECK(tw.title == "Debian 參考手冊");
  CHECK(Contains(tw.text, "版權"));
}

TEST_CASE("extract: PDF edge cases of the corpus", "[indexer][extract][corpus]") {
  SKIP_WITHOUT_CORPUS();
  for (const char* rel :
       {"formats/pdf-edge/encrypted.pdf", "formats/pdf-edge/password-is-test.pdf"}) {
    Extracted e = ExtractCorpusFile(rel);
    CHECK_FALSE(e.has_text);
    CHECK(e.note == "encrypted PDF: a password is needed to read it");
  }
  Extracted junk = ExtractCorpusFile("formats/pdf-edge/invalid_pdf.pdf");
  CHECK(junk.has_text);
  CHECK(Contains(junk.text, "Invoice number"));
  Extracted bom = ExtractCorpusFile("formats/pdf-edge/test_with_bom.pdf");
  CHECK(bom.has_text);
  CHECK(Contains(bom.text, "paperless"));
  Extracted signed_pdf = ExtractCorpusFile("formats/pdf-edge/signed.pdf");
  CHECK(Contains(signed_pdf.text, "digitally signed PDF"));
  Extracted images = ExtractCorpusFile("formats/pdf-edge/multi-page-images.pdf");
  CHECK_FALSE(images.has_text);
  CHECK(Contains(images.note, "no text layer"));
  Extracted mixed = ExtractCorpusFile("formats/pdf-edge/multi-page-mixed.pdf");
  CHECK(Contains(mixed.text, "Page 6"));
  CHECK(mixed.note == "3 of 6 PDF pages have no text layer");
  Extracted broken = ExtractCorpusFile("formats/pdf-edge/pdfparse-03-invalid.pdf");
  CHECK_FALSE(broken.has_text);
  CHECK_FALSE(broken.note.empty());
  CHECK(ExtractCorpusFile("formats/pdf-edge/simple.pdf").text == "This is a test document.");
}

// ---------------------------------------------------------------- OOXML

TEST_CASE("extract: docx paragraphs, runs, tables, text boxes once, no deleted text",
          "[indexer][extract]") {
  std::string body =
      WordParagraph("关于印发") +
      "<w:p><w:r><w:t>政务</w:t></w:r><w:r><w:t>公开</w:t></w:r><w:r><w:tab/><w:t>方案</w:t></w:r>"
      "<w:del><w:r><w:delText>已删除的文字</w:delText></w:r></w:del>"
      "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r>"
      "</w:p>"
      "<w:tbl><w:tr><w:tc>" +
      WordParagraph("文号") + "</w:tc><w:tc>" + WordParagraph("国办发〔2020〕12号") +
      "</w:tc></w:tr></w:tbl>"
      "<w:p><w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:txbxContent>" +
      WordParagraph("文本框内容") + "</w:txbxContent></mc:Choice><mc:Fallback><w:txbxContent>" +
      WordParagraph("文本框内容") +
      "</w:txbxContent></mc:Fallback></mc:AlternateContent></w:r></w:p>"
      "<w:p><w:r><w:t>Open &amp; government</w:t><w:br/><w:t>data</w:t></w:r></w:p>";
  Extracted e = Extract(MakeDocx(body, "政务公开工作方案",
                                 "<w:footnote>" + WordParagraph("脚注文字") + "</w:footnote>"),
                        "plan.docx");
  CHECK(e.type == "docx");
  REQUIRE(e.has_text);
  CHECK(e.note.empty());
  CHECK(e.title == "政务公开工作方案");
  // A tab is a space, and a space between two CJK characters vanishes.
  CHECK(Contains(e.text, "关于印发\n政务公开方案"));
  CHECK(Contains(e.text, "文号\n国办发〔2020〕12号"));  // each cell holds a paragraph
  CHECK(Contains(e.text, "Open & government\ndata"));
  CHECK(Contains(e.text, "脚注文字"));
  CHECK_FALSE(Contains(e.text, "已删除"));
  CHECK_FALSE(Contains(e.text, "PAGE"));
  size_t box = e.text.find("文本框内容");
  REQUIRE(box != std::string::npos);
  CHECK(e.text.find("文本框内容", box + 1) == std::string::npos);  // Fallback skipped
}

TEST_CASE("extract: docx title falls back to the first paragraph – type sniffed without a name",
          "[indexer][extract]") {
  std::string docx = MakeDocx("<w:p/>" + WordParagraph("  第一段标题  ") + WordParagraph("正文"));
  Extracted e = Extract(docx, "upload");
  CHECK(e.type == "docx");
  CHECK(e.title == "第一段标题");
  // An image-only document: archived, no text, a note.
  Extracted empty = Extract(MakeDocx("<w:p><w:r><w:drawing/></w:r></w:p>"), "scan.docx");
  CHECK_FALSE(empty.has_text);
  CHECK(empty.note == "no text in the document");
}

TEST_CASE("extract: xlsx shared and inline strings, numbers, sheets in natural order",
          "[indexer][extract]") {
  const std::string ns = "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"";
  auto sheet = [&](const std::string& rows) {
    return std::string(kXmlDecl) + "<worksheet " + ns + "><sheetData>" + rows +
           "</sheetData></worksheet>";
  };
  const std::string ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.";
  Members members = {
      {"[Content_Types].xml", ContentTypes({{"/xl/workbook.xml", ct + "sheet.main+xml"},
                                            {"/xl/worksheets/sheet10.xml", ct + "worksheet+xml"},
                                            {"/xl/worksheets/sheet2.xml", ct + "worksheet+xml"},
                                            {"/xl/worksheets/sheet1.xml", ct + "worksheet+xml"},
                                            {"/xl/sharedStrings.xml", ct + "sharedStrings+xml"}})},
      {"xl/workbook.xml", std::string(kXmlDecl) + "<workbook " + ns + "/>"},
      {"xl/sharedStrings.xml", std::string(kXmlDecl) + "<sst " + ns +
                                   "><si><t>第一表</t></si><si><r><t>政务</t></r><r><t>公开</t></r>"
                                   "<rPh><t>せいむ</t></rPh></si><si><t>第十表</t></si></sst>"},
      {"xl/worksheets/sheet1.xml",
       sheet("<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c></row>"
             "<row r=\"2\"><c t=\"b\"><v>1</v></c><c><f>SUM(A1:A3)</f><v>2020</v></c>"
             "<c t=\"inlineStr\"><is><t>内联文字</t></is></c><c t=\"s\"><v>99</v></c></row>")},
      {"xl/worksheets/sheet2.xml", sheet("<row><c t=\"str\"><f>A1</f><v>第二表</v></c></row>")},
      {"xl/worksheets/sheet10.xml", sheet("<row><c t=\"s\"><v>2</v></c></row>")},
  };
  Extracted e = Extract(MakeZip(members), "stats.xlsx");
  REQUIRE(e.has_text);
  CHECK(e.title == "第一表政务公开");
  CHECK(Contains(e.text, "第一表政务公开\n2020 内联文字"));
  CHECK_FALSE(Contains(e.text, "せいむ"));
  CHECK_FALSE(Contains(e.text, "SUM"));
  size_t one = e.text.find("第一表"), two = e.text.find("第二表"), ten = e.text.find("第十表");
  CHECK(one < two);
  CHECK(two < ten);
  CHECK(ten != std::string::npos);
}

TEST_CASE("extract: pptx slides in natural order, conventional names without content types",
          "[indexer][extract]") {
  auto slide = [](const std::string& text) {
    return std::string(kXmlDecl) +
           "<p:sld xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\" "
           "xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\"><p:cSld><p:spTree>"
           "<p:sp><p:txBody><a:p><a:r><a:t>" +
           text +
           "</a:t></a:r><a:br/><a:r><a:t>第二行</a:t></a:r></a:p></p:txBody></p:sp>"
           "</p:spTree></p:cSld></p:sld>";
  };
  Members members = {{"[Content_Types].xml", ContentTypes({})},
                     {"ppt/presentation.xml", "<p:presentation/>"},
                     {"ppt/slides/slide10.xml", slide("第十页")},
                     {"ppt/slides/slide1.xml", slide("第一页")},
                     {"ppt/slides/slide2.xml", slide("第二页")}};
  Extracted e = Extract(MakeZip(members), "talk.pptx");
  REQUIRE(e.has_text);
  CHECK(e.title == "第一页");
  CHECK(Contains(e.text, "第一页\n第二行\n第二页\n第二行\n第十页"));
}

// ---------------------------------------------------------------- ODF

TEST_CASE("extract: odt paragraphs, spaces, tables, tracked changes, meta title",
          "[indexer][extract]") {
  std::string content =
      std::string(kXmlDecl) +
      "<office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "
      "xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" "
      "xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" "
      "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
      "<office:automatic-styles><style>not text</style></office:automatic-styles>"
      "<office:body><office:text>"
      "<text:tracked-changes><text:changed-region><text:deletion><text:p>删掉的段落</text:p>"
      "</text:deletion></text:changed-region></text:tracked-changes>"
      "<text:h text:outline-level=\"1\">第一章 总则</text:h>"
      "<text:p>Open<text:s/>data<text:tab/>政务<text:span>公开</text:span><text:line-break/>"
      "第二行<office:annotation><dc:creator>审稿人</dc:creator><text:p>批注</text:p>"
      "</office:annotation></text:p>"
      "<table:table><table:table-row><table:table-cell><text:p>甲</text:p></table:table-cell>"
      "<table:table-cell><text:p>乙</text:p></table:table-cell></table:table-row></table:table>"
      "</office:text></office:body></office:document-content>";
  std::string meta =
      std::string(kXmlDecl) +
      "<office:document-meta xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "
      "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><office:meta><dc:title>規章標題</dc:title>"
      "</office:meta></office:document-meta>";
  Members members = {{"mimetype", "application/vnd.oasis.opendocument.text"},
                     {"content.xml", content},
                     {"meta.xml", meta},
                     {"META-INF/manifest.xml", "<manifest:manifest/>"}};
  std::string odt = MakeZip(members);
  Extracted e = Extract(odt, "rules.odt");
  REQUIRE(e.has_text);
  CHECK(e.title == "規章標題");
  CHECK(Contains(e.text, "第一章总则\nOpen data 政务公开\n第二行"));
  CHECK(Contains(e.text, "甲\n乙"));
  CHECK_FALSE(Contains(e.text, "删掉"));
  CHECK_FALSE(Contains(e.text, "批注"));
  CHECK_FALSE(Contains(e.text, "审稿人"));
  CHECK_FALSE(Contains(e.text, "not text"));
  CHECK(Extract(odt, "noname").type == "odt");

  // A password-protected ODF: content.xml is ciphertext, the manifest says so.
  members[3] = {"META-INF/manifest.xml",
                "<manifest:manifest><manifest:file-entry manifest:full-path=\"content.xml\">"
                "<manifest:encryption-data/></manifest:file-entry></manifest:manifest>"};
  members[1] = {"content.xml", std::string("\x8f\x01\xfe garbage", 11)};
  Extracted locked = Extract(MakeZip(members), "secret.odt");
  CHECK_FALSE(locked.has_text);
  CHECK(Contains(locked.note, "encrypted"));
}

// ---------------------------------------------------------------- OFD

namespace {

const char* const kOfdNs = "xmlns:ofd=\"http://www.ofdspec.org/2016\"";

std::string OfdPage(const std::vector<std::string>& codes, const std::string& template_id = "") {
  std::string xml = std::string(kXmlDecl) + "<ofd:Page " + kOfdNs + ">";
  if (!template_id.empty()) xml += "<ofd:Template TemplateID=\"" + template_id + "\"/>";
  xml += "<ofd:Content><ofd:Layer ID=\"10\">";
  int id = 11, y = 20;
  for (const std::string& code : codes) {
    xml += "<ofd:TextObject ID=\"" + std::to_string(id++) + "\" Boundary=\"20 " +
           std::to_string(y) +
           " 170 8\" Font=\"3\" Size=\"5.6\"><ofd:TextCode X=\"0\" Y=\"5\" "
           "DeltaX=\"g 3 5.6\">" +
           code + "</ofd:TextCode></ofd:TextObject>";
    y += 10;
  }
  return xml + "</ofd:Layer></ofd:Content></ofd:Page>";
}

// A two-page OFD (GB/T 33190): OFD.xml -> Doc_0/Document.xml -> pages,
// with a template page used by page 1, pages listed out of name order.
std::string MakeOfd(const std::string& title) {
  std::string ofd = std::string(kXmlDecl) + "<ofd:OFD " + kOfdNs +
                    " Version=\"1.0\" DocType=\"OFD\"><ofd:DocBody><ofd:DocInfo>"
                    "<ofd:DocID>6f0c1e0a</ofd:DocID>" +
                    (title.empty() ? "" : "<ofd:Title>" + title + "</ofd:Title>") +
                    "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody>"
                    "</ofd:OFD>";
  std::string document =
      std::string(kXmlDecl) + "<ofd:Document " + kOfdNs +
      "><ofd:CommonData><ofd:MaxUnitID>50</ofd:MaxUnitID><ofd:PageArea>"
      "<ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>"
      "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
      "<ofd:TemplatePage ID=\"2\" BaseLoc=\"Tpls/Tpl_0/Content.xml\"/></ofd:CommonData>"
      "<ofd:Pages><ofd:Page ID=\"1\" BaseLoc=\"Pages/Page_1/Content.xml\"/>"
      "<ofd:Page ID=\"5\" BaseLoc=\"/Doc_0/Pages/Page_0/Content.xml\"/></ofd:Pages></ofd:Document>";
  return MakeZip({{"OFD.xml", ofd},
                  {"Doc_0/Document.xml", document},
                  {"Doc_0/PublicRes.xml", "<ofd:Res/>"},
                  {"Doc_0/Tpls/Tpl_0/Content.xml", OfdPage({"某某市人民政府文件"})},
                  {"Doc_0/Pages/Page_0/Content.xml", OfdPage({"第二页的正文。"})},
                  {"Doc_0/Pages/Page_1/Content.xml",
                   OfdPage({"关于印发政务公开", "工作方案的通知", "Open data"}, "2")}});
}

}  // namespace

TEST_CASE("extract: OFD text codes in page order, template text, DocInfo title",
          "[indexer][extract]") {
  Extracted e = Extract(MakeOfd("关于印发政务公开工作方案的通知"), "notice.ofd");
  CHECK(e.type == "ofd");
  REQUIRE(e.has_text);
  CHECK(e.note.empty());
  CHECK(e.title == "关于印发政务公开工作方案的通知");
  // Lines of one sentence join; the template (red header) comes first, once.
  CHECK(e.text == "某某市人民政府文件\n关于印发政务公开工作方案的通知 Open data\n第二页的正文。");

  Extracted untitled = Extract(MakeOfd(""), "upload");
  CHECK(untitled.type == "ofd");
  CHECK(untitled.title == "某某市人民政府文件");
}

TEST_CASE("extract: OFD with a missing page or broken XML keeps what it can",
          "[indexer][extract]") {
  std::string ofd = std::string(kXmlDecl) + "<ofd:OFD " + kOfdNs +
                    "><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody>"
                    "</ofd:OFD>";
  std::string document = std::string(kXmlDecl) + "<ofd:Document " + kOfdNs +
                         "><ofd:Pages><ofd:Page ID=\"1\" BaseLoc=\"Pages/Page_0/Content.xml\"/>"
                         "<ofd:Page ID=\"2\" BaseLoc=\"Pages/Page_9/Content.xml\"/>"
                         "<ofd:Page ID=\"3\" BaseLoc=\"Pages/Page_2/Content.xml\"/>"
                         "</ofd:Pages></ofd:Document>";
  Extracted e =
      Extract(MakeZip({{"OFD.xml", ofd},
                       {"Doc_0/Document.xml", document},
                       {"Doc_0/Pages/Page_0/Content.xml", OfdPage({"第一页"})},
                       {"Doc_0/Pages/Page_2/Content.xml", OfdPage({"第三页"}).substr(0, 200)}}),
              "broken.ofd");
  REQUIRE(e.has_text);
  CHECK(Contains(e.text, "第一页"));
  CHECK(Contains(e.note, "XML error in Doc_0/Pages/Page_2/Content.xml"));

  Extracted no_root = Extract(MakeZip({{"OFD.xml", ofd}}), "empty.ofd");
  CHECK_FALSE(no_root.has_text);
  CHECK(Contains(no_root.note, "Doc_0/Document.xml missing"));
}

// ---------------------------------------------------------------- hostile packages

TEST_CASE("extract: a docx with a billion-laughs DTD is refused, not expanded",
          "[indexer][extract]") {
  std::string laughs = std::string("<?xml version=\"1.0\"?>\n") +
                       BillionLaughsDoctype("w:document") + "<w:document " + kWordNs +
                       "><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>";
  Members members = {
      {"[Content_Types].xml", ContentTypes({{"/word/document.xml",
                                             "application/vnd.openxmlformats-officedocument."
                                             "wordprocessingml.document.main+xml"}})},
      {"word/document.xml", laughs}};
  Extracted e = Extract(MakeZip(members), "laughs.docx");
  CHECK_FALSE(e.has_text);
  CHECK(e.text.empty());
  CHECK(Contains(e.note, "DTD refused"));
}

TEST_CASE("extract: a zip bomb is refused with a note", "[indexer][extract]") {
  // 24 MiB of one repeated run compresses about 1000:1; the default limits
  // allow 100:1 once 16 MiB were read.
  std::string huge = std::string(kXmlDecl) + "<w:document " + kWordNs + "><w:body><w:p><w:r><w:t>" +
                     std::string(24u << 20, 'a') + "</w:t></w:r></w:p></w:body></w:document>";
  Members members = {
      {"[Content_Types].xml", ContentTypes({{"/word/document.xml",
                                             "application/vnd.openxmlformats-officedocument."
                                             "wordprocessingml.document.main+xml"}})},
      {"word/document.xml", huge}};
  std::string bomb = MakeZip(members);
  huge.clear();
  REQUIRE(bomb.size() < (1u << 20));
  Extracted e = Extract(bomb, "bomb.docx");
  CHECK_FALSE(e.has_text);
  CHECK(Contains(e.note, "probable zip bomb"));
  CHECK(Contains(e.note, "compression ratio above 100:1"));
}

TEST_CASE("extract: shared strings cannot multiply a small sheet into gigabytes",
          "[indexer][extract]") {
  // 1 MiB string referenced by 100 cells: 100 MiB of text from a 1 MiB zip
  // member, under every zip limit; the text stops at 64 MiB.
  const std::string ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.";
  std::string row;
  for (int i = 0; i < 100; ++i) row += "<c t=\"s\"><v>0</v></c>";
  Members members = {
      {"[Content_Types].xml", ContentTypes({{"/xl/workbook.xml", ct + "sheet.main+xml"},
                                            {"/xl/worksheets/sheet1.xml", ct + "worksheet+xml"},
                                            {"/xl/sharedStrings.xml", ct + "sharedStrings+xml"}})},
      {"xl/workbook.xml", "<workbook/>"},
      {"xl/sharedStrings.xml", "<sst><si><t>" + std::string(1u << 20, 'x') + "</t></si></sst>"},
      {"xl/worksheets/sheet1.xml",
       "<worksheet><sheetData><row>" + row + "</row></sheetData></worksheet>"}};
  Extracted e = Extract(MakeZip(members), "amplified.xlsx");
  CHECK(e.has_text);
  CHECK(e.text.size() <= (64u << 20));
  CHECK(e.note == "text cut at 64 MiB");
}

TEST_CASE("extract: broken and disguised packages give a note, never an exception",
          "[indexer][extract]") {
  std::string docx = MakeDocx(WordParagraph("正文"));
  Extracted truncated = Extract(docx.substr(0, docx.size() / 2), "cut.docx");
  CHECK_FALSE(truncated.has_text);
  CHECK(Contains(truncated.note, "unreadable"));

  Extracted plain_zip = Extract(MakeZip({{"readme.txt", "hello"}}), "fake.docx");
  CHECK_FALSE(plain_zip.has_text);
  CHECK(Contains(plain_zip.note, "not a .docx document"));

  Extracted ole = Extract(
      std::string("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) + std::string(512, '\0'), "locked.xlsx");
  CHECK_FALSE(ole.has_text);
  CHECK(Contains(ole.note, "encrypted"));

  // Malformed XML part: the pages before the error are kept (the reader
  // parses in chunks, so not necessarily the last lines), the note says why.
  std::string pages;
  for (int i = 0; i < 200; ++i) pages += WordParagraph("保留的文字");
  Extracted malformed =
      Extract(MakeDocx(pages + "<w:p><w:r><w:t>unclosed</w:r></w:p>"), "bad.docx");
  CHECK(malformed.has_text);
  CHECK(Contains(malformed.text, "保留的文字"));
  CHECK(Contains(malformed.note, "XML error in word/document.xml"));

  // Random bytes behind each magic number.
  for (const std::string& magic : {std::string("PK\x03\x04", 4), std::string("%PDF-1.7\n")}) {
    std::string junk = magic;
    for (int i = 0; i < 4000; ++i) junk += static_cast<char>((i * 7919 + 13) % 251);
    for (const char* name : {"x.docx", "x.pdf", "x.ofd", "x"}) {
      Extracted j = Extract(junk, name);
      CHECK_FALSE(j.has_text);
      CHECK_FALSE(j.note.empty());
    }
  }
}

// ---------------------------------------------------------------- corpus office files

TEST_CASE("extract: office files of the corpus", "[indexer][extract][corpus]") {
  SKIP_WITHOUT_CORPUS();
  Extracted docx = ExtractCorpusFile("formats/office-edge/sample.docx");
  CHECK(docx.text == "This is an DOCX test document, also made September 14, 2022");
  Extracted odt = ExtractCorpusFile("formats/office-edge/sample.odt");
  CHECK(odt.text == "This is an ODT test document, created September 14, 2022");
  CHECK(ExtractCorpusFile("formats/office-edge/multi-part-broken.odt").text == "Text123");
}

TEST_CASE("extract: generated docx, odt and pdf hold the phrases of their source",
          "[indexer][extract][corpus]") {
  SKIP_WITHOUT_CORPUS();
  std::ifstream manifest(kDocs + "generated/manifest.tsv");
  std::string line;
  int checked = 0;
  while (std::getline(manifest, line)) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    std::string id = line.substr(0, tab), source = line.substr(tab + 1);
    Extracted src = ExtractCorpusFile(source);
    std::vector<std::string> phrases = HanPhrases(src.text, 8, 5);
    REQUIRE(phrases.size() == 5);
    for (const char* ext : {"docx", "odt", "pdf"}) {
      std::string rel = std::string("generated/") + ext + "/" + id + "." + ext;
      if (!fs::exists(kDocs + rel)) continue;
      Extracted e = ExtractCorpusFile(rel);
      INFO(rel << ": " << e.note);
      CHECK(e.has_text);
      for (const std::string& phrase : phrases) {
        INFO(phrase);
        CHECK(Contains(e.text, phrase));
      }
      ++checked;
    }
  }
  CHECK(checked == 17);  // 6 docx, 5 odt, 6 pdf
}

TEST_CASE("encoding: forms glibc lets through (F5-F7 leads, 5-byte sequences) never reach the text",
          "[extract]") {
  // Found by fuzz_extract_txt: mostly UTF-8 text with one bad run, which
  // uchardet calls UTF-8 and iconv's UTF-8 decoder copied through.
  const std::string bad = "公告\xF6\xA1\xA2\xB9第二\xF8\x88\x80\x80\x80段\xC0\xAF完";
  std::string repaired = gongkai::indexer::ConvertToUtf8(bad, "UTF-8");
  CHECK(gongkai::IsValidUtf8(repaired));
  CHECK(repaired.find("公告") == 0);
  CHECK(repaired.find("第二") != std::string::npos);
  CHECK(repaired.find("完") != std::string::npos);
  std::string body;
  for (int i = 0; i < 200; ++i) body += "政府工作報告，經費公開。";
  body.insert(body.size() / 2, "\xF6\xA1\xA2\xB9");
  auto e = gongkai::indexer::Extract(body, "report.txt");
  CHECK(gongkai::IsValidUtf8(e.text));
  CHECK(e.text.find("政府工作報告") != std::string::npos);
}
