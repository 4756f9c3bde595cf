// Checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, with Ed25519
// note keys (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note).
//
//   <origin>\n<tree size>\n<base64 root hash>\n
//   \n
//   — <key name> <base64(4-byte key hash || 64-byte signature)>\n
//
// The key name is the log origin; the key hash is the first 4 bytes of
// SHA-256(name || "\n" || 0x01 || public key).
#pragma once

#include <cstdint>
#include <string>

#include "gongkai/status.h"
#include "gongkai/storage/crypto.h"

namespace gongkai::storage {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Digest root{};
};

std::string SignCheckpoint(const Checkpoint& c, const SigningKey& key);
// Parses and checks the signature by `raw_public` under key name `origin`.
Result<Checkpoint> VerifyCheckpoint(const std::string& note, const std::string& origin,
                                    const std::string& raw_public);
// Parses the body only (no signature check).
Result<Checkpoint> ParseCheckpointBody(const std::string& note);
// "<name>+<8 hex key hash>+<base64(0x01 || public key)>"
std::string NoteVerifierKey(const std::string& name, const std::string& raw_public);

}  // namespace gongkai::storage
