// Checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, with Ed25519
// note keys (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note).
//
//   <origin>\n<tree size>\n<base64 root hash>\n
//   \n
//   — <key name> <base64(4-byte key hash || 64-byte signature)>\n
//
// The key name is the log origin; the key hash is the first 4 bytes of
// SHA-256(name || "\n" || 0x01 || public key).
//
// Witnesses add C2SP tlog-cosignature lines (cosignature/v1, Ed25519): the
// same line shape under the witness's name, key type 0x04, and a signature
// of base64(key hash || 8-byte big-endian time || 64-byte signature) over
//   "cosignature/v1\ntime <time>\n" || checkpoint body.
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

// The key types of a verifier key's first byte.
inline constexpr char kNoteKeyEd25519 = 0x01;
inline constexpr char kCosignatureV1 = 0x04;

struct VerifierKey {
  std::string name;
  char type = kNoteKeyEd25519;
  std::string raw_public;  // 32 bytes
};
// Parses "<name>+<hex key hash>+<base64(type || public key)>" and checks the
// hash; Invalid says what is wrong. Only the two Ed25519 types are known.
Result<VerifierKey> ParseVerifierKey(const std::string& vkey);
// "<name>+<8 hex key hash>+<base64(0x04 || public key)>"
std::string CosignerVerifierKey(const std::string& name, const std::string& raw_public);

// The checkpoint body of `note`: everything up to and including the first
// line end of the blank line's predecessor ("" if there is no blank line).
std::string NoteBody(const std::string& note);

// A cosignature/v1 line ("— <name> <base64>\n") by `key` as `name` over
// `body` (a checkpoint body with its final newline) at POSIX time `time`.
std::string Cosign(const std::string& body, const std::string& name, const SigningKey& key,
                   uint64_t time);
// The time of `name`'s cosignature/v1 over `note`'s body by `raw_public`:
// NotFound when the note has no line with that name and key hash,
// Corruption when it has one that does not verify.
Result<uint64_t> VerifyCosignature(const std::string& note, const std::string& name,
                                   const std::string& raw_public);

}  // namespace gongkai::storage
