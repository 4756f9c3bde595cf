// A request's statutory clock on real dates (the shipped holiday calendar).
#include <catch2/catch.hpp>

#include "gongkai/disclosure/request.h"
#include "support/calendar.h"

using namespace gongkai::disclosure;
using gongkai::test::D;

namespace {

EventInput Ev(RequestEvent event, const char* date) { return {event, D(date), "", 0, ""}; }

// Replays `events`; REQUIREs each to be accepted.
RequestClock Run(const std::vector<EventInput>& events) {
  std::optional<RequestClock> clock;
  for (const EventInput& e : events) {
    auto next = Apply(gongkai::test::ShippedCalendar(), clock, e);
    INFO(ToString(e.event) << " " << FormatDate(e.date));
    REQUIRE(next.ok());
    clock = *next;
  }
  return *clock;
}

// The refusal of `e` after `events`; the clock must not have moved.
std::string Refusal(const std::vector<EventInput>& events, const EventInput& e) {
  const RequestClock before = Run(events);
  auto next = Apply(gongkai::test::ShippedCalendar(), before, e);
  REQUIRE_FALSE(next.ok());
  CHECK(next.status().code() == gongkai::Status::Code::kInvalid);
  return next.status().message();
}

}  // namespace

TEST_CASE("request clock: 20 working days from receipt, over 中秋 and National Day", "[request]") {
  const RequestClock c = Run({Ev(RequestEvent::kReceived, "2026-09-20")});  // a worked Sunday
  CHECK(c.status == RequestStatus::kOpen);
  CHECK(FormatDate(c.due) == "2026-10-23");
  CHECK_FALSE(c.provisional);
  CHECK_FALSE(c.Overdue(D("2026-10-23")));
  CHECK(c.Overdue(D("2026-10-24")));
}

TEST_CASE("request clock: one extension, approved, of at most 20 working days", "[request]") {
  EventInput extend = Ev(RequestEvent::kExtended, "2026-10-20");
  extend.days = 20;
  extend.approved_by = "鄉長 王某";
  const RequestClock c = Run({Ev(RequestEvent::kReceived, "2026-09-20"), extend});
  CHECK(FormatDate(c.due) == "2026-11-20");
  CHECK(c.extended);
  CHECK(Refusal({Ev(RequestEvent::kReceived, "2026-09-20"), extend}, extend).find("once") !=
        std::string::npos);
  EventInput too_long = extend;
  too_long.days = 21;
  CHECK(Refusal({Ev(RequestEvent::kReceived, "2026-09-20")}, too_long).find("1 to 20") !=
        std::string::npos);
  EventInput unapproved = extend;
  unapproved.approved_by.clear();
  CHECK(Refusal({Ev(RequestEvent::kReceived, "2026-09-20")}, unapproved).find("approved_by") !=
        std::string::npos);
}

TEST_CASE("request clock: 补正 stops the clock – the 20 days begin again when supplemented",
          "[request]") {
  const std::vector<EventInput> asked = {Ev(RequestEvent::kReceived, "2026-03-02"),
                                         Ev(RequestEvent::kSupplementRequested, "2026-03-04")};
  const RequestClock paused = Run(asked);
  CHECK(paused.status == RequestStatus::kPaused);
  CHECK_FALSE(paused.Overdue(D("2027-01-01")));  // nobody is late while the applicant is asked
  auto done = asked;
  done.push_back(Ev(RequestEvent::kSupplemented, "2026-03-10"));
  const RequestClock c = Run(done);
  CHECK(c.status == RequestStatus::kOpen);
  CHECK(FormatDate(c.due) == "2026-04-08");  // past 清明
  // While the applicant is asked, only the supplement or a close may follow.
  CHECK(Refusal(asked, Ev(RequestEvent::kConsultationStarted, "2026-03-05")).find("paused") !=
        std::string::npos);
  CHECK(Refusal({Ev(RequestEvent::kReceived, "2026-03-02")},
                Ev(RequestEvent::kSupplemented, "2026-03-05"))
            .find("without") != std::string::npos);
  // An applicant who never supplements: the request is closed with that outcome.
  EventInput reply = Ev(RequestEvent::kReplied, "2026-04-30");
  reply.outcome = "other.no_supplement";
  auto closed = asked;
  closed.push_back(reply);
  CHECK(Run(closed).status == RequestStatus::kClosed);
}

