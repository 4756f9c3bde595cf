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
