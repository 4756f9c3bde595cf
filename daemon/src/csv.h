// CSV as RFC 4180 has it, for the reports' downloads.
#pragma once

#include <string>

namespace gongkai::daemon {

// `value` as one CSV field: quoted (inner quotes doubled) when it holds a
// comma, a quote or a line break; as it is otherwise.
inline std::string CsvCell(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char c : value) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace gongkai::daemon
