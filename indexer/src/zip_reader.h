// Bounded reading of a zip package held in memory (OOXML, ODF and OFD are
// zips of XML parts). Private to gongkai::indexer.
//
// Guarantees: only the members a caller asks for are decompressed, and never
// more bytes than the limits allow, counted over every call on one reader: a
// zip bomb ends in an error, not in memory exhaustion. Never throws. One
// reader is not thread-safe; independent readers are.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gongkai::indexer::detail {

struct ZipLimits {
  uint64_t max_total = 256ull << 20;   // uncompressed bytes read from one zip, all calls
  uint64_t max_member = 64ull << 20;   // uncompressed bytes of any one member read
  uint64_t max_ratio = 100;            // uncompressed bytes read / size of the whole zip ...
  uint64_t ratio_floor = 16ull << 20;  // ... checked only once this many bytes were read
  uint64_t max_members = 100000;       // members listed
};

class ZipReader {
 public:
  // "zip" must remain live while this reader is in use.
  explicit ZipReader(std::string_view zip, ZipLimits limits = {});

  // True when the bytes start like a zip (a local header or an empty zip).
  static bool LooksLikeZip(std::string_view bytes);

  // How many members the zip's end record (zip64 or not) declares; 0 if it
  // has none. Lets a caller refuse a million-member zip before libarchive
  // reads its whole central directory.
  static uint64_t DeclaredMembers(std::string_view bytes);

  // The names of all members that are regular files, in archive order.
  // False (with error()) when the bytes are not a readable zip.
  bool List(std::vector<std::string>* names);

  // Decompresses every regular-file member whose name satisfies `want` into
  // (*members)[name]. False (with error()) when the zip is broken, a wanted
  // member is encrypted, or a limit was reached; *members then holds what was
  // read before.
  using NameFilter = std::function<bool(const std::string& name)>;
  bool Read(const NameFilter& want, std::map<std::string, std::string>* members);

  // Reads one member; false (with error()) if it is missing or unreadable.
  bool ReadOne(const std::string& name, std::string* bytes);

  // Why the last List or Read failed: a short phrase suitable for a note.
  const std::string& error() const { return error_; }
  // True when the failure was a limit (a probable zip bomb).
  bool limit_reached() const { return limit_reached_; }

 private:
  std::string_view zip_;
  ZipLimits limits_;
  uint64_t total_read_ = 0;
  std::string error_;
  bool limit_reached_ = false;
};

// Normalises a path inside a package: "\" to "/", leading "/" and "./"
// removed, "." and ".." segments resolved (".." never climbs above the root).
std::string NormalizeMemberPath(std::string_view path);

}  // namespace gongkai::indexer::detail
