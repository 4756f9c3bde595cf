// Disclosure on application (CONTRACT.md section 8): the working-day calendar.
#include "gongkai/disclosure/calendar.h"
#include "http_handlers.h"

namespace gongkai::daemon {

using Poco::Net::HTTPResponse;

void ServeWorkdays(Call& call) {
  if (!call.ctx.calendar) throw std::runtime_error("no working-day calendar in this service");
  const auto from = disclosure::ParseDate(call.Param("from"));
  int64_t add = 0;
  if (!from || !ParseInt(call.Param("add"), 0, disclosure::kMaxWorkdays, &add))
    throw ApiError{HTTPResponse::HTTP_BAD_REQUEST, "bad_request",
                   "from must be a date YYYY-MM-DD and add a number of working days from 0 to " +
                       std::to_string(disclosure::kMaxWorkdays)};
  SendJson(call.resp, HTTPResponse::HTTP_OK,
           disclosure::WorkdaysJson(*call.ctx.calendar, *from, static_cast<int>(add)));
}

}  // namespace gongkai::daemon
