// Archive members (issue 5's archives, issue 8's bad-input list): each
// regular-file member of a zip, tar (plain and compressed) or 7z is extracted
// in memory, named safely, and every limit stops a hostile archive quickly
// with a note. Archives are built here, with libarchive's writer or byte by
// byte where a writer would not produce the hostile form (GBK names without
// the UTF-8 flag, "../" names, a sparse entry claiming a terabyte, a million
// entries).
#include <archive.h>
#include <archive_entry.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>

#include "../indexer/src/extract_internal.h"
#include "gongkai/indexer/extract.h"
#include "gongkai/indexer/extract_worker.h"
#include "gongkai/indexer/index.h"
#include "gongkai/utf8.h"
#include "support/archives.h"
#include "support/temp_dir.h"

using gongkai::indexer::ArchiveMember;
using gongkai::indexer::Extract;
using gongkai::indexer::Extracted;
using gongkai::test::Entry;
using gongkai::test::RawMember;
using gongkai::test::RawZip;
using gongkai::test::WriteArchive;
namespace detail = gongkai::indexer::detail;
namespace fs = std::filesystem;

namespace {

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::map<std::string, const Extracted*> ByPath(const Extracted& e) {
  std::map<std::string, const Extracted*> out;
  for (const ArchiveMember& m : e.members) out[m.path] = &m.extracted;
  return out;
}

std::string MemberPaths(const Extracted& e) {
  std::string out;
  for (const ArchiveMember& m : e.members) out += m.path + "\n";
  return out;
}

const std::string kDocs = std::string(GONGKAI_SHARED_DIR) + "/corpus/docs/";

const std::string kGbkDir = "\xB9\xAB\xCE\xC4";                                   // 公文 in GBK
const std::string kGbkName = "\xD5\xFE\xCE\xF1\xB9\xAB\xBF\xAA\xC4\xBF\xC2\xBC";  // 政务公开目录

}  // namespace

TEST_CASE("archive: zip, tar, tar.gz, tar.bz2, tar.xz and 7z members are extracted",
          "[indexer][archive]") {
  const std::vector<Entry> entries = {
      {"docs", "", AE_IFDIR},
      {"docs/notice.txt", "政务公开 alpha notice\n第二行"},
      {"docs/page.html",
       "<html><head><title>Beta page</title></head><body><p>beta 信息公开</p></body></html>"},
      {"empty.txt", ""},
  };
  struct Case {
    std::string format, filter, name, type;
  };
  for (const Case& c : std::vector<Case>{{"zip", "", "pack.zip", "zip"},
                                         {"pax", "", "pack.tar", "tar"},
                                         {"gnutar", "gzip", "pack.tgz", "tar"},
                                         {"pax", "bzip2", "pack.tar.bz2", "tar"},
                                         {"pax", "xz", "pack.tar.xz", "tar"},
                                         {"7z", "", "pack.7z", "7z"},
                                         {"pax", "gzip", "no-extension", "tar"}}) {
    INFO(c.name);
    const std::string bytes = WriteArchive(c.format, c.filter, entries);
    Extracted e = Extract(bytes, c.name);
    INFO(e.note);
    REQUIRE(e.members.size() == 2);
    auto by = ByPath(e);
    REQUIRE(by.count("docs/notice.txt"));
    CHECK(Contains(by["docs/notice.txt"]->text, "政务公开 alpha notice"));
    CHECK(by["docs/notice.txt"]->type == "txt");
    CHECK(by["docs/notice.txt"]->title == "政务公开 alpha notice");
    REQUIRE(by.count("docs/page.html"));
    CHECK(by["docs/page.html"]->title == "Beta page");
    CHECK(Contains(by["docs/page.html"]->text, "beta 信息公开"));
    // The archive itself: its member list as text, a summary as note.
    CHECK(e.has_text);
    CHECK(Contains(e.text, "docs/notice.txt"));
    CHECK(Contains(e.note, c.type + " archive: 2 members indexed, 1 skipped (empty)"));
    if (c.name == "no-extension") CHECK(e.type == "tar");  // from the content
    for (const ArchiveMember& m : e.members) CHECK(m.extracted.members.empty());
  }
}

