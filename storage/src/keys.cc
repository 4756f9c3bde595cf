#include "gongkai/storage/keys.h"

#include <sys/stat.h>

#include "gongkai/log.h"
#include "gongkai/storage/record.h"

namespace gongkai::storage {

namespace {

// Keys whose note verifier key would contain '+' in its base64 part are
// skipped (about half of them): the format is "<name>+<hash>+<base64>", and
// parsers that split on the last two '+' (seen in the wild, and in the
// conformance tool) would mis-read such a key. Costs about one bit of the
// 256-bit key space.
Result<std::unique_ptr<SigningKey>> GenerateNoteFriendlyKey() {
  auto key = SigningKey::Generate();
  for (int i = 0;
       i < 64 && key.ok() && Base64("\x01" + (*key)->RawPublic()).find('+') != std::string::npos;
       ++i)
    key = SigningKey::Generate();
  return key;
}

}  // namespace

Result<std::unique_ptr<SigningKey>> RotateSigningKey(Env* env, const std::string& keys_dir,
                                                     Catalog* catalog) {
  if (Status s = env->CreateDirs(keys_dir); !s.ok()) return s;
  auto key = GenerateNoteFriendlyKey();
  if (!key.ok()) return key.status();
  const std::string id = (*key)->KeyId();
  // Order matters for crashes: the key file first (an unused file is harmless),
  // then the catalog (public key listed, others retired), then ACTIVE.
  if (Status s = WriteFileAtomically(env, keys_dir + "/" + id + ".pem", (*key)->PrivatePem(), 0600);
      !s.ok())
    return s;
  if (Status s = catalog->RotateTo({id, (*key)->PublicPem(), Rfc3339(env->Now()), ""}); !s.ok())
    return s;
  if (Status s = WriteFileAtomically(env, keys_dir + "/ACTIVE", id + "\n", 0600); !s.ok()) return s;
  log::Info("rotated signing key: now " + id);
  return key;
}

Result<std::unique_ptr<SigningKey>> LoadActiveSigningKey(const std::string& keys_dir) {
  auto id = ReadFile(keys_dir + "/ACTIVE");
  if (!id.ok()) return id.status();
  std::string key_id = *id;
  while (!key_id.empty() && (key_id.back() == '\n' || key_id.back() == ' ')) key_id.pop_back();
  const std::string pem_path = keys_dir + "/" + key_id + ".pem";
  struct stat st {};
  if (::stat(pem_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    log::Warning("signing key " + pem_path + " was readable by others; setting mode 0600");
    ::chmod(pem_path.c_str(), 0600);
  }
  auto pem = ReadFile(pem_path);
  if (!pem.ok()) return pem.status();
  auto key = SigningKey::FromPem(*pem);
  if (!key.ok()) return Status::Corruption(pem_path + ": " + key.status().message());
  if ((*key)->KeyId() != key_id)
    return Status::Corruption(pem_path + ": key does not match its name (key_id " +
                              (*key)->KeyId() + ")");
  return key;
}

Result<std::unique_ptr<SigningKey>> LoadOrCreateSigningKey(Env* env, const std::string& keys_dir,
                                                           Catalog* catalog) {
  if (Status s = env->CreateDirs(keys_dir); !s.ok()) return s;
  ::chmod(keys_dir.c_str(), 0700);
  const std::string active = keys_dir + "/ACTIVE";
  if (env->FileExists(active)) {
    auto key = LoadActiveSigningKey(keys_dir);
    if (!key.ok()) return key;
    // Re-register in case the catalog was restored without it (idempotent).
    if (Status s = catalog->AddKey({(*key)->KeyId(), (*key)->PublicPem(), Rfc3339(env->Now()), ""});
        !s.ok())
      return s;
    return key;
  }
  auto key = GenerateNoteFriendlyKey();
  if (!key.ok()) return key.status();
  const std::string id = (*key)->KeyId();
  if (Status s = WriteFileAtomically(env, keys_dir + "/" + id + ".pem", (*key)->PrivatePem(), 0600);
      !s.ok())
    return s;
  if (Status s = catalog->AddKey({id, (*key)->PublicPem(), Rfc3339(env->Now()), ""}); !s.ok())
    return s;
  if (Status s = WriteFileAtomically(env, active, id + "\n", 0600); !s.ok()) return s;
  log::Info("generated signing key " + id);
  return key;
}

}  // namespace gongkai::storage
