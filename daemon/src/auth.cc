#include "auth.h"

#include <sstream>

#include "gongkai/storage/crypto.h"
#include "gongkai/storage/env.h"

namespace gongkai::daemon {

Result<std::vector<TokenEntry>> ParseTokens(const std::string& text, const std::string& file) {
  std::vector<TokenEntry> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    std::istringstream fields(line);
    std::string role, hash, name;
    fields >> role >> hash;
    std::getline(fields, name);
    name.erase(0, name.find_first_not_of(" \t") == std::string::npos
                      ? name.size()
                      : name.find_first_not_of(" \t"));
    TokenEntry e;
    const auto parsed = ledger::ParseTokenRole(role);
    if (!parsed)
      return Status::Invalid(file + ":" + std::to_string(n) +
                             ": role must be inspector, admin or hub");
    e.role = *parsed;
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos)
      return Status::Invalid(file + ":" + std::to_string(n) +
                             ": expected the token's lowercase hex SHA-256");
    e.sha256_hex = hash;
    e.name = name;
    out.push_back(std::move(e));
  }
  return out;
}

Result<NewToken> AddToken(const std::string& file, Role role, const std::string& name) {
  if (role == Role::kAnonymous) return Status::Invalid("a token's role is inspector, admin or hub");
  if (name.empty() || name.find_first_of("\n\r") != std::string::npos)
    return Status::Invalid("a token's name is one line, not empty");
  std::string text;
  if (auto t = storage::ReadFile(file); t.ok())
    text = *t;
  else if (!t.status().IsNotFound())
    return t.status();
  if (auto parsed = ParseTokens(text, file); !parsed.ok())
    return Status::Corruption(parsed.status().message());
  const std::string raw = storage::RandomBytes(24);
  NewToken made{"gk_" + storage::Hex(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()),
                {role, "", name}};
  made.entry.sha256_hex = storage::Hex(storage::Sha256Of(made.token));
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += std::string(ToString(role)) + " " + made.entry.sha256_hex + " " + name + "\n";
  if (Status s = storage::WriteFileAtomically(storage::Env::Default(), file, text, 0600); !s.ok())
    return s;
  return made;
}

Result<size_t> RevokeTokens(const std::string& file, const std::string& what) {
  auto text = storage::ReadFile(file);
  if (!text.ok()) return Status::IOError(text.status().message());
  auto tokens = ParseTokens(*text, file);
  if (!tokens.ok()) return Status::Corruption(tokens.status().message());
  std::string kept;
  size_t removed = 0;
  std::istringstream in(*text);
  std::string line;
  for (auto it = tokens->begin(); std::getline(in, line);) {
    const size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') {  // ParseTokens skipped it too
      kept += line + "\n";
      continue;
    }
    const bool match = it->name == what || (what.size() >= 8 && it->sha256_hex.rfind(what, 0) == 0);
    ++it;
    if (match)
      ++removed;
    else
      kept += line + "\n";
  }
  if (removed == 0) return Status::NotFound("no token named or starting with '" + what + "'");
  if (Status s = storage::WriteFileAtomically(storage::Env::Default(), file, kept, 0600); !s.ok())
    return s;
  return removed;
}

Status TokenStore::Load(const std::string& file) {
  auto table = std::make_shared<std::vector<TokenEntry>>();
  if (!file.empty()) {
    auto text = storage::ReadFile(file);
    if (!text.ok()) return Status::IOError("[auth] tokens_file: " + text.status().message());
    auto parsed = ParseTokens(*text, file);
    if (!parsed.ok()) return parsed.status();
    *table = std::move(*parsed);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  tokens_ = std::move(table);
  return Status::OK();
}

size_t TokenStore::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return tokens_->size();
}

std::optional<Role> TokenStore::Authenticate(const std::string& authorization) const {
  if (authorization.empty()) return Role::kAnonymous;
  static const std::string kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      authorization.compare(0, kBearer.size(), kBearer) != 0)
    return std::nullopt;
  std::string hex = storage::Hex(storage::Sha256Of(authorization.substr(kBearer.size())));
  std::shared_ptr<const std::vector<TokenEntry>> tokens;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tokens = tokens_;
  }
  // Compare against every entry without early exit, so timing reveals nothing.
  std::optional<Role> found;
  for (const TokenEntry& e : *tokens) {
    unsigned char diff = 0;
    for (size_t i = 0; i < 64; ++i) diff |= static_cast<unsigned char>(e.sha256_hex[i] ^ hex[i]);
    if (diff == 0) found = e.role;
  }
  return found;
}

}  // namespace gongkai::daemon
