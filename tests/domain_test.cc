#include <catch2/catch.hpp>

#include <string>

#include "gongkai/domain.h"

using namespace gongkai;

namespace {

// Every value's string parses back to it, and the strings are the contract's.
template <typename E, typename Parse>
void CheckRoundTrip(std::initializer_list<std::pair<E, const char*>> values, Parse parse) {
  for (const auto& [value, text] : values) {
    CHECK(std::string(ToString(value)) == text);
    CHECK(parse(text) == value);
  }
}

}  // namespace

TEST_CASE("domain: each value has its contract string and parses back", "[domain]") {
  CheckRoundTrip<Classification>(
      {{Classification::kPublic, "public"}, {Classification::kRestricted, "restricted"}},
      ParseClassification);
  CheckRoundTrip<DocumentStatus>(
      {{DocumentStatus::kActive, "active"}, {DocumentStatus::kWithdrawn, "withdrawn"}},
      ParseDocumentStatus);
  CheckRoundTrip<ReviewState>(
      {{ReviewState::kApproved, "approved"}, {ReviewState::kPending, "pending"}}, ParseReviewState);
  CheckRoundTrip<EventKind>({{EventKind::kVersion, "version"},
                             {EventKind::kMove, "move"},
                             {EventKind::kWithdraw, "withdraw"},
                             {EventKind::kClassify, "classify"},
                             {EventKind::kApprove, "approve"}},
                            ParseEventKind);
}

TEST_CASE("domain: anything but the exact string is no value", "[domain]") {
  for (const char* bad : {"", "Public", "public ", " public", "secret", "all"}) {
    INFO(bad);
    CHECK_FALSE(ParseClassification(bad));
    CHECK_FALSE(ParseDocumentStatus(bad));
    CHECK_FALSE(ParseReviewState(bad));
    CHECK_FALSE(ParseEventKind(bad));
  }
  CHECK_FALSE(ParseClassification(std::string_view("public\0", 7)));
  CHECK_FALSE(ParseDocumentStatus("ACTIVE"));
  CHECK_FALSE(ParseReviewState("approve"));  // an event, not a review state
  CHECK_FALSE(ParseEventKind("approved"));
}
