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

TEST_CASE("zip reader: member, total, count and ratio limits; member paths", "[indexer][extract]") {
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
