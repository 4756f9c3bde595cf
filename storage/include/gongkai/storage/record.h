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
  // The 索引号 this event gave the document: only in the record of the event
  // that first made it public and approved (CONTRACT.md section 9).
  std::string index_no;
};

std::string SerializeRecord(const RecordFields& r);

// The record of a disclosure request's event (CONTRACT.md section 8). It
// holds nothing personal: the request's details enter only as
// `details_sha256`, a salted commitment (SaltedSha256), and so do an event's
// note and approver (`note_sha256`).
struct RequestRecordFields {
  uint64_t seq = 0;
  std::string event;           // "request.received", "request.extended", ...
  std::string request;         // the tracking code
  std::string date;            // YYYY-MM-DD, the event's date
  std::string channel;         // request.received only
  std::string applicant_type;  // request.received only
  std::string outcome;         // request.replied only
  int64_t days = 0;            // request.extended only
  std::string reply_document;  // request.replied, when the letter is archived
  std::string details_sha256;
  std::string note_sha256;  // "" when the event has no note and no approver
  std::string time;         // RFC 3339 UTC
  std::string key;
  std::string prev;  // hex leaf hash of the request's previous record, "" for its first
};

std::string SerializeRequestRecord(const RequestRecordFields& r);

// The record of the annual report's figures for a year, entered by an admin
// (CONTRACT.md section 9): they are in it as the normalised JSON text. These
// records form one chain of their own (doc and request "").
struct ReportFiguresRecordFields {
  uint64_t seq = 0;
  int64_t year = 0;
  std::string figures;
  std::string time;
  std::string key;
  std::string prev;  // hex leaf hash of the previous figures record, "" for the first
};

std::string SerializeReportFiguresRecord(const ReportFiguresRecordFields& r);

// Hex SHA-256 of `salt`, a newline and `text`: the commitment a request's
// records make to its stored details, checkable by whoever holds both
// (`printf '%s\n%s' SALT TEXT | sha256sum`) and by nobody else.
std::string SaltedSha256(const std::string& salt, const std::string& text);

// The text an event's `note_sha256` commits to: its note and approver as a
// JSON object; "" (no commitment) when both are empty.
std::string RequestNoteJson(const std::string& note, const std::string& approved_by);

// Whose chain of `prev` links a record is on: its document's id, or
// "request " + its code for a request's record.
std::string ChainOf(const std::string& doc, const std::string& request);
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
