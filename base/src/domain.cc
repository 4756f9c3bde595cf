#include "gongkai/domain.h"

#include <cctype>

#include <utility>

namespace gongkai {
namespace {

// One table per enum: each value with its contract string.
constexpr std::pair<Classification, const char*> kClassifications[] = {
    {Classification::kPublic, "public"},
    {Classification::kRestricted, "restricted"},
};
constexpr std::pair<DocumentStatus, const char*> kDocumentStatuses[] = {
    {DocumentStatus::kActive, "active"},
    {DocumentStatus::kWithdrawn, "withdrawn"},
};
constexpr std::pair<ReviewState, const char*> kReviewStates[] = {
    {ReviewState::kApproved, "approved"},
    {ReviewState::kPending, "pending"},
};
constexpr std::pair<EventKind, const char*> kEventKinds[] = {
    {EventKind::kVersion, "version"},   {EventKind::kMove, "move"},
    {EventKind::kWithdraw, "withdraw"}, {EventKind::kClassify, "classify"},
    {EventKind::kApprove, "approve"},
};

template <typename E, size_t N>
const char* Name(const std::pair<E, const char*> (&table)[N], E value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return "?";  // only for a value cast from outside the enum's range
}

template <typename E, size_t N>
std::optional<E> Find(const std::pair<E, const char*> (&table)[N], std::string_view text) {
  for (const auto& [v, name] : table)
    if (text == name) return v;
  return std::nullopt;
}

}  // namespace

const char* ToString(Classification c) { return Name(kClassifications, c); }
const char* ToString(DocumentStatus s) { return Name(kDocumentStatuses, s); }
const char* ToString(ReviewState r) { return Name(kReviewStates, r); }
const char* ToString(EventKind e) { return Name(kEventKinds, e); }

std::optional<Classification> ParseClassification(std::string_view text) {
  return Find(kClassifications, text);
}
std::optional<DocumentStatus> ParseDocumentStatus(std::string_view text) {
  return Find(kDocumentStatuses, text);
}
std::optional<ReviewState> ParseReviewState(std::string_view text) {
  return Find(kReviewStates, text);
}
std::optional<EventKind> ParseEventKind(std::string_view text) { return Find(kEventKinds, text); }

bool IsCategory(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return !text.empty();
  return slash > 0 && slash + 1 < text.size() &&
         text.find('/', slash + 1) == std::string_view::npos;
}

bool IsAgencyCode(std::string_view text) {
  if (text.empty() || text.size() > 40) return false;
  for (char c : text)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) return false;
  return true;
}

}  // namespace gongkai