TEST_CASE("archive: office packages stay single documents, plain text stays text",
          "[indexer][archive]") {
  const std::string docx = WriteArchive(
      "zip", "",
      {{"[Content_Types].xml", "<Types/>"},
       {"word/document.xml",
        "<w:document "
        "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p>"
        "<w:r><w:t>正文内容</w:t></w:r></w:p></w:body></w:document>"}});
  Extracted e = Extract(docx, "report.docx");
  CHECK(e.members.empty());
  CHECK(Contains(e.text, "正文内容"));
  Extracted renamed = Extract(docx, "report.zip");  // recognised by content, whatever its name
  CHECK(renamed.members.empty());
  CHECK(Contains(renamed.text, "正文内容"));
  // A text file that merely starts like a compressed stream is still text.
  Extracted text = Extract("BZh is how bzip2 starts, and this is text", "note.txt");
  CHECK(text.members.empty());
  CHECK(text.has_text);
}

TEST_CASE("archive: zip names without the UTF-8 flag are decoded as GBK – others escaped",
          "[indexer][archive]") {
  const std::string zip = RawZip({
      {kGbkDir + "/" + kGbkName + ".txt", "目录正文 GBK-named member"},
      {"utf8/无标志.txt", "UTF-8 name without the flag"},
      {"flagged/有标志.txt", "UTF-8 name with the flag", true},
      {"bad\xFF\xFE.txt", "neither UTF-8 nor GB18030"},
  });
  Extracted e = Extract(zip, "pack.zip");
  INFO(e.note << "\n" << MemberPaths(e));
  auto by = ByPath(e);
  REQUIRE(by.count("公文/政务公开目录.txt"));
  CHECK(Contains(by["公文/政务公开目录.txt"]->text, "GBK-named member"));
  CHECK(by.count("utf8/无标志.txt"));
  CHECK(by.count("flagged/有标志.txt"));
  CHECK(by.count("bad%FF%FE.txt"));
  for (const ArchiveMember& m : e.members) CHECK(gongkai::IsValidUtf8(m.path));
}

TEST_CASE(
    "archive: ../, absolute, backslash and control-character names are cleaned, never resolved",
    "[indexer][archive]") {
  CHECK(detail::SanitizeMemberName("../../etc/passwd") == "etc/passwd");
  CHECK(detail::SanitizeMemberName("/etc/shadow") == "etc/shadow");
  CHECK(detail::SanitizeMemberName("a/./b/../c.txt") == "a/b/c.txt");
  CHECK(detail::SanitizeMemberName("dir\\sub\\w.txt") == "dir/sub/w.txt");
  CHECK(detail::SanitizeMemberName("C:\\Windows\\win.ini") == "Windows/win.ini");
  CHECK(detail::SanitizeMemberName("..\\..\\boot.ini") == "boot.ini");
  CHECK(detail::SanitizeMemberName("//a//b//") == "a/b");
  CHECK(detail::SanitizeMemberName("new\nline\x1B[31m.txt") == "new%0Aline%1B[31m.txt");
  CHECK(detail::SanitizeMemberName("evil\u202Etxt.exe") == "evil%E2%80%AEtxt.exe");
  CHECK(detail::SanitizeMemberName("../..") == "");
  CHECK(detail::SanitizeMemberName(std::string(5000, 'x') + "/y").empty() == false);
  CHECK(detail::SanitizeMemberName(std::string(5000, 'x') + "/y").size() <= 1024);
  // A GBK name whose trail byte is 0x5C ("\"): decoded first, so not split.
  CHECK(detail::SanitizeMemberName("\x95\x5C.txt").find('/') == std::string::npos);

  const std::string zip = RawZip({{"../../escape.txt", "dotdot"},
                                  {"/abs/path.txt", "absolute"},
                                  {"win\\dir\\file.txt", "backslashes"},
                                  {"..", "nothing left of the name"}});
  Extracted e = Extract(zip, "evil.zip");
  INFO(e.note << "\n" << MemberPaths(e));
  auto by = ByPath(e);
  CHECK(by.count("escape.txt"));
  CHECK(by.count("abs/path.txt"));
  CHECK(by.count("win/dir/file.txt"));
  CHECK(by.count("unnamed-4"));
  CHECK(Contains(e.note, "unsafe names cleaned"));
  for (const ArchiveMember& m : e.members) {
    CHECK(m.path.find("..") == std::string::npos);
    CHECK(m.path[0] != '/');
  }
}