TEST_CASE("request clock: a consultation pauses it by the working days it took", "[request]") {
  const RequestClock c = Run({Ev(RequestEvent::kReceived, "2026-06-01"),
                              Ev(RequestEvent::kConsultationStarted, "2026-06-05"),
                              Ev(RequestEvent::kConsultationEnded, "2026-06-15")});
  CHECK(FormatDate(c.due) == "2026-07-08");  // 2026-06-30 plus the 6 working days paused
  CHECK(c.status == RequestStatus::kOpen);
}

TEST_CASE("request clock: closing, and what cannot follow", "[request]") {
  EventInput reply = Ev(RequestEvent::kReplied, "2026-09-25");
  reply.outcome = "partial";
  const std::vector<EventInput> replied = {Ev(RequestEvent::kReceived, "2026-09-20"), reply};
  const RequestClock c = Run(replied);
  CHECK(c.status == RequestStatus::kClosed);
  CHECK(c.outcome == "partial");
  CHECK(FormatDate(*c.closed) == "2026-09-25");
  CHECK_FALSE(c.Overdue(D("2027-06-01")));
  CHECK(Refusal(replied, Ev(RequestEvent::kWithdrawn, "2026-09-26")).find("closed") !=
        std::string::npos);
  EventInput unknown = reply;
  unknown.outcome = "refused.because";
  CHECK(Refusal({Ev(RequestEvent::kReceived, "2026-09-20")}, unknown).find("unknown outcome") !=
        std::string::npos);
  CHECK(Refusal({Ev(RequestEvent::kReceived, "2026-09-20")},
                Ev(RequestEvent::kWithdrawn, "2026-09-19"))
            .find("before the previous event") != std::string::npos);
  CHECK(Refusal({Ev(RequestEvent::kReceived, "2026-09-20")},
                Ev(RequestEvent::kReceived, "2026-09-21"))
            .find("received already") != std::string::npos);
  CHECK_FALSE(Apply(gongkai::test::ShippedCalendar(), std::nullopt,
                    Ev(RequestEvent::kWithdrawn, "2026-09-20"))
                  .ok());
  for (const char* closes : {"withdrawn", "abandoned"}) {
    const RequestClock x = Run(
        {Ev(RequestEvent::kReceived, "2026-09-20"), Ev(*ParseRequestEvent(closes), "2026-09-21")});
    CHECK(x.status == RequestStatus::kClosed);
  }
}

TEST_CASE("request clock: a deadline in a year without holiday data is provisional", "[request]") {
  const RequestClock c = Run({Ev(RequestEvent::kReceived, "2026-12-04")});
  CHECK(FormatDate(c.due) == "2027-01-01");
  CHECK(c.provisional);
}

TEST_CASE("request clock: names and outcomes round-trip", "[request]") {
  for (const char* name :
       {"received", "supplement_requested", "supplemented", "extended", "consultation_started",
        "consultation_ended", "replied", "withdrawn", "abandoned"})
    CHECK(std::string(ToString(*ParseRequestEvent(name))) == name);
  CHECK_FALSE(ParseRequestEvent("request.received").has_value());
  CHECK(Outcomes().size() == 21);
  CHECK(IsOutcome("refused.state_secret"));
  CHECK_FALSE(IsOutcome("refused"));
}

TEST_CASE("request clock: no extension or pause once the deadline has passed", "[request]") {
  // Received Friday 25 September 2026 (中秋): due Thursday 29 October.
  const std::vector<EventInput> received = {Ev(RequestEvent::kReceived, "2026-09-25")};
  CHECK(FormatDate(Run(received).due) == "2026-10-29");
  EventInput late = Ev(RequestEvent::kExtended, "2026-10-30");
  late.days = 5;
  late.approved_by = "主任";
  CHECK(Refusal(received, late).find("after the deadline (2026-10-29)") != std::string::npos);
  for (RequestEvent pause :
       {RequestEvent::kConsultationStarted, RequestEvent::kSupplementRequested})
    CHECK(Refusal(received, Ev(pause, "2026-10-30")).find("overdue") != std::string::npos);
  EventInput on_time = late;
  on_time.date = D("2026-10-29");  // the last day is still in time
  CHECK(Run({received[0], on_time}).extended);
  // Closing late is always possible: the reply is owed.
  EventInput reply = Ev(RequestEvent::kReplied, "2026-11-20");
  reply.outcome = "disclosed";
  CHECK(Run({received[0], reply}).status == RequestStatus::kClosed);
}
