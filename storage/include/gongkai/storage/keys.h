// The archive's signing keys under DATA/keys.
//
// Each key is DATA/keys/<key_id>.pem (PKCS#8, mode 0600, inside a 0700
// folder); DATA/keys/ACTIVE names the key that signs new records. Public keys
// are also registered in the catalog so verifiers can list them. Private keys
// are never served or logged.
#pragma once

#include <memory>
#include <string>

#include "gongkai/status.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/env.h"

namespace gongkai::storage {

// Loads the active key, generating and registering one on first use.
Result<std::unique_ptr<SigningKey>> LoadOrCreateSigningKey(Env* env, const std::string& keys_dir,
                                                           Catalog* catalog);

// Loads the active key only (never creates one, never writes).
Result<std::unique_ptr<SigningKey>> LoadActiveSigningKey(const std::string& keys_dir);

// Makes a new active key: writes it (0600), registers it and marks every
// other key retired (now) in the catalog, then points ACTIVE at it. Old keys
// stay listed, so old signatures stay verifiable. The daemon starts signing
// with the new key on SIGHUP or restart.
Result<std::unique_ptr<SigningKey>> RotateSigningKey(Env* env, const std::string& keys_dir,
                                                     Catalog* catalog);

}  // namespace gongkai::storage
