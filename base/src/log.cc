#include "gongkai/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

#include "gongkai/utf8.h"

namespace gongkai::log {
namespace {

std::mutex g_mutex;
std::atomic<int> g_min_level{[] {
  const char* d = std::getenv("GONGKAI_DEBUG");
  return static_cast<int>(d && *d && *d != '0' ? Level::kDebug : Level::kInfo);
}()};

// True when stderr is the journal stream systemd gave us (see systemd.exec(5),
// $JOURNAL_STREAM = "DEVICE:INODE" of the stream).
bool StderrIsJournal() {
  const char* js = std::getenv("JOURNAL_STREAM");
  if (!js) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  return fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

const char* Name(Level l) {
  switch (l) {
    case Level::kError:
      return "error";
    case Level::kWarning:
      return "warning";
    case Level::kInfo:
      return "info";
    case Level::kDebug:
      return "debug";
  }
  return "?";
}

}  // namespace

void SetMinLevel(Level level) { g_min_level = static_cast<int>(level); }

std::string Printable(std::string_view message) {
  std::string line;
  line.reserve(message.size());
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < message.size();) {
    const char c = message[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {  // well-formed UTF-8 as it is, but C1 controls and any other byte as \xNN
      const size_t len = Utf8SequenceLength(message, i);
      const bool c1 = len == 2 && u == 0xC2 && static_cast<unsigned char>(message[i + 1]) < 0xA0;
      if (len && !c1) {
        line.append(message.substr(i, len));
        i += len;
        continue;
      }
    }
    if (c == '\n') {
      line += "\\n";
    } else if (c == '\r') {
      line += "\\r";
    } else if ((u < 0x20 && c != '\t') || u >= 0x7f) {
      line += "\\x";
      line += kHex[u >> 4];
      line += kHex[u & 15];
    } else {
      line += c;
    }
    ++i;
  }
  return line;
}

std::string FormatLine(Level level, std::string_view message, bool journal) {
  std::string line;
  line.reserve(message.size() + 40);
  if (journal) {
    line += '<';
    line += static_cast<char>('0' + static_cast<int>(level));
    line += '>';
  } else {
    char stamp[32];
    std::time_t t = std::time(nullptr);
    struct tm tm {};
    gmtime_r(&t, &tm);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ ", &tm);
    line += stamp;
    line += Name(level);
    line += ": ";
  }
  line += Printable(message);
  line += '\n';
  return line;
}

void Write(Level level, std::string_view message) {
  if (static_cast<int>(level) > g_min_level) return;
  static const bool kJournal = StderrIsJournal();
  const std::string line = FormatLine(level, message, kJournal);
  std::lock_guard<std::mutex> lock(g_mutex);
  ::fwrite(line.data(), 1, line.size(), stderr);
  ::fflush(stderr);
}

}  // namespace gongkai::log