TEST_CASE("archive: symlink-then-file and hard links never read outside the archive",
          "[indexer][archive]") {
  // Member "a" links to /etc, then "a/passwd" would land in /etc if
  // extraction followed it; "h" is a hard link to /etc/passwd.
  const std::string tar = WriteArchive("pax", "",
                                       {{"a", "", AE_IFLNK, "/etc"},
                                        {"a/passwd", "the archive's own text, not /etc/passwd"},
                                        {"h", "", AE_IFREG, "/etc/passwd", true},
                                        {"l", "", AE_IFLNK, "../../../../etc/shadow"}});
  Extracted e = Extract(tar, "links.tar");
  INFO(e.note << "\n" << MemberPaths(e));
  REQUIRE(e.members.size() == 1);
  CHECK(e.members[0].path == "a/passwd");
  CHECK(e.members[0].extracted.text == "the archive's own text, not /etc/passwd");
  CHECK(Contains(e.note, "3 skipped (3 link or special file)"));
  for (const ArchiveMember& m : e.members) CHECK(!Contains(m.extracted.text, "root:"));
}

TEST_CASE("archive: a zip bomb stops at the ratio, total and member limits", "[indexer][archive]") {
  // 20 MiB of zeros deflate to about 20 KiB: past 16 MiB read the 100:1 ratio stops it.
  const std::string bomb = WriteArchive("zip", "",
                                        {{"zeros-1.txt", std::string(10u << 20, '0')},
                                         {"zeros-2.txt", std::string(10u << 20, '0')},
                                         {"zeros-3.txt", std::string(10u << 20, '0')}});
  REQUIRE(bomb.size() < (1u << 20));
  const auto start = std::chrono::steady_clock::now();
  Extracted e = Extract(bomb, "bomb.zip");
  INFO(e.note);
  CHECK(Contains(e.note, "stopped: probable zip bomb: compression ratio above 100:1"));
  CHECK(e.members.size() == 1);  // the first member was read before the ratio showed
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));

  // Honest, incompressible-enough members against small limits: total and per member.
  detail::ArchiveLimits small;
  small.max_member = 1000;
  small.max_total = 2500;
  small.ratio_floor = UINT64_MAX;
  const std::string zip = WriteArchive("zip", "",
                                       {{"a.txt", std::string(900, 'a')},
                                        {"big.txt", std::string(1500, 'b')},
                                        {"c.txt", std::string(900, 'c')},
                                        {"d.txt", std::string(900, 'd')}});
  Extracted limited = detail::ExtractWithLimits(zip, "limited.zip", small);
  INFO(limited.note << "\n" << MemberPaths(limited));
  CHECK(ByPath(limited).count("a.txt"));
  CHECK(!ByPath(limited).count("big.txt"));
  CHECK(Contains(limited.note, "skipped (larger than 0 MiB)") == false);
  CHECK(Contains(limited.note, "1 skipped"));
  CHECK(Contains(limited.note, "stopped: probable zip bomb: more than"));
}

