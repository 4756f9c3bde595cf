// A disclosure request's statutory clock (CONTRACT.md section 8, 条例第三十条
// to 第三十四条): the events that may happen to a request, which of them may
// follow which, and the deadline they leave. Pure: no storage, no I/O; the
// caller replays a request's events through Apply() in order.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gongkai/disclosure/calendar.h"
#include "gongkai/status.h"

namespace gongkai::disclosure {

enum class RequestEvent {
  kReceived,             // the request arrives: due = received + 20 working days
  kSupplementRequested,  // 补正: the clock stops until...
  kSupplemented,         // ...the applicant supplements: due = that date + 20
  kExtended,             // once, with approval: due + up to 20 working days
  kConsultationStarted,  // third party or other agency: the clock pauses...
  kConsultationEnded,    // ...and due moves by the working days paused
  kReplied,              // closes, with an outcome
  kWithdrawn,            // closes
  kAbandoned,            // closes
};

// "request.received", ...: the names in signed records and the API (without
// the "request." prefix there).
const char* ToString(RequestEvent event);
std::optional<RequestEvent> ParseRequestEvent(std::string_view name);

// The outcomes of a reply: the rows of the annual report's table 三.
const std::vector<std::string>& Outcomes();
bool IsOutcome(std::string_view outcome);

inline constexpr int kAnswerWorkdays = 20;  // 条例第三十三条
inline constexpr int kMaxExtensionWorkdays = 20;

struct EventInput {
  RequestEvent event = RequestEvent::kReceived;
  Date date{};
  std::string outcome;      // replied
  int days = 0;             // extended
  std::string approved_by;  // extended
};

enum class RequestStatus { kOpen, kPaused, kClosed };
const char* ToString(RequestStatus status);

struct RequestClock {
  RequestStatus status = RequestStatus::kOpen;
  Date received{};
  Date due{};
  bool provisional = false;  // a count went through a year without holiday data
  bool extended = false;
  std::optional<RequestEvent> paused_by;  // kSupplementRequested or kConsultationStarted
  Date paused_since{};
  Date last_event{};
  std::string outcome;  // when replied
  std::optional<Date> closed;

  // Open (not paused, not closed) and `today` after the due date.
  bool Overdue(Date today) const { return status == RequestStatus::kOpen && today > due; }
};

// The clock after `in`, or Invalid (saying why, nothing changed) when the
// event cannot follow: the first event must be kReceived and only it; no
// event after one that closed; no date before the previous event's; one
// extension of 1 to 20 days with approved_by; a known outcome on a reply; a
// pause ends only the way it began, and nothing but a close or its end
// happens during it; no extension or pause after the due date (an overdue
// request stays overdue until it is closed).
Result<RequestClock> Apply(const WorkCalendar& calendar, const std::optional<RequestClock>& clock,
                           const EventInput& in);

}  // namespace gongkai::disclosure
