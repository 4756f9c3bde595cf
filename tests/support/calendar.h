// The project's own holiday files (data/calendar) for tests on real dates.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "gongkai/disclosure/calendar.h"

namespace gongkai::test {

inline const std::string kShippedCalendar = std::string(GONGKAI_SOURCE_DIR) + "/data/calendar";

// The calendar loaded from kShippedCalendar, once.
inline const disclosure::WorkCalendar& ShippedCalendar() {
  static const disclosure::WorkCalendar kCalendar = [] {
    auto c = disclosure::WorkCalendar::Load({kShippedCalendar});
    REQUIRE(c.ok());
    return *c;
  }();
  return kCalendar;
}

// "YYYY-MM-DD" as a date; the test fails on anything else.
inline disclosure::Date D(const char* text) {
  auto d = disclosure::ParseDate(text);
  REQUIRE(d.has_value());
  return *d;
}

}  // namespace gongkai::test
