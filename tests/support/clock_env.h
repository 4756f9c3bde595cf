// An Env over the real file system whose clock the test sets: "today" is a
// chosen day, at noon local time, and records are signed then.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <memory>
#include <string>

#include "gongkai/storage/env.h"

namespace gongkai::test {

class ClockEnv final : public storage::Env {
 public:
  explicit ClockEnv(const char* day) { At(day); }
  // Moves the clock to noon of `day` (YYYY-MM-DD, local time).
  void At(const char* day) {
    std::tm tm{};
    REQUIRE(strptime(day, "%Y-%m-%d", &tm) != nullptr);
    tm.tm_hour = 12;
    tm.tm_isdst = -1;
    now_ = std::chrono::system_clock::from_time_t(mktime(&tm));
  }
  std::chrono::system_clock::time_point Now() override { return now_; }

  Result<std::unique_ptr<storage::WritableFile>> NewWritableFile(const std::string& path,
                                                                 unsigned mode) override {
    return base_->NewWritableFile(path, mode);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_->Rename(from, to);
  }
  Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }
  Status CreateDirs(const std::string& dir, unsigned mode) override {
    return base_->CreateDirs(dir, mode);
  }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }

 private:
  std::chrono::system_clock::time_point now_;
  storage::Env* base_ = storage::Env::Default();
};

}  // namespace gongkai::test
