// Sidecar metadata: NAME.meta.json beside a document NAME (docs/indexing.md, Sidecar metadata).
//
// ParseSidecar() validates the JSON and returns it normalised (fixed key
// order, keywords as an array), which is what is stored with the version and
// covered by its signed record. Unknown keys are dropped with a warning in
// the returned notes; anything malformed is an error for that document only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gongkai/domain.h"
#include "gongkai/status.h"

namespace gongkai::daemon {

struct Sidecar {
  std::string title, doc_number, agency, category, published;
  // The catalogue's (CONTRACT.md section 9): 生成日期, 内容概述, and whether a
  // 规章 or 行政规范性文件 is in force ("effective" | "repealed", with its date).
  std::string created, summary, legal_status, repealed_on;
  std::optional<Classification> classification;  // nullopt: the sidecar says none
  std::vector<std::string> keywords;
  std::string json;  // normalised, "{}" when empty
  std::vector<std::string> notes;
};

constexpr const char* kSidecarSuffix = ".meta.json";
constexpr size_t kSidecarMaxBytes = size_t{64} * 1024;

Result<Sidecar> ParseSidecar(const std::string& text);
// `m` with `category` (a share's default, [share.*] category) when it names
// none itself.
Sidecar WithDefaultCategory(Sidecar m, const std::string& category);
// Reads a stored (normalised) meta JSON back; "{}" or bad JSON give an empty Sidecar.
Sidecar SidecarFromStored(const std::string& json);

}  // namespace gongkai::daemon