TEST_CASE(
    "archive: members too large to keep still count against the limits when skipping them "
    "decompresses",
    "[indexer][archive]") {
  // In a compressed tar, skipping a member means decompressing it: a member
  // declaring more than the member limit is not "skipped unread" there, so
  // its bytes count against the total and the ratio like any other's (a
  // 16 MB tar.gz of zeros held 16 GiB in two such members, read in 5 s
  // against a 256 MiB limit).
  detail::ArchiveLimits small;
  small.max_member = 1u << 20;
  small.max_total = 4u << 20;
  small.ratio_floor = 2u << 20;
  const std::string tgz = WriteArchive("pax", "gzip",
                                       {{"zeros-1.bin", std::string(8u << 20, '\0')},
                                        {"zeros-2.bin", std::string(8u << 20, '\0')},
                                        {"zeros-3.bin", std::string(8u << 20, '\0')},
                                        {"last.txt", "the last member"}});
  REQUIRE(tgz.size() < (1u << 20));
  Extracted e = detail::ExtractWithLimits(tgz, "zeros.tar.gz", small);
  INFO(e.note << "\n" << MemberPaths(e));
  CHECK(Contains(e.note, "stopped: probable zip bomb"));
  CHECK(e.members.empty());
  // Uncompressed, skipping is a seek: the large member is skipped unread, the rest is read.
  const std::string tar =
      WriteArchive("pax", "", {{"big.bin", std::string(2u << 20, 'b')}, {"last.txt", "the last"}});
  small.ratio_floor = UINT64_MAX;
  Extracted plain = detail::ExtractWithLimits(tar, "plain.tar", small);
  INFO(plain.note << "\n" << MemberPaths(plain));
  CHECK(ByPath(plain).count("last.txt"));
  CHECK(Contains(plain.note, "1 skipped (larger than 1 MiB)"));
}

TEST_CASE("archive: nested archives are expanded 3 deep – 100 deep stops cleanly",
          "[indexer][archive]") {
  std::string inner = WriteArchive("zip", "", {{"deep.txt", "at the bottom"}});
  for (int level = 1; level <= 100; ++level)
    inner = WriteArchive("zip", "", {{"level" + std::to_string(level) + ".zip", inner}});
  const auto start = std::chrono::steady_clock::now();
  Extracted e = Extract(inner, "nest.zip");
  INFO(e.note << "\n" << MemberPaths(e));
  REQUIRE(e.members.size() == 4);
  const ArchiveMember& last = e.members.back();
  CHECK(last.path == "level100.zip!/level99.zip!/level98.zip!/level97.zip");
  CHECK(Contains(last.extracted.note, "zip archive nested more than 3 levels deep: not expanded"));
  CHECK(!Contains(MemberPaths(e), "deep.txt"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));

  // Mixed formats: a tar.gz inside a zip inside a 7z.
  const std::string tgz = WriteArchive("pax", "gzip", {{"inner/text.txt", "三层之内 nested text"}});
  const std::string zip = WriteArchive("zip", "", {{"mid/b.tar.gz", tgz}});
  const std::string outer = WriteArchive("7z", "", {{"a.zip", zip}, {"top.txt", "top level"}});
  Extracted mixed = Extract(outer, "outer.7z");
  INFO(mixed.note << "\n" << MemberPaths(mixed));
  auto by = ByPath(mixed);
  REQUIRE(by.count("a.zip!/mid/b.tar.gz!/inner/text.txt"));
  CHECK(Contains(by["a.zip!/mid/b.tar.gz!/inner/text.txt"]->text, "三层之内"));
  CHECK(by.count("a.zip"));
  CHECK(by.count("a.zip!/mid/b.tar.gz"));
  CHECK(by.count("top.txt"));
}

