// Pieces shared by the bag writer (bag_export.cc) and checker (bag_check.cc).
// Internal to gongkai::storage.
#pragma once

#include <locale.h>

#include <cstdint>
#include <string>

namespace gongkai::storage::bag_internal {

constexpr size_t kBufferSize = 1 << 20;  // payload bytes move through one buffer of this size

// libarchive converts entry names through the calling thread's locale. In
// the "C" locale it cannot write a non-ASCII name at all; names set in
// UTF-8 form are NFC-normalised on their way to the archive. Names given in
// multibyte form under C.UTF-8 pass through byte for byte, so the writer
// and the tar reader switch the thread's locale for the duration
// (uselocale: this thread only).
class ScopedLocale {
 public:
  explicit ScopedLocale(const char* name) : locale_(::newlocale(LC_CTYPE_MASK, name, nullptr)) {
    if (locale_) previous_ = ::uselocale(locale_);
  }
  ~ScopedLocale() {
    if (!locale_) return;
    ::uselocale(previous_);
    ::freelocale(locale_);
  }
  ScopedLocale(const ScopedLocale&) = delete;
  ScopedLocale& operator=(const ScopedLocale&) = delete;
  bool ok() const { return locale_ != nullptr; }

 private:
  locale_t locale_;
  locale_t previous_ = LC_GLOBAL_LOCALE;
};

inline bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace gongkai::storage::bag_internal
