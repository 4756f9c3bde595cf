#include "request_view.h"

#include <algorithm>

namespace gongkai::daemon {

using disclosure::FormatDate;
using disclosure::RequestStatus;

void WriteRequest(JsonWriter& w, const ledger::RequestState& r, ledger::Role role,
                  disclosure::Date today) {
  const disclosure::RequestClock& c = r.clock;
  const bool details = ledger::SeesRequestDetails(role);
  w.BeginObject().Field("code", r.row.code).Field("channel", r.row.channel);
  w.Field("received", r.row.received).Field("due", FormatDate(c.due));
  w.Field("provisional", c.provisional).Field("status", disclosure::ToString(c.status));
  w.Field("overdue", c.Overdue(today)).Field("extended", c.extended);
  w.Key("outcome");
  c.outcome.empty() ? w.Null() : w.String(c.outcome);
  w.Key("replied");
  if (c.status == RequestStatus::kClosed && !c.outcome.empty())
    w.String(FormatDate(*c.closed));
  else
    w.Null();
  w.Key("closed");
  c.closed ? w.String(FormatDate(*c.closed)) : w.Null();
  if (details) {
    const ledger::Applicant& a = r.applicant;
    w.Key("applicant").BeginObject().Field("type", a.type).Field("name", a.name);
    w.Field("id_number", a.id_number).Field("contact", a.contact).Field("address", a.address);
    w.EndObject().Field("description", r.description).Field("delivery", r.delivery);
  }
  w.Key("events").BeginArray();
  for (const storage::RequestEventRow& e : r.events) {
    w.BeginObject().Field("event", e.event).Field("date", e.date);
    if (!e.outcome.empty()) w.Field("outcome", e.outcome);
    if (e.days > 0) w.Field("days", e.days);
    if (details) {
      w.Field("note", e.note).Field("approved_by", e.approved_by);
      if (!e.reply_document.empty()) w.Field("reply_document", e.reply_document);
      w.Field("log_index", e.log_index).Field("recorded", e.recorded);
    }
    w.EndObject();
  }
  w.EndArray().EndObject();
}

std::string RequestJson(const ledger::RequestState& r, ledger::Role role, disclosure::Date today) {
  JsonWriter w;
  WriteRequest(w, r, role, today);
  return w.str();
}

std::vector<ledger::RequestState> SelectRequests(std::vector<ledger::RequestState> all,
                                                 const RequestFilter& filter,
                                                 disclosure::Date today) {
  std::erase_if(all, [&](const ledger::RequestState& r) {
    return (!filter.status.empty() && filter.status != disclosure::ToString(r.clock.status)) ||
           (filter.overdue && *filter.overdue != r.clock.Overdue(today)) ||
           (filter.year != 0 && disclosure::YearOf(r.clock.received) != filter.year);
  });
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    const bool a_open = a.clock.status != RequestStatus::kClosed;
    const bool b_open = b.clock.status != RequestStatus::kClosed;
    if (a_open != b_open) return a_open;
    return a.clock.due < b.clock.due;
  });
  return all;
}

bool DueSoon(const disclosure::RequestClock& clock, const disclosure::WorkCalendar& calendar,
             disclosure::Date today) {
  return clock.status == RequestStatus::kOpen && !clock.Overdue(today) &&
         clock.due <= calendar.AddWorkdays(today, kDueSoonWorkdays).date;
}

RequestCounts CountRequests(const std::vector<ledger::RequestState>& requests,
                            const disclosure::WorkCalendar& calendar, disclosure::Date today) {
  RequestCounts n;
  for (const ledger::RequestState& r : requests) {
    switch (r.clock.status) {
      case RequestStatus::kOpen:
        ++n.open;
        break;
      case RequestStatus::kPaused:
        ++n.paused;
        break;
      case RequestStatus::kClosed:
        ++n.closed;
        break;
    }
    if (r.clock.Overdue(today)) ++n.overdue;
    if (DueSoon(r.clock, calendar, today)) ++n.due_soon;
  }
  return n;
}

}  // namespace gongkai::daemon
