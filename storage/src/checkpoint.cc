#include "gongkai/storage/checkpoint.h"

#include <sstream>

namespace gongkai::storage {
namespace {

const char kEmDash[] = "\xE2\x80\x94";

std::string KeyHash(const std::string& name, const std::string& raw_public,
                    char type = kNoteKeyEd25519) {
  Digest d = Sha256Of(name + "\n" + type + raw_public);
  return std::string(reinterpret_cast<const char*>(d.data()), 4);
}

std::string VerifierKeyOf(const std::string& name, const std::string& raw_public, char type) {
  const std::string h = KeyHash(name, raw_public, type);
  return name + "+" + Hex(reinterpret_cast<const uint8_t*>(h.data()), h.size()) + "+" +
         Base64(type + raw_public);
}

std::string CosignedMessage(const std::string& body, uint64_t time) {
  return "cosignature/v1\ntime " + std::to_string(time) + "\n" + body;
}

std::string Body(const Checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" +
         Base64(std::string_view(reinterpret_cast<const char*>(c.root.data()), c.root.size())) +
         "\n";
}

}  // namespace

std::string NoteVerifierKey(const std::string& name, const std::string& raw_public) {
  return VerifierKeyOf(name, raw_public, kNoteKeyEd25519);
}

std::string CosignerVerifierKey(const std::string& name, const std::string& raw_public) {
  return VerifierKeyOf(name, raw_public, kCosignatureV1);
}

Result<VerifierKey> ParseVerifierKey(const std::string& vkey) {
  // Key names never hold a '+' (signed-note); base64 may.
  const size_t first = vkey.find('+');
  const size_t second = first == std::string::npos ? first : vkey.find('+', first + 1);
  if (first == 0 || second == std::string::npos)
    return Status::Invalid("verifier key '" + vkey + "' is not <name>+<key hash>+<key>");
  VerifierKey k;
  k.name = vkey.substr(0, first);
  auto raw = Base64Decode(vkey.substr(second + 1));
  if (!raw.ok() || raw->size() != 33 ||
      ((*raw)[0] != kNoteKeyEd25519 && (*raw)[0] != kCosignatureV1))
    return Status::Invalid("verifier key '" + vkey + "': not an Ed25519 key (type 0x01 or 0x04)");
  k.type = (*raw)[0];
  k.raw_public = raw->substr(1);
  if (VerifierKeyOf(k.name, k.raw_public, k.type) != vkey)
    return Status::Invalid("verifier key '" + vkey + "': the key hash does not match the key");
  return k;
}

std::string NoteBody(const std::string& note) {
  const size_t split = note.find("\n\n");
  return split == std::string::npos ? std::string() : note.substr(0, split + 1);
}

std::string Cosign(const std::string& body, const std::string& name, const SigningKey& key,
                   uint64_t time) {
  std::string stamp(8, '\0');
  for (int i = 0; i < 8; ++i) stamp[i] = static_cast<char>(time >> (56 - 8 * i));
  const std::string sig = KeyHash(name, key.RawPublic(), kCosignatureV1) + stamp +
                          key.Sign(CosignedMessage(body, time));
  return std::string(kEmDash) + " " + name + " " + Base64(sig) + "\n";
}

Result<uint64_t> VerifyCosignature(const std::string& note, const std::string& name,
                                   const std::string& raw_public) {
  const std::string body = NoteBody(note);
  if (body.empty()) return Status::Corruption("checkpoint: no blank line before signatures");
  const std::string want_hash = KeyHash(name, raw_public, kCosignatureV1);
  const std::string prefix = std::string(kEmDash) + " " + name + " ";
  std::istringstream sigs(note.substr(body.size() + 1));
  std::string line;
  while (std::getline(sigs, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    auto raw = Base64Decode(line.substr(prefix.size()));
    if (!raw.ok() || raw->size() != 4 + 8 + 64 || raw->substr(0, 4) != want_hash) continue;
    uint64_t time = 0;
    for (int i = 0; i < 8; ++i) time = time << 8 | static_cast<uint8_t>((*raw)[4 + i]);
    if (VerifyEd25519(raw_public, CosignedMessage(body, time), raw->substr(12))) return time;
    return Status::Corruption("cosignature by " + name + " does not verify");
  }
  return Status::NotFound("no cosignature by " + name);
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
