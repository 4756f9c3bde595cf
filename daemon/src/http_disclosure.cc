// Disclosure on application (CONTRACT.md section 8): the working-day
// calendar, and requests: the online form's submission, the tracking view,
// the inspectors' list and the admins' events. Changes go through RunAdmin,
// like `gongkai requests add|event`; who sees what of a request is
// ledger::SeesRequestDetails.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>

#include "gongkai/disclosure/calendar.h"
#include "gongkai/ledger/requests.h"
#include "http_handlers.h"
#include "request_view.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

namespace {

ApiError BadRequest(const std::string& message) {
  return {HTTPResponse::HTTP_BAD_REQUEST, "bad_request", message};
}

const disclosure::WorkCalendar& CalendarOf(const Call& call) {
  if (!call.ctx.calendar) throw std::runtime_error("no working-day calendar in this service");
  return *call.ctx.calendar;
}

// The body as a JSON object; 400 otherwise.
Poco::JSON::Object::Ptr BodyObject(Call& call) {
  try {
    auto o = Poco::JSON::Parser().parse(ReadBody(call)).extract<Poco::JSON::Object::Ptr>();
    if (o) return o;
  } catch (const ApiError&) {
    throw;
  } catch (const std::exception&) {
  }
  throw BadRequest("the body must be a JSON object");
}

// A string member ("" when absent); 400 when it is something else.
std::string Text(const Poco::JSON::Object& o, const char* key) {
  if (!o.has(key) || o.isNull(key)) return "";
  const Poco::Dynamic::Var v = o.get(key);
  if (!v.isString()) throw BadRequest(std::string(key) + " must be a string");
  return v.extract<std::string>();
}

disclosure::Date DateOf(const Poco::JSON::Object& o, const char* key) {
  const auto date = disclosure::ParseDate(Text(o, key));
  if (!date) throw BadRequest(std::string(key) + " must be a date YYYY-MM-DD");
  return *date;
}

// Anonymous callers may submit a few forms and look up a few codes per
// client address; a guessed code gets the same 404 as any other, and a
// client over its budget the same 429 whether its code exists or not.
// `per_hour` is the limiter's rate, which says when to try again.
void Throttle(Call& call, RateLimiter* limiter, int per_hour, const char* what) {
  if (!call.anonymous() || !limiter || limiter->Allow(call.ClientKey())) return;
  call.resp.set("Retry-After", std::to_string((3600 + per_hour - 1) / std::max(1, per_hour)));
  throw ApiError{HTTPResponse::HTTP_TOO_MANY_REQUESTS, "rate_limited",
                 std::string("too many ") + what + " from this address; try again later"};
}

ledger::NewRequest NewRequestFrom(const Call& call, const Poco::JSON::Object& body) {
  ledger::NewRequest r;
  const auto applicant = body.getObject("applicant");
  if (!applicant) throw BadRequest("applicant must be an object");
  r.applicant.type = Text(*applicant, "type");
  if (r.applicant.type.empty()) r.applicant.type = "person";
  r.applicant.name = Text(*applicant, "name");
  r.applicant.id_number = Text(*applicant, "id_number");
  r.applicant.contact = Text(*applicant, "contact");
  r.applicant.address = Text(*applicant, "address");
  r.description = Text(body, "description");
  r.delivery = Text(body, "delivery");
  const std::string channel = Text(body, "channel");
  const bool other_channel = !channel.empty() && channel != "online";
  if (call.role != ledger::Role::kAdmin && (other_channel || body.has("received")))
    throw ApiError{HTTPResponse::HTTP_FORBIDDEN, "forbidden",
                   "an admin token is required to register a request that came another way"};
  r.channel = channel.empty() ? "online" : channel;
  r.received = body.has("received") ? DateOf(body, "received") : disclosure::LocalToday();
  return r;
}

disclosure::EventInput EventFrom(const Poco::JSON::Object& body) {
  disclosure::EventInput in;
  const std::string name = Text(body, "event");
  const auto event = disclosure::ParseRequestEvent(name);
  if (!event || *event == disclosure::RequestEvent::kReceived)
    throw BadRequest(
        "event must be one of supplement_requested, supplemented, extended, "
        "consultation_started, consultation_ended, replied, withdrawn, abandoned");
  in.event = *event;
  in.date = DateOf(body, "date");
  in.outcome = Text(body, "outcome");
  if (in.event == disclosure::RequestEvent::kReplied && !disclosure::IsOutcome(in.outcome))
    throw BadRequest("outcome '" + in.outcome + "' is not one of the contract's outcomes");
  if (in.event == disclosure::RequestEvent::kExtended && !body.has("days"))
    throw BadRequest("an extension needs days, 1 to " +
                     std::to_string(disclosure::kMaxExtensionWorkdays) + " working days");
  if (body.has("days")) {
    const Poco::Dynamic::Var days = body.get("days");
    if (!days.isInteger() || days.convert<int64_t>() < 1 ||
        days.convert<int64_t>() > disclosure::kMaxExtensionWorkdays)
      throw BadRequest("days must be a whole number of working days from 1 to " +
                       std::to_string(disclosure::kMaxExtensionWorkdays));
    in.days = days.convert<int>();
  }
  in.approved_by = Text(body, "approved_by");
  return in;
}

ledger::RequestState LoadOrThrow(Call& call, const std::string& code) {
  auto catalog = call.BorrowCatalog();
  auto state = ledger::LoadRequest(*catalog.get(), CalendarOf(call), code);
  if (state.status().IsNotFound())
    throw ApiError{HTTPResponse::HTTP_NOT_FOUND, "not_found", "no such request"};
  return OrThrow(std::move(state));
}

}  // namespace

