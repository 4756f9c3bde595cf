// Archives built in memory for tests: with libarchive's writer, or byte by
// byte where a writer would not produce the form a test needs (zip names
// without the UTF-8 flag, "../" names, a million members).
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gongkai::test {

struct Entry {
  std::string name;
  std::string data;
  unsigned type = AE_IFREG;
  std::string link;  // symlink target (AE_IFLNK) or hard link target (hardlink = true)
  bool hardlink = false;
};

// An archive of `entries` written by libarchive into memory. format: zip,
// pax, gnutar or 7z; filter: "", gzip, bzip2 or xz.
inline std::string WriteArchive(const std::string& format, const std::string& filter,
                                const std::vector<Entry>& entries) {
  std::string out;
  archive* a = archive_write_new();
  if (format == "zip")
    archive_write_set_format_zip(a);
  else if (format == "pax")
    archive_write_set_format_pax_restricted(a);
  else if (format == "gnutar")
    archive_write_set_format_gnutar(a);
  else if (format == "7z")
    archive_write_set_format_7zip(a);
  if (filter == "gzip")
    archive_write_add_filter_gzip(a);
  else if (filter == "bzip2")
    archive_write_add_filter_bzip2(a);
  else if (filter == "xz")
    archive_write_add_filter_xz(a);
  archive_write_set_bytes_in_last_block(a, 1);
  REQUIRE(archive_write_open(
              a, &out, nullptr,
              [](archive*, void* client, const void* buf, size_t n) -> la_ssize_t {
                static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
                return static_cast<la_ssize_t>(n);
              },
              nullptr) == ARCHIVE_OK);
  for (const Entry& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, e.type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_mtime(entry, 1700000000, 0);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.link.c_str());
    if (e.hardlink) archive_entry_set_hardlink(entry, e.link.c_str());
    archive_entry_set_size(
        entry, e.type == AE_IFREG && !e.hardlink ? static_cast<la_int64_t>(e.data.size()) : 0);
    INFO(e.name << ": " << (archive_error_string(a) ? archive_error_string(a) : ""));
    REQUIRE(archive_write_header(a, entry) >= ARCHIVE_WARN);
    if (!e.data.empty())
      REQUIRE(archive_write_data(a, e.data.data(), e.data.size()) ==
              static_cast<la_ssize_t>(e.data.size()));
    archive_entry_free(entry);
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  return out;
}

// ---- zips byte by byte: stored members with names exactly as given

inline uint32_t Crc32(std::string_view data) {
  struct Table {
    uint32_t t[256];
    Table() {
      for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
      }
    }
  };
  static const Table kTable;
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char ch : data) crc = kTable.t[(crc ^ ch) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

inline void Put16(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v & 0xFF));
  out->push_back(static_cast<char>((v >> 8) & 0xFF));
}
inline void Put32(std::string* out, uint32_t v) {
  Put16(out, v & 0xFFFF);
  Put16(out, v >> 16);
}
inline void Put64(std::string* out, uint64_t v) {
  Put32(out, static_cast<uint32_t>(v));
  Put32(out, static_cast<uint32_t>(v >> 32));
}

struct RawMember {
  std::string name;  // raw bytes, no UTF-8 flag unless utf8_flag
  std::string data;
  bool utf8_flag = false;
};

// A zip of stored members; with zip64 the end records are zip64 ones (for
// more than 65,535 members).
inline std::string RawZip(const std::vector<RawMember>& members, bool zip64 = false) {
  std::string out, central;
  for (const RawMember& m : members) {
    const uint32_t offset = static_cast<uint32_t>(out.size());
    const uint32_t crc = Crc32(m.data);
    const uint16_t flags = m.utf8_flag ? 0x800 : 0;
    auto common = [&](std::string* s) {
      Put16(s, 20);  // version needed
      Put16(s, flags);
      Put16(s, 0);       // stored
      Put16(s, 0);       // time
      Put16(s, 0x5821);  // date 2024-01-01
      Put32(s, crc);
      Put32(s, static_cast<uint32_t>(m.data.size()));
      Put32(s, static_cast<uint32_t>(m.data.size()));
      Put16(s, static_cast<uint32_t>(m.name.size()));
      Put16(s, 0);  // extra
    };
    Put32(&out, 0x04034b50);
    common(&out);
    out += m.name;
    out += m.data;
    Put32(&central, 0x02014b50);
    Put16(&central, 0x031E);  // made by: Unix, 3.0
    common(&central);
    Put16(&central, 0);  // comment
    Put16(&central, 0);  // disk
    Put16(&central, 0);  // internal attributes
    Put32(&central, 0100644u << 16);
    Put32(&central, offset);
    central += m.name;
  }
  const uint64_t cd_offset = out.size();
  out += central;
  const uint64_t n = members.size();
  if (zip64) {
    const uint64_t record = out.size();
    Put32(&out, 0x06064b50);
    Put64(&out, 44);
    Put16(&out, 45);
    Put16(&out, 45);
    Put32(&out, 0);
    Put32(&out, 0);
    Put64(&out, n);
    Put64(&out, n);
    Put64(&out, central.size());
    Put64(&out, cd_offset);
    Put32(&out, 0x07064b50);
    Put32(&out, 0);
    Put64(&out, record);
    Put32(&out, 1);
  }
  Put32(&out, 0x06054b50);
  Put16(&out, 0);
  Put16(&out, 0);
  Put16(&out, zip64 ? 0xFFFF : static_cast<uint32_t>(n));
  Put16(&out, zip64 ? 0xFFFF : static_cast<uint32_t>(n));
  Put32(&out, static_cast<uint32_t>(central.size()));
  Put32(&out, static_cast<uint32_t>(cd_offset));
  Put16(&out, 0);
  return out;
}

}  // namespace gongkai::test
