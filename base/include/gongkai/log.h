// One-line log events on stderr.
//
// Every call writes exactly one line (newlines and other control characters
// in the message are escaped), so the journal and `grep` see one event per
// line. When stderr is connected to the systemd journal (JOURNAL_STREAM
// matches stderr), each line carries the syslog priority prefix "<3>", "<4>",
// "<6>" or "<7>"; otherwise it starts with a UTC timestamp and the level name.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace gongkai::log {

enum class Level { kError = 3, kWarning = 4, kInfo = 6, kDebug = 7 };

void Write(Level level, std::string_view message);
// The line Write() emits, '\n' included: "<N>message" for the journal,
// "YYYY-MM-DDTHH:MM:SSZ level: message" otherwise. In the message, a newline
// or carriage return becomes the two characters \n or \r, and every other
// control character but tab (NUL too: the journal splits lines there) \xNN.
std::string FormatLine(Level level, std::string_view message, bool journal);

// `text` safe to print to a terminal or a log: newline and carriage return as
// \n and \r, every other control character but tab (C1 controls included)
// and every byte that is not part of well-formed UTF-8 as \xNN. File names
// from shares may hold anything; this is how they are shown.
std::string Printable(std::string_view text);
// Messages below this level are dropped; default kInfo (GONGKAI_DEBUG=1: kDebug).
void SetMinLevel(Level level);

inline void Error(std::string_view m) { Write(Level::kError, m); }
inline void Warning(std::string_view m) { Write(Level::kWarning, m); }
inline void Info(std::string_view m) { Write(Level::kInfo, m); }
inline void Debug(std::string_view m) { Write(Level::kDebug, m); }

}  // namespace gongkai::log
