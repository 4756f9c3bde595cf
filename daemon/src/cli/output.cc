#include "cli/output.h"

#include <unistd.h>

#include <iostream>

#include "json_writer.h"
#include "progress.h"

namespace gongkai::cli {

class JsonOut {
 public:
  void Object(const Record& r) {
    if (!r.whole_.empty()) {
      w_.Raw(r.whole_);
      return;
    }
    w_.BeginObject();
    for (const Record::Field& f : r.fields_) {
      w_.Key(f.key);
      std::visit([this](const auto& v) { Value(v); }, f.value);
    }
    w_.EndObject();
  }
  const std::string& str() const { return w_.str(); }

 private:
  void Value(bool v) { w_.Bool(v); }
  void Value(int64_t v) { w_.Int(v); }
  void Value(const std::string& v) { w_.String(v); }
  void Value(const Record::RawJson& v) { w_.Raw(v.text.empty() ? "{}" : v.text); }
  void Value(const std::vector<Record>& list) {
    w_.BeginArray();
    for (const Record& r : list) Object(r);
    w_.EndArray();
  }
  daemon::JsonWriter w_;
};

Record& Record::Add(std::string key, std::vector<Record> list) {
  fields_.push_back({std::move(key), std::move(list)});
  return *this;
}

Record& Record::AddJson(std::string key, std::string json) {
  fields_.push_back({std::move(key), RawJson{std::move(json)}});
  return *this;
}

Record Record::FromJson(std::string json) {
  Record r;
  r.whole_ = std::move(json);
  return r;
}

std::string Record::Json() const {
  JsonOut out;
  out.Object(*this);
  return out.str();
}

int Print(const Args& args, const Record& record, const std::string& text, int exit_code) {
  if (args.json)
    std::cout << record.Json() << "\n";
  else
    std::cout << text;
  std::cout.flush();
  return exit_code;
}

void Note(const Args& args, const std::string& line) {
  if (!args.json) std::cerr << line << "\n";
}

int Error(const std::string& message, int exit_code) {
  std::cerr << "gongkai: " << message << "\n";
  return exit_code;
}

int Fail(const Status& status) { return Error(status.ToString(), 2); }

int UsageError(const std::string& command, const std::string& message) {
  std::cerr << "gongkai: " << message << "\n" << CommandUsage(command);
  return 2;
}

std::unique_ptr<daemon::ProgressReporter> ProgressFor(const Args& args, const std::string& job,
                                                      const std::string& items) {
  if (args.json) return nullptr;
  return std::make_unique<daemon::ProgressReporter>(std::cerr, job, items,
                                                    daemon::ProgressReporter::For(STDERR_FILENO));
}

}  // namespace gongkai::cli
