// A minimal streaming JSON writer for API responses. Strings are written as
// valid UTF-8 whatever bytes they hold (bad bytes become U+FFFD), which matters
// because file names in shares are arbitrary bytes. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "gongkai/storage/catalog.h"
#include "gongkai/storage/record.h"

namespace gongkai::daemon {

class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(std::string_view k) {
    Comma();
    out_ += storage::JsonQuote(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view v) { return Raw(storage::JsonQuote(v)); }
  JsonWriter& Int(int64_t v) { return Raw(std::to_string(v)); }
  JsonWriter& Bool(bool v) { return Raw(v ? "true" : "false"); }
  JsonWriter& Null() { return Raw("null"); }
  JsonWriter& Strings(const std::vector<std::string>& list) {
    BeginArray();
    for (const std::string& s : list) String(s);
    return EndArray();
  }
  // Inserts already-serialised JSON (e.g. stored metadata) as a value.
  JsonWriter& Raw(std::string_view json) {
    Comma();
    out_ += json;
    return *this;
  }
  template <typename T>
  JsonWriter& Field(std::string_view k, const T& v) {
    Key(k);
    if constexpr (std::is_same_v<T, bool>)
      return Bool(v);
    else if constexpr (std::is_integral_v<T>)
      return Int(static_cast<int64_t>(v));
    else if constexpr (std::is_enum_v<T>)
      return String(ToString(v));  // domain.h's and config.h's enums: their contract strings
    else
      return String(v);
  }
  const std::string& str() const { return out_; }

 private:
  JsonWriter& Open(char c) {
    Comma();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char c) {
    out_ += c;
    first_.pop_back();
    return *this;
  }
  void Comma() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }
  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

// One version as the API and `gongkai history --json` show it.
inline void WriteVersion(JsonWriter& w, const storage::VersionRow& v) {
  w.BeginObject()
      .Field("version", v.version)
      .Field("sha256", v.sha256)
      .Field("size", v.size)
      .Field("modified", v.modified)
      .Field("archived", v.archived)
      .Field("log_index", v.log_index)
      .Field("review", v.review)
      .EndObject();
}

}  // namespace gongkai::daemon
