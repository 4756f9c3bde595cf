// libFuzzer target: the INI configuration. A refused config names where.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "gongkai/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto cfg = gongkai::ParseConfig(text, "/fuzz/gongkaid.conf");
  if (!cfg.ok() && cfg.status().message().find("gongkaid.conf") == std::string::npos) std::abort();
  return 0;
}
