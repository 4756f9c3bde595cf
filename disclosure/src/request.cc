#include "gongkai/disclosure/request.h"

#include <algorithm>
#include <array>
#include <utility>

namespace gongkai::disclosure {
namespace {

constexpr std::array<std::pair<RequestEvent, const char*>, 9> kEventNames = {{
    {RequestEvent::kReceived, "received"},
    {RequestEvent::kSupplementRequested, "supplement_requested"},
    {RequestEvent::kSupplemented, "supplemented"},
    {RequestEvent::kExtended, "extended"},
    {RequestEvent::kConsultationStarted, "consultation_started"},
    {RequestEvent::kConsultationEnded, "consultation_ended"},
    {RequestEvent::kReplied, "replied"},
    {RequestEvent::kWithdrawn, "withdrawn"},
    {RequestEvent::kAbandoned, "abandoned"},
}};

bool Closes(RequestEvent e) {
  return e == RequestEvent::kReplied || e == RequestEvent::kWithdrawn ||
         e == RequestEvent::kAbandoned;
}

// What ends the pause `began`.
RequestEvent EndOf(RequestEvent began) {
  return began == RequestEvent::kSupplementRequested ? RequestEvent::kSupplemented
                                                     : RequestEvent::kConsultationEnded;
}

// Whether `in` may follow `c`; Invalid naming why not.
Status Check(const RequestClock& c, const EventInput& in) {
  const std::string name = ToString(in.event);
  if (c.status == RequestStatus::kClosed)
    return Status::Invalid("the request is closed: no " + name + " after it");
  if (in.date < c.last_event)
    return Status::Invalid(name + " on " + FormatDate(in.date) + " is before the previous event (" +
                           FormatDate(c.last_event) + ")");
  if (in.event == RequestEvent::kReceived)
    return Status::Invalid("the request was received already");
  if (Closes(in.event)) return Status::OK();
  // 条例第三十三条: an extension is decided within the period; a pause that
  // began after the deadline would hide that it was missed.
  if ((in.event == RequestEvent::kExtended || in.event == RequestEvent::kConsultationStarted ||
       in.event == RequestEvent::kSupplementRequested) &&
      !c.paused_by && in.date > c.due)
    return Status::Invalid(name + " on " + FormatDate(in.date) + " is after the deadline (" +
                           FormatDate(c.due) + "): the request is overdue");
  if (c.paused_by) {
    if (in.event != EndOf(*c.paused_by))
      return Status::Invalid("the clock is paused by " + std::string(ToString(*c.paused_by)) +
                             ": only " + ToString(EndOf(*c.paused_by)) + " or a close may follow");
    return Status::OK();
  }
  switch (in.event) {
    case RequestEvent::kSupplemented:
    case RequestEvent::kConsultationEnded:
      return Status::Invalid(name + " without the pause it would end");
    case RequestEvent::kExtended:
      if (c.extended) return Status::Invalid("the deadline was extended once already");
      if (in.days < 1 || in.days > kMaxExtensionWorkdays)
        return Status::Invalid("an extension is 1 to " + std::to_string(kMaxExtensionWorkdays) +
                               " working days");
      if (in.approved_by.empty())
        return Status::Invalid("an extension needs approved_by (条例第三十三条)");
      return Status::OK();
    default:
      return Status::OK();
  }
}

}  // namespace

const char* ToString(RequestEvent event) {
  for (const auto& [e, name] : kEventNames)
    if (e == event) return name;
  return "?";
}

std::optional<RequestEvent> ParseRequestEvent(std::string_view name) {
  for (const auto& [e, n] : kEventNames)
    if (name == n) return e;
  return std::nullopt;
}

const char* ToString(RequestStatus status) {
  switch (status) {
    case RequestStatus::kOpen:
      return "open";
    case RequestStatus::kPaused:
      return "paused";
    case RequestStatus::kClosed:
      return "closed";
  }
  return "?";
}

const std::vector<std::string>& Outcomes() {
  static const std::vector<std::string> kOutcomes = {
      "disclosed",
      "partial",
      "refused.state_secret",
      "refused.law",
      "refused.safety_stability",
      "refused.third_party",
      "refused.internal_affairs",
      "refused.process_info",
      "refused.enforcement_file",
      "refused.inquiry_matter",
      "unavailable.not_held",
      "unavailable.needs_creation",
      "unavailable.unclear",
      "not_processed.petition",
      "not_processed.repeat",
      "not_processed.publication",
      "not_processed.excessive",
      "not_processed.confirmation",
      "other.no_supplement",
      "other.no_fee",
      "other.other",
  };
  return kOutcomes;
}

bool IsOutcome(std::string_view outcome) {
  const auto& all = Outcomes();
  return std::find(all.begin(), all.end(), outcome) != all.end();
}

Result<RequestClock> Apply(const WorkCalendar& calendar, const std::optional<RequestClock>& clock,
                           const EventInput& in) {
  const auto count = [&](RequestClock& c, Date from, int n) {
    const CountedDate d = calendar.AddWorkdays(from, n);
    c.provisional = c.provisional || d.provisional;
    return d.date;
  };
  if (!clock) {
    if (in.event != RequestEvent::kReceived)
      return Status::Invalid("a request begins with received, not " +
                             std::string(ToString(in.event)));
    RequestClock c;
    c.received = c.last_event = in.date;
    c.due = count(c, in.date, kAnswerWorkdays);
    return c;
  }
  if (Status s = Check(*clock, in); !s.ok()) return s;
  if (in.event == RequestEvent::kReplied && !IsOutcome(in.outcome))
    return Status::Invalid("unknown outcome '" + in.outcome + "'");
  RequestClock c = *clock;
  c.last_event = in.date;
  switch (in.event) {
    case RequestEvent::kSupplementRequested:
    case RequestEvent::kConsultationStarted:
      c.status = RequestStatus::kPaused;
      c.paused_by = in.event;
      c.paused_since = in.date;
      break;
    case RequestEvent::kSupplemented:
      c.due = count(c, in.date, kAnswerWorkdays);  // the 20 days begin again
      c.status = RequestStatus::kOpen;
      c.paused_by.reset();
      break;
    case RequestEvent::kConsultationEnded: {
      bool provisional = false;
      const int paused = calendar.WorkdaysBetween(c.paused_since, in.date, &provisional);
      c.provisional = c.provisional || provisional;
      c.due = count(c, c.due, paused);
      c.status = RequestStatus::kOpen;
      c.paused_by.reset();
      break;
    }
    case RequestEvent::kExtended:
      c.extended = true;
      c.due = count(c, c.due, in.days);
      break;
    case RequestEvent::kReplied:
    case RequestEvent::kWithdrawn:
    case RequestEvent::kAbandoned:
      c.status = RequestStatus::kClosed;
      c.paused_by.reset();
      c.closed = in.date;
      if (in.event == RequestEvent::kReplied) c.outcome = in.outcome;
      break;
    case RequestEvent::kReceived:
      break;  // refused by Check
  }
  return c;
}

}  // namespace gongkai::disclosure
