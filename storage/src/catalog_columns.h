// The catalog's status, classification and review columns hold domain.h's
// strings; both backends convert them here, at the column boundary.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "gongkai/domain.h"

namespace gongkai::storage {

// Thrown by the *Column() readers for a stored value that names no domain
// value; the backends turn it into a Corruption status.
class CorruptColumn : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace internal {
template <typename E>
E Checked(std::optional<E> value, const char* column, const std::string& text) {
  if (!value) throw CorruptColumn(std::string(column) + " '" + text + "' is not a known value");
  return *value;
}
}  // namespace internal

inline DocumentStatus StatusColumn(const std::string& text) {
  return internal::Checked(ParseDocumentStatus(text), "documents.status", text);
}
inline Classification ClassificationColumn(const std::string& text) {
  return internal::Checked(ParseClassification(text), "documents.classification", text);
}
inline ReviewState ReviewColumn(const std::string& text) {
  return internal::Checked(ParseReviewState(text), "versions.review", text);
}

}  // namespace gongkai::storage