namespace {

// One 512-byte tar header block with its checksum; fields octal, `size` as given.
std::string TarHeader(const std::string& name, char typeflag, uint64_t stored,
                      const std::string& extra_at_386 = "", uint64_t realsize = 0) {
  std::string h(512, '\0');
  auto put = [&](size_t off, const std::string& v) { h.replace(off, v.size(), v); };
  auto octal = [](uint64_t v, int width) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*llo", width, static_cast<unsigned long long>(v));
    return std::string(buf);
  };
  put(0, name);
  put(100, octal(0644, 7));
  put(108, octal(0, 7));
  put(116, octal(0, 7));
  put(124, octal(stored, 11));
  put(136, octal(1700000000, 11));
  h[156] = typeflag;
  put(257, std::string("ustar  \0", 8));  // GNU magic
  if (!extra_at_386.empty()) put(386, extra_at_386);
  if (realsize) {  // GNU base-256 for a size beyond 11 octal digits
    std::string field(12, '\0');
    field[0] = static_cast<char>(0x80);
    for (int i = 0; i < 8; ++i) field[11 - i] = static_cast<char>((realsize >> (8 * i)) & 0xFF);
    put(483, field);
  }
  put(148, "        ");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  put(148, octal(sum, 6) + std::string("\0 ", 2));
  return h;
}

}  // namespace

