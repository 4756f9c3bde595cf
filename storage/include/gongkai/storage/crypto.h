// Hashing, encoding and Ed25519 signing on top of OpenSSL.
//
// All functions are thread-safe. Nothing here throws.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gongkai/status.h"

namespace gongkai::storage {

using Digest = std::array<uint8_t, 32>;

// Incremental SHA-256. Not thread-safe; one per stream.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t n);
  Digest Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Digest Sha256Of(std::string_view data);
std::string Hex(const uint8_t* data, size_t n);
inline std::string Hex(const Digest& d) { return Hex(d.data(), d.size()); }
std::string Base64(std::string_view data);
Result<std::string> Base64Decode(std::string_view b64);
// Cryptographically random bytes (RAND_bytes).
std::string RandomBytes(size_t n);
// `n` random bytes in lowercase base32 (RFC 4648 alphabet, no padding):
// URL-safe, 8 characters per 5 bytes. Document ids and request codes.
std::string RandomBase32(size_t n);

// An Ed25519 key pair. Immutable once loaded; safe to share between threads.
class SigningKey {
 public:
  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  static Result<std::unique_ptr<SigningKey>> Generate();
  // From a PKCS#8 PEM private key.
  static Result<std::unique_ptr<SigningKey>> FromPem(const std::string& pem);

  std::string PrivatePem() const;
  std::string PublicPem() const;
  const std::string& RawPublic() const { return raw_public_; }  // 32 bytes
  // Lowercase hex SHA-256 of the raw public key (docs/api.md, Records and checkpoints).
  const std::string& KeyId() const { return key_id_; }
  // 64-byte Ed25519 signature of `message`.
  std::string Sign(std::string_view message) const;

 private:
  explicit SigningKey(void* pkey);
  void* pkey_;  // EVP_PKEY*
  std::string raw_public_;
  std::string key_id_;
};

// The raw 32-byte Ed25519 public key from a PEM SubjectPublicKeyInfo.
Result<std::string> RawPublicFromPem(const std::string& pem);

// Checks an Ed25519 signature against a raw 32-byte public key.
bool VerifyEd25519(std::string_view raw_public, std::string_view message,
                   std::string_view signature);

}  // namespace gongkai::storage
