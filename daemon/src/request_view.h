// How disclosure requests are shown (CONTRACT.md section 8): one request as
// JSON, for anyone (status and dates only) or for inspectors and admins
// (with the applicant, the description and each event's note), and the
// counts by state that `gongkai status`, /metrics and the daily log report.
// The HTTP API and `gongkai requests --json` write the same JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gongkai/disclosure/calendar.h"
#include "gongkai/ledger/requests.h"
#include "json_writer.h"

namespace gongkai::daemon {

// Open requests due within this many working days are "due soon".
inline constexpr int kDueSoonWorkdays = 3;

// Writes `r` as one JSON object. Nothing personal unless
// ledger::SeesRequestDetails(role). `today` decides "overdue".
void WriteRequest(JsonWriter& w, const ledger::RequestState& r, ledger::Role role,
                  disclosure::Date today);
std::string RequestJson(const ledger::RequestState& r, ledger::Role role, disclosure::Date today);

// Which requests a list shows: "" / nullopt / 0 for any.
struct RequestFilter {
  std::string status;           // open, paused or closed
  std::optional<bool> overdue;  // on `today`
  int year = 0;                 // of receipt
};
// The requests of `all` that pass `filter`, the ones not closed first, each
// group soonest due first: the order an office works them in.
std::vector<ledger::RequestState> SelectRequests(std::vector<ledger::RequestState> all,
                                                 const RequestFilter& filter,
                                                 disclosure::Date today);

// Open (not paused) and due within kDueSoonWorkdays working days, not yet overdue.
bool DueSoon(const disclosure::RequestClock& clock, const disclosure::WorkCalendar& calendar,
             disclosure::Date today);

struct RequestCounts {
  int64_t open = 0, paused = 0, closed = 0;  // by status; every request is one of these
  int64_t overdue = 0, due_soon = 0;         // of the open ones
  bool operator==(const RequestCounts&) const = default;
};
RequestCounts CountRequests(const std::vector<ledger::RequestState>& requests,
                            const disclosure::WorkCalendar& calendar, disclosure::Date today);

}  // namespace gongkai::daemon
