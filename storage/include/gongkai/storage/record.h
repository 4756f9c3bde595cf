// Signed log records (docs/api.md, Records and checkpoints).
//
// A record is one line of JSON with its keys in a fixed order. It is
// serialised exactly once, when it is created; from then on the stored bytes
// are the record, and nobody re-serialises them (verifiers hash and check
// those exact bytes).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "gongkai/domain.h"
#include "gongkai/storage/crypto.h"

namespace gongkai::storage {

struct RecordFields {
  uint64_t seq = 0;
  EventKind event = EventKind::kVersion;
  std::string doc;
  std::string share;
  std::string path;
  uint64_t version = 0;
  std::string sha256;
  uint64_t size = 0;
  std::string time;      // RFC 3339 UTC
  std::string key;       // key_id of the signing key
  std::string prev;      // hex leaf hash of the document's previous record, "" for its first
  std::string modified;  // the file's mtime, RFC 3339 UTC (extension)
  Classification classification =
      Classification::kPublic;                  // extension: the document's, at this event
  ReviewState review = ReviewState::kApproved;  // extension
  std::string meta;  // extension: hex SHA-256 of the version's metadata JSON ("" for none)
  std::string from;  // extension, move records: the previous path
};

std::string SerializeRecord(const RecordFields& r);
// RFC 9162 leaf hash: SHA-256(0x00 || record).
Digest LeafHash(std::string_view record);
// RFC 9162 interior node hash: SHA-256(0x01 || left || right).
Digest NodeHash(const Digest& left, const Digest& right);

// JSON string literal (with quotes) for UTF-8 `s`; invalid UTF-8 bytes become U+FFFD.
std::string JsonQuote(std::string_view s);
// "2026-11-28T21:36:28Z" (whole seconds, UTC).
std::string Rfc3339(std::chrono::system_clock::time_point t);
std::string Rfc3339FromNanos(int64_t ns_since_epoch);

}  // namespace gongkai::storage
