// libFuzzer target: NAME.meta.json sidecars, written by office staff.
// A sidecar that parses is normalised: parsing its own output gives the same.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sidecar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = gongkai::daemon::ParseSidecar(text);
  if (!parsed.ok()) {
    if (parsed.status().message().empty()) std::abort();  // every refusal says why
    return 0;
  }
  auto again = gongkai::daemon::ParseSidecar(parsed->json);
  if (!again.ok() || again->json != parsed->json) std::abort();
  return 0;
}
