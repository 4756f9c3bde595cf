// Bearer tokens and roles (docs/api.md, Roles and tokens).
//
// The tokens file has one line per token: ROLE SHA256HEX NAME. Only hashes are
// stored; a presented token is hashed and compared against every entry in
// constant time. Thread-safe; Reload() swaps the table atomically (SIGHUP).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gongkai/ledger/visibility.h"
#include "gongkai/status.h"

namespace gongkai::daemon {

using ledger::Role;
using ledger::ToString;

struct TokenEntry {
  Role role;
  std::string sha256_hex;
  std::string name;
};

// Parses a tokens file's text; errors name the line.
Result<std::vector<TokenEntry>> ParseTokens(const std::string& text, const std::string& file);

// A token just made: shown once, only its hash is stored.
struct NewToken {
  std::string token;  // "gk_" and 48 hex digits
  TokenEntry entry;
};

// Makes a random token of `role` (inspector, admin or hub) named `name` and
// appends its line to `file` (created, mode 0600, when missing), replacing
// the file atomically. Invalid for another role or a name with a line break;
// Corruption when the file does not parse.
Result<NewToken> AddToken(const std::string& file, Role role, const std::string& name);

// Removes from `file` the tokens named `what` or whose hash starts with `what`
// (at least 8 hex digits), keeping comments and blank lines. Returns how many
// were removed; NotFound when none matched (the file is left alone), I/O
// error when it cannot be read, Corruption when it does not parse.
Result<size_t> RevokeTokens(const std::string& file, const std::string& what);

class TokenStore {
 public:
  // Loads `file` ("" = no tokens). A missing or malformed file is an error.
  Status Load(const std::string& file);
  // The role for `Authorization` header value (may be empty: anonymous), or
  // nullopt when a token was presented but is not valid (HTTP 401).
  std::optional<Role> Authenticate(const std::string& authorization) const;
  size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<TokenEntry>> tokens_ =
      std::make_shared<const std::vector<TokenEntry>>();
};

}  // namespace gongkai::daemon