void ServeWorkdays(Call& call) {
  const auto from = disclosure::ParseDate(call.Param("from"));
  int64_t add = 0;
  if (!from || !ParseInt(call.Param("add"), 0, disclosure::kMaxWorkdays, &add))
    throw BadRequest("from must be a date YYYY-MM-DD and add a number of working days from 0 to " +
                     std::to_string(disclosure::kMaxWorkdays));
  SendJson(call.resp, HTTPResponse::HTTP_OK,
           disclosure::WorkdaysJson(CalendarOf(call), *from, static_cast<int>(add)));
}

void ServeNewRequest(Call& call) {
  Throttle(call, call.ctx.request_form_limit, call.ctx.config->forms_per_hour, "requests");
  const auto body = BodyObject(call);
  AdminRequest request;
  request.kind = AdminRequest::Kind::kRegisterRequest;
  request.new_request = NewRequestFrom(call, *body);
  const AdminAnswer done = RunAdminOrThrow(call, request);
  const ledger::RequestState state = LoadOrThrow(call, done.request);
  JsonWriter w;
  w.BeginObject().Field("code", state.row.code).Field("received", state.row.received);
  w.Field("due", disclosure::FormatDate(state.clock.due));
  w.Field("provisional", state.clock.provisional);
  w.Field("status", disclosure::ToString(state.clock.status)).EndObject();
  SendJson(call.resp, HTTPResponse::HTTP_CREATED, w.str());
}

void ServeRequest(Call& call) {
  Throttle(call, call.ctx.tracking_limit, 60 * call.ctx.config->lookups_per_minute, "lookups");
  SendJson(
      call.resp, HTTPResponse::HTTP_OK,
      RequestJson(LoadOrThrow(call, call.path.at("code")), call.role, disclosure::LocalToday()));
}

void ServeRequestList(Call& call) {
  const std::string status = call.Param("status"), overdue = call.Param("overdue");
  int64_t year = 0;
  if (!status.empty() && status != "open" && status != "paused" && status != "closed")
    throw BadRequest("status must be open, paused or closed");
  if (!overdue.empty() && overdue != "true" && overdue != "false")
    throw BadRequest("overdue must be true or false");
  if (!call.Param("year").empty() && !ParseInt(call.Param("year"), 1900, 9999, &year))
    throw BadRequest("year must be a year, e.g. 2026");
  auto catalog = call.BorrowCatalog();
  const disclosure::Date today = disclosure::LocalToday();
  RequestFilter filter{status, std::nullopt, static_cast<int>(year)};
  if (!overdue.empty()) filter.overdue = overdue == "true";
  const auto all = SelectRequests(OrThrow(ledger::LoadRequests(*catalog.get(), CalendarOf(call))),
                                  filter, today);
  JsonWriter w;
  w.BeginObject().Field("total", static_cast<int64_t>(all.size())).Key("results").BeginArray();
  for (const auto& r : all) WriteRequest(w, r, call.role, today);
  w.EndArray().EndObject();
  SendJson(call.resp, HTTPResponse::HTTP_OK, w.str());
}

void ServeRequestEvent(Call& call) {
  const auto body = BodyObject(call);
  AdminRequest request;
  request.kind = AdminRequest::Kind::kRequestEvent;
  request.change.code = call.path.at("code");
  request.change.in = EventFrom(*body);
  request.change.note = Text(*body, "note");
  request.change.reply_document = Text(*body, "reply_document");
  const AdminAnswer done = RunAdminOrThrow(call, request);
  SendJson(call.resp, HTTPResponse::HTTP_OK,
           RequestJson(LoadOrThrow(call, done.request), call.role, disclosure::LocalToday()));
}

}  // namespace gongkai::daemon
