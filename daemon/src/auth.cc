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
    name.erase(0, name.find_first_not_of(" \t") == std::string::npos ? name.size() : name.find_first_not_of(" \t"));
    TokenEntry e;
    if (role == "inspector") e.role = Role::kInspector;
    else if (role == "admin") e.role = Role::kAdmin;
    else return Status::Invalid(file + ":" + std::to_string(n) + ": role must be inspector or admin");
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos)
      return Status::Invalid(file + ":" + std::to_string(n) + ": expected the token's lowercase hex SHA-256");
    e.sha256_hex = hash;
    e.name = name;
    out.push_back(std::move(e));
  }
  return out;
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
  if (authorization.size() <= kBearer.size() || authorization.compare(0, kBearer.size(), kBearer) != 0)
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
