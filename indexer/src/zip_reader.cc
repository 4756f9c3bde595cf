#include "zip_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace gongkai::indexer::detail {
namespace {

// "64 MiB", or "1000 bytes" for limits that are not whole MiB (tests use small ones).
std::string Size(uint64_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

using ArchivePtr = std::unique_ptr<archive, decltype(&archive_read_free)>;

// Opens the zip for one pass over its members; nullptr (with *error) if the
// bytes are not a zip libarchive can read. Only the zip format is enabled:
// nothing else (tar, 7z, compressed streams) is ever parsed here.
ArchivePtr Open(std::string_view zip, std::string* error) {
  ArchivePtr a(archive_read_new(), &archive_read_free);
  if (!a) {
    *error = "out of memory";
    return {nullptr, &archive_read_free};
  }
  archive_read_support_format_zip(a.get());
  // Memory is seekable, so libarchive reads the central directory (the
  // authoritative member list) rather than streaming local headers.
  if (archive_read_open_memory(a.get(), zip.data(), zip.size()) != ARCHIVE_OK) {
    const char* msg = archive_error_string(a.get());
    *error = std::string("not a readable zip") + (msg ? std::string(": ") + msg : "");
    return {nullptr, &archive_read_free};
  }
  return a;
}

std::string EntryName(archive_entry* entry) {
  const char* utf8 = archive_entry_pathname_utf8(entry);
  if (utf8) return utf8;
  const char* raw = archive_entry_pathname(entry);
  return raw ? raw : "";
}

}  // namespace

ZipReader::ZipReader(std::string_view zip, ZipLimits limits) : zip_(zip), limits_(limits) {}

bool ZipReader::LooksLikeZip(std::string_view bytes) {
  return bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4) ||
         bytes.substr(0, 4) == std::string_view("PK\x05\x06", 4);
}

uint64_t ZipReader::DeclaredMembers(std::string_view zip) {
  auto le = [&](size_t at, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(zip[at + i]);
    return v;
  };
  // The end record (22 bytes and a comment of up to 64 KiB) is near the end.
  const size_t floor = zip.size() > 22 + 65535 ? zip.size() - 22 - 65535 : 0;
  for (size_t at = zip.size() >= 22 ? zip.size() - 22 + 1 : 0; at-- > floor;) {
    if (zip.compare(at, 4, std::string_view("PK\x05\x06", 4)) != 0) continue;
    const uint64_t count = le(at + 10, 2);
    // 0xFFFF: the real count is in the zip64 end record the locator before it points to.
    if (count == 0xFFFF && at >= 20 &&
        zip.compare(at - 20, 4, std::string_view("PK\x06\x07", 4)) == 0) {
      const uint64_t record = le(at - 20 + 8, 8);
      // The zip64 end record is 56 bytes, its count at +32: all of it must lie within the bytes.
      if (zip.size() >= 56 && record <= zip.size() - 56 &&
          zip.compare(record, 4, std::string_view("PK\x06\x06", 4)) == 0)
        return le(record + 32, 8);
    }
    return count;
  }
  return 0;
}

bool ZipReader::List(std::vector<std::string>* names) {
  error_.clear();
  limit_reached_ = false;
  ArchivePtr a = Open(zip_, &error_);
  if (!a) return false;
  archive_entry* entry = nullptr;
  uint64_t count = 0;
  int rc;
  while ((rc = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
    if (++count > limits_.max_members) {
      error_ = "more than " + std::to_string(limits_.max_members) + " zip members";
      limit_reached_ = true;
      return false;
    }
    if (archive_entry_filetype(entry) == AE_IFREG) names->push_back(EntryName(entry));
  }
  if (rc != ARCHIVE_EOF) {
    const char* msg = archive_error_string(a.get());
    error_ = std::string("broken zip") + (msg ? std::string(": ") + msg : "");
    return false;
  }
  return true;
}

bool ZipReader::Read(const NameFilter& want, std::map<std::string, std::string>* members) {
  error_.clear();
  limit_reached_ = false;
  ArchivePtr a = Open(zip_, &error_);
  if (!a) return false;
  auto fail_limit = [&](std::string what) {
    error_ = std::move(what);
    limit_reached_ = true;
    return false;
  };
  archive_entry* entry = nullptr;
  uint64_t count = 0;
  int rc;
  while ((rc = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
    if (++count > limits_.max_members)
      return fail_limit("more than " + std::to_string(limits_.max_members) + " zip members");
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    std::string name = EntryName(entry);
    if (!want(name)) continue;  // the next header call skips its data undecompressed
    if (archive_entry_is_encrypted(entry)) {
      error_ = "encrypted zip member " + name;
      return false;
    }
    // The declared size may lie; it only lets an honest oversized member fail early.
    if (archive_entry_size_is_set(entry) &&
        static_cast<uint64_t>(archive_entry_size(entry)) > limits_.max_member)
      return fail_limit("zip member " + name + " larger than " + Size(limits_.max_member));
    std::string& out = (*members)[name];
    out.clear();
    char buf[64 * 1024];
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) {
        const char* msg = archive_error_string(a.get());
        error_ = "unreadable zip member " + name + (msg ? std::string(": ") + msg : "");
        members->erase(name);
        return false;
      }
      total_read_ += static_cast<uint64_t>(n);
      if (out.size() + static_cast<size_t>(n) > limits_.max_member) {
        members->erase(name);
        return fail_limit("zip member " + name + " larger than " + Size(limits_.max_member) +
                          " uncompressed");
      }
      if (total_read_ > limits_.max_total) {
        members->erase(name);
        return fail_limit("zip expands to more than " + Size(limits_.max_total));
      }
      if (total_read_ > limits_.ratio_floor && total_read_ / limits_.max_ratio > zip_.size()) {
        members->erase(name);
        return fail_limit("zip compression ratio above " + std::to_string(limits_.max_ratio) +
                          ":1");
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }
  if (rc != ARCHIVE_EOF) {
    const char* msg = archive_error_string(a.get());
    error_ = std::string("broken zip") + (msg ? std::string(": ") + msg : "");
    return false;
  }
  return true;
}

bool ZipReader::ReadOne(const std::string& name, std::string* bytes) {
  std::map<std::string, std::string> members;
  if (!Read([&](const std::string& n) { return n == name; }, &members)) return false;
  auto it = members.find(name);
  if (it == members.end()) {
    error_ = "zip member " + name + " missing";
    return false;
  }
  *bytes = std::move(it->second);
  return true;
}

std::string NormalizeMemberPath(std::string_view path) {
  std::vector<std::string> parts;
  std::string segment;
  auto flush = [&] {
    if (segment == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!segment.empty() && segment != ".") {
      parts.push_back(segment);
    }
    segment.clear();
  };
  for (char c : path) {
    if (c == '/' || c == '\\')
      flush();
    else
      segment += c;
  }
  flush();
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

}  // namespace gongkai::indexer::detail