TEST_CASE("archive: a sparse tar entry claiming 1 TB is skipped unread", "[indexer][archive]") {
  const uint64_t terabyte = 1ull << 40;
  // GNU old sparse ('S'): one 512-byte region at the very end of a 1 TB file.
  auto octal12 = [](uint64_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%011llo", static_cast<unsigned long long>(v));
    return std::string(buf, 12);
  };
  std::string sparse_map = octal12(terabyte - 512) + octal12(512);
  std::string tar = TarHeader("huge.img", 'S', 512, sparse_map, terabyte);
  tar += std::string(512, 'x');
  const std::string after = "read after the sparse entry";
  tar += TarHeader("after.txt", '0', after.size());
  tar += after + std::string(512 - after.size(), '\0');
  tar += std::string(1024, '\0');
  const auto start = std::chrono::steady_clock::now();
  Extracted e = Extract(tar, "sparse.tar");
  INFO(e.note << "\n" << MemberPaths(e));
  REQUIRE(e.members.size() == 1);
  CHECK(e.members[0].path == "after.txt");
  CHECK(e.members[0].extracted.text == after);
  CHECK(Contains(e.note, "1 skipped (larger than 64 MiB)"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("archive: 1,000,000 empty entries stop at the entry limit, fast", "[indexer][archive]") {
  std::vector<RawMember> members;
  members.reserve(1'000'000);
  char name[16];
  for (int i = 0; i < 1'000'000; ++i) {
    std::snprintf(name, sizeof name, "e%07d", i);
    members.push_back({name, ""});
  }
  const std::string zip = RawZip(members, /*zip64=*/true);
  members.clear();
  const auto start = std::chrono::steady_clock::now();
  Extracted e = Extract(zip, "million.zip");
  const auto took = std::chrono::steady_clock::now() - start;
  INFO(e.note);
  CHECK(e.members.empty());
  CHECK(Contains(e.note, "stopped: more than 10000 entries"));
  CHECK(took < std::chrono::seconds(10));
  WARN(
      "1,000,000-entry zip (" << (zip.size() >> 20) << " MiB) read in "
                              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                              << " ms");
}

TEST_CASE("archive: truncated and corrupted 7z and rar give a note, never a crash",
          "[indexer][archive]") {
  std::vector<Entry> entries;
  entries.reserve(20);
  for (int i = 0; i < 20; ++i)
    entries.push_back({"doc" + std::to_string(i) + ".txt",
                       "member " + std::to_string(i) + " " + std::string(2000, 'z')});
  const std::string sz = WriteArchive("7z", "", entries);
  REQUIRE(Extract(sz, "ok.7z").members.size() == 20);
  std::vector<std::string> bad = {sz.substr(0, 32), sz.substr(0, sz.size() / 2),
                                  sz.substr(0, sz.size() - 10)};
  std::string flipped = sz;
  for (size_t i = 40; i < flipped.size() && i < 240; ++i)
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5A);
  bad.push_back(flipped);
  std::string tail_flipped = sz;
  for (size_t i = tail_flipped.size() - 60; i < tail_flipped.size(); ++i)
    tail_flipped[i] = static_cast<char>(~tail_flipped[i]);
  bad.push_back(tail_flipped);
  for (const std::string& b : bad) {
    Extracted e = Extract(b, "broken.7z");
    INFO(b.size() << " bytes: " << e.note);
    CHECK(Contains(e.note, "7z archive"));
    CHECK(!e.note.empty());
  }
  // RAR 4 and 5 signatures followed by junk, and a truncated RAR 4 header.
  for (const std::string& rar : {std::string("Rar!\x1A\x07\x00", 7) + std::string(200, '\x41'),
                                 std::string("Rar!\x1A\x07\x01\x00", 8) + std::string(200, '\xFF'),
                                 std::string("Rar!\x1A\x07\x00\xCF\x90\x73\x00\x00\x0D", 13)}) {
    Extracted e = Extract(rar, "broken.rar");
    INFO(e.note);
    CHECK(Contains(e.note, "rar archive"));
  }
  // A zip cut short and a gzip stream that holds no tar.
  const std::string zip = WriteArchive("zip", "", entries);
  Extracted cut = Extract(zip.substr(0, zip.size() / 3), "cut.zip");
  CHECK(Contains(cut.note, "zip archive"));
  const std::string gz = WriteArchive("pax", "gzip", {{"x.txt", "x"}});
  Extracted junk = Extract(gz.substr(0, 10) + std::string(100, 'q'), "junk.gz");
  CHECK(junk.members.empty());
  CHECK(!junk.note.empty());
}

TEST_CASE("archive: a tiny zip whose zip64 locator points inside it is never read past its end",
          "[indexer][archive]") {
  // 48 bytes: a local header magic, a zip64 locator at 6 pointing to offset
  // 40, an end record at 26 declaring 0xFFFF members, and the zip64 end
  // record's magic at 40 (inside the end record). A zip64 end record is 56
  // bytes, so its member count (at 40 + 32) lies past the end of the bytes.
  std::string z(48, '\0');
  z.replace(0, 4, "PK\x03\x04", 4);
  z.replace(6, 4, "PK\x06\x07", 4);
  z[14] = 40;
  z.replace(26, 4, "PK\x05\x06", 4);
  z[36] = z[37] = '\xFF';
  z.replace(40, 4, "PK\x06\x06", 4);
  // The bytes end where the memory does: a read past them faults.
  const long page = sysconf(_SC_PAGESIZE);
  void* map = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(map != MAP_FAILED);
  REQUIRE(mprotect(static_cast<char*>(map) + page, page, PROT_NONE) == 0);
  char* at = static_cast<char*>(map) + page - z.size();
  std::copy(z.begin(), z.end(), at);  // the zip ends at the page boundary, with no terminator
  Extracted e = Extract(std::string_view(at, z.size()), "tiny.zip");
  CHECK(e.members.empty());
  munmap(map, 2 * page);
}

TEST_CASE("archive: the shared corpus's zips (GBK names, nested, cp932, 0x7075, encrypted, zip64)",
          "[indexer][archive]") {
  if (!fs::is_directory(kDocs)) {
    WARN("skipped: the shared corpus is not at " << kDocs);
    return;
  }
  auto extract = [](const std::string& rel) {
    INFO(rel);
    REQUIRE(fs::exists(kDocs + rel));
    return Extract(gongkai::test::Slurp(kDocs + rel), rel);
  };
  Extracted gbk = extract("generated/zip/gbk-names.zip");
  INFO(gbk.note << "\n" << MemberPaths(gbk));
  auto by = ByPath(gbk);
  REQUIRE(by.count("公文/政务公开目录.txt"));
  CHECK(by["公文/政务公开目录.txt"]->has_text);
  REQUIRE(by.count("公文/关于印发实施方案的通知.docx"));
  CHECK(by["公文/关于印发实施方案的通知.docx"]->has_text);

  Extracted nested = extract("generated/zip/nested.zip");
  INFO(nested.note << "\n" << MemberPaths(nested));
  auto nb = ByPath(nested);
  CHECK(nb.count("gbk-names.zip!/公文/政务公开目录.txt"));
  CHECK(nb.count("mixed-utf8-names.zip!/pdf/hant-gazette-01.pdf"));
  CHECK(nb.count("mixed-utf8-names.zip!/txt/hans-law-02.gbk.txt"));

  Extracted cp932 = extract("formats/zip-edge/libarchive-zip_filename_cp932.zip");
  INFO(cp932.note << "\n" << MemberPaths(cp932));
  REQUIRE(cp932.members.size() == 2);
  for (const ArchiveMember& m : cp932.members) {
    CHECK(gongkai::IsValidUtf8(m.path));
    CHECK(std::count(m.path.begin(), m.path.end(), '/') ==
          1);  // the 0x5C trail byte is no separator
  }

  Extracted unicode_path = extract("formats/zip-edge/libarchive-zip_7075_utf8_paths.zip");
  INFO(unicode_path.note << "\n" << MemberPaths(unicode_path));
  CHECK(ByPath(unicode_path).count("File 2 - ö.txt"));
  CHECK(ByPath(unicode_path).count("File 3 - ä.txt"));

  Extracted encrypted = extract("formats/zip-edge/libarchive-zip_traditional_encryption_data.zip");
  CHECK(encrypted.members.empty());
  CHECK(Contains(encrypted.note, "2 skipped (2 encrypted)"));
  Extracted header = extract("formats/zip-edge/libarchive-zip_encryption_header.zip");
  CHECK(header.members.empty());
  CHECK(Contains(header.note, "zip archive"));

  Extracted zip64 = extract("formats/zip-edge/libarchive-zip_zip64a.zip");
  INFO(zip64.note);
  CHECK(zip64.members.size() == 1);
}

TEST_CASE("archive: members come back through the extraction worker", "[indexer][archive]") {
  gongkai::indexer::ExtractWorkerOptions options = gongkai::indexer::DefaultExtractWorkerOptions();
  options.program = GONGKAI_EXTRACT_PATH;
  gongkai::indexer::ExtractWorkers workers(options);
  const std::string zip =
      RawZip({{kGbkDir + "/" + kGbkName + ".txt", "目录正文 through the worker"},
              {"inner.zip", WriteArchive("zip", "", {{"x.txt", "inner member"}})}});
  Extracted local = Extract(zip, "pack.zip");
  Extracted remote = workers.Extract(zip, "pack.zip");
  INFO(remote.note);
  CHECK(remote.note == local.note);
  CHECK(remote.text == local.text);
  REQUIRE(remote.members.size() == 3);
  REQUIRE(remote.members.size() == local.members.size());
  for (size_t i = 0; i < remote.members.size(); ++i) {
    CHECK(remote.members[i].path == local.members[i].path);
    CHECK(remote.members[i].extracted.text == local.members[i].extracted.text);
    CHECK(remote.members[i].extracted.title == local.members[i].extracted.title);
    CHECK(remote.members[i].extracted.note == local.members[i].extracted.note);
    CHECK(remote.members[i].extracted.has_text == local.members[i].extracted.has_text);
  }
  CHECK(remote.members[0].path == "公文/政务公开目录.txt");
  CHECK(remote.members[2].path == "inner.zip!/x.txt");
  // A document that is no archive still answers with no members, and the
  // worker goes on serving.
  Extracted text = workers.Extract("plain words", "a.txt");
  CHECK(text.members.empty());
  CHECK(text.text == "plain words");
}

TEST_CASE(
    "archive: member index entries have exactly their archive's visibility and never go stale",
    "[indexer][archive]") {
  using gongkai::indexer::IndexDoc;
  gongkai::test::TempDir dir;
  auto writer = gongkai::indexer::IndexWriter::Open(dir / "index");
  REQUIRE(writer.ok());
  IndexDoc archive;
  archive.id = "doc1";
  archive.share = "pub";
  archive.path = "docs/pack.zip";
  archive.office = "office";
  archive.type = "zip";
  archive.title = "pack.zip";
  archive.status = "active";
  archive.classification = "public";
  archive.version = 1;
  archive.modified = "2024-01-01T00:00:00Z";
  archive.text = "公文/政务公开目录.txt";
  archive.for_public = true;
  auto member = [&](const IndexDoc& of, const std::string& path, const std::string& text) {
    IndexDoc m = of;
    m.path = of.path + "!/" + path;
    m.member = path;
    m.type = "txt";
    m.title = text;
    m.text = text;
    return m;
  };
  // Version 1, public and approved: one entry serves both, and so does its member's.
  REQUIRE((*writer)->Replace(archive).ok());
  REQUIRE((*writer)->Replace(member(archive, "公文/政务公开目录.txt", "zebraquark v1")).ok());
  REQUIRE((*writer)->Commit(1).ok());
  gongkai::indexer::Searcher searcher(dir / "index");
  auto search = [&](const std::string& q, bool anonymous) {
    gongkai::indexer::SearchQuery sq;
    sq.q = q;
    sq.anonymous = anonymous;
    searcher.Invalidate();
    auto r = searcher.Search(sq);
    REQUIRE(r.ok());
    std::vector<std::string> paths;
    for (const auto& h : r->hits) paths.push_back(h.doc.id + ":" + h.doc.path);
    return paths;
  };
  CHECK(search("zebraquark", true) ==
        std::vector<std::string>{"doc1:docs/pack.zip!/公文/政务公开目录.txt"});
  CHECK(search("", true) ==
        std::vector<std::string>{"doc1:docs/pack.zip"});  // listings: documents only
  CHECK(*searcher.DocCount() == 1);
  CHECK(*searcher.PublicCount() == 1);
  CHECK(searcher.MemberProblems()->empty());

  // Version 2 pending review: inspectors see v2 and its member; the public
  // keeps v1 and its member as a separate entry.
  IndexDoc v2 = archive;
  v2.version = 2;
  v2.for_public = false;
  IndexDoc public_v1 = archive;
  public_v1.for_inspectors = false;
  REQUIRE((*writer)->RemoveSecondaryEntries("doc1").ok());
  for (const IndexDoc& d : {v2, public_v1, member(v2, "new.txt", "mintleaf v2"),
                            member(public_v1, "公文/政务公开目录.txt", "zebraquark v1")})
    REQUIRE((*writer)->Replace(d).ok());
  REQUIRE((*writer)->Commit(2).ok());
  CHECK(search("mintleaf", true).empty());
  CHECK(search("mintleaf", false) == std::vector<std::string>{"doc1:docs/pack.zip!/new.txt"});
  CHECK(search("zebraquark", true) ==
        std::vector<std::string>{"doc1:docs/pack.zip!/公文/政务公开目录.txt"});
  CHECK(search("zebraquark", false).empty());  // v1's member is not in the inspectors' v2
  CHECK(*searcher.DocCount() == 1);
  CHECK(*searcher.PublicCount() == 1);
  CHECK(searcher.MemberProblems()->empty());

  // Made restricted: the public entry goes, and its members with it.
  REQUIRE((*writer)->RemovePublicEntry("doc1").ok());
  REQUIRE((*writer)->Commit(3).ok());
  CHECK(search("zebraquark", true).empty());
  CHECK(*searcher.PublicCount() == 0);

  // A member left behind by a writer that forgot RemoveSecondaryEntries is reported.
  IndexDoc v3 = v2;
  v3.version = 3;
  REQUIRE((*writer)->Replace(v3).ok());
  REQUIRE((*writer)->Commit(4).ok());
  searcher.Invalidate();
  auto problems = searcher.MemberProblems();
  REQUIRE(problems.ok());
  REQUIRE(problems->size() == 1);
  CHECK(Contains((*problems)[0],
                 "docs/pack.zip!/new.txt (document doc1): version 2, its archive's 3"));

  // Removing the document removes every member.
  REQUIRE((*writer)->Remove("doc1").ok());
  REQUIRE((*writer)->Commit(5).ok());
  CHECK(search("mintleaf", false).empty());
  CHECK(searcher.MemberProblems()->empty());
  CHECK(*searcher.DocCount() == 0);
}
