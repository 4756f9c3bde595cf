// libFuzzer target: checkpoints a verifier is handed (gongkai verify
// --checkpoint FILE, bags): parsing never crashes, and what verifies is what
// the body says.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/crypto.h"

namespace {
const gongkai::storage::SigningKey& Key() {
  static auto key = gongkai::storage::SigningKey::Generate();
  return **key;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string note(reinterpret_cast<const char*>(data), size);
  (void)gongkai::storage::ParseCheckpointBody(note);
  auto verified = gongkai::storage::VerifyCheckpoint(note, "fuzz.example", Key().RawPublic());
  if (verified.ok()) {
    // What verified is what the body says.
    auto body = gongkai::storage::ParseCheckpointBody(note);
    if (!body.ok() || body->size != verified->size || body->root != verified->root ||
        body->origin != verified->origin)
      std::abort();
  }
  return 0;
}
