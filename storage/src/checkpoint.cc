#include "gongkai/storage/checkpoint.h"

#include <sstream>

namespace gongkai::storage {
namespace {

const char kEmDash[] = "\xE2\x80\x94";

std::string KeyHash(const std::string& name, const std::string& raw_public) {
  Digest d = Sha256Of(name + "\n\x01" + raw_public);
  return std::string(reinterpret_cast<const char*>(d.data()), 4);
}

std::string Body(const Checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" +
         Base64(std::string_view(reinterpret_cast<const char*>(c.root.data()), c.root.size())) +
         "\n";
}

}  // namespace

std::string NoteVerifierKey(const std::string& name, const std::string& raw_public) {
  const std::string h = KeyHash(name, raw_public);
  return name + "+" + Hex(reinterpret_cast<const uint8_t*>(h.data()), h.size()) + "+" +
         Base64("\x01" + raw_public);
}

std::string SignCheckpoint(const Checkpoint& c, const SigningKey& key) {
  const std::string body = Body(c);
  const std::string sig = KeyHash(c.origin, key.RawPublic()) + key.Sign(body);
  return body + "\n" + kEmDash + " " + c.origin + " " + Base64(sig) + "\n";
}

Result<Checkpoint> ParseCheckpointBody(const std::string& note) {
  size_t split = note.find("\n\n");
  if (split == std::string::npos)
    return Status::Corruption("checkpoint: no blank line before signatures");
  std::istringstream body(note.substr(0, split + 1));
  std::string origin, size, root;
  if (!std::getline(body, origin) || !std::getline(body, size) || !std::getline(body, root))
    return Status::Corruption("checkpoint: body needs origin, size and root lines");
  Checkpoint c;
  c.origin = origin;
  if (size.empty() || size.size() > 19 || size.find_first_not_of("0123456789") != std::string::npos)
    return Status::Corruption("checkpoint: bad tree size '" + size + "'");
  c.size = std::stoull(size);
  auto raw = Base64Decode(root);
  if (!raw.ok() || raw->size() != 32) return Status::Corruption("checkpoint: bad root hash");
  std::copy(raw->begin(), raw->end(), c.root.begin());
  return c;
}

Result<Checkpoint> VerifyCheckpoint(const std::string& note, const std::string& origin,
                                    const std::string& raw_public) {
  auto c = ParseCheckpointBody(note);
  if (!c.ok()) return c;
  if (c->origin != origin)
    return Status::Corruption("checkpoint origin '" + c->origin + "' is not '" + origin + "'");
  const size_t split = note.find("\n\n");
  const std::string body = note.substr(0, split + 1);
  const std::string want_hash = KeyHash(origin, raw_public);
  std::istringstream sigs(note.substr(split + 2));
  std::string line;
  const std::string prefix = std::string(kEmDash) + " " + origin + " ";
  while (std::getline(sigs, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    auto raw = Base64Decode(line.substr(prefix.size()));
    if (!raw.ok() || raw->size() != 68 || raw->substr(0, 4) != want_hash) continue;
    if (VerifyEd25519(raw_public, body, raw->substr(4))) return c;
    return Status::Corruption("checkpoint signature does not verify");
  }
  return Status::Corruption("checkpoint has no signature by this key");
}

}  // namespace gongkai::storage
