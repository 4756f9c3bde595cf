// How every command prints: its result as data (a Record), shown as one JSON
// object on one line with --json or as the command's text otherwise, and its
// errors as one "gongkai: " line on stderr with nothing on stdout.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "cli/cli.h"
#include "gongkai/status.h"

namespace gongkai::daemon {
class ProgressReporter;
}

namespace gongkai::cli {

// A command's result: named values in the order --json shows them.
class Record {
 public:
  template <typename T>
  Record& Add(std::string key, const T& value) {
    if constexpr (std::is_same_v<T, bool>)
      fields_.push_back({std::move(key), value});
    else if constexpr (std::is_integral_v<T>)
      fields_.push_back({std::move(key), static_cast<int64_t>(value)});
    else if constexpr (std::is_enum_v<T>)  // domain.h's and config.h's enums
      fields_.push_back({std::move(key), std::string(ToString(value))});
    else
      fields_.push_back({std::move(key), std::string(value)});
    return *this;
  }
  Record& Add(std::string key, std::vector<Record> list);
  // A value that is JSON already (stored metadata).
  Record& AddJson(std::string key, std::string json);
  // A whole result that is JSON already (a report shared with the HTTP API).
  static Record FromJson(std::string json);

  std::string Json() const;

 private:
  struct RawJson {
    std::string text;
  };
  struct Field {
    std::string key;
    std::variant<bool, int64_t, std::string, RawJson, std::vector<Record>> value;
  };
  std::vector<Field> fields_;
  std::string whole_;  // FromJson()
  friend class JsonOut;
};

// Prints `record` as JSON with --json, else `text` as it is. Returns `exit_code`.
int Print(const Args& args, const Record& record, const std::string& text, int exit_code = 0);
// A line for the user on stderr, left out with --json.
void Note(const Args& args, const std::string& line);

// An error: "gongkai: MESSAGE" on stderr; returns `exit_code`.
int Error(const std::string& message, int exit_code = 2);
// A failed operation (its code and message); returns 2.
int Fail(const Status& status);
// A usage error: the message, then `command`'s usage; returns 2.
int UsageError(const std::string& command, const std::string& message);

// A progress reporter on stderr for a long job, or none with --json (stdout
// is the result; scripts want no progress noise on stderr either).
std::unique_ptr<daemon::ProgressReporter> ProgressFor(const Args& args, const std::string& job,
                                                      const std::string& items);

}  // namespace gongkai::cli
