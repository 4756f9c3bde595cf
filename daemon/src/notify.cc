#include "notify.h"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>

namespace gongkai::daemon {

ServiceNotifier::ServiceNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  uint64_t usec = 0;
  // > 0 only when $WATCHDOG_USEC is set and $WATCHDOG_PID (if set) is us.
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
    watchdog_ = std::chrono::microseconds(usec);
}

void ServiceNotifier::Send(const std::string& message) {
  if (enabled_) sd_notify(0, message.c_str());
}

void ServiceNotifier::Ready(const std::string& status) {
  last_status_ = status;
  Send("READY=1\nSTATUS=" + status);
}

void ServiceNotifier::Reloading() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t usec =
      static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  Send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void ServiceNotifier::Stopping() { Send("STOPPING=1"); }

void ServiceNotifier::Status(const std::string& text) {
  if (text == last_status_) return;
  last_status_ = text;
  Send("STATUS=" + text);
}

void ServiceNotifier::KeepAlive(Clock::time_point now) {
  if (!enabled_ || watchdog_.count() == 0) return;
  if (last_ping_ != Clock::time_point{} && now - last_ping_ < watchdog_ / 2) return;
  last_ping_ = now;
  Send("WATCHDOG=1");
}

std::chrono::milliseconds ServiceNotifier::MaxWait(Clock::time_point now,
                                                   std::chrono::milliseconds longest) const {
  if (!enabled_ || watchdog_.count() == 0) return longest;
  const auto due = std::chrono::ceil<std::chrono::milliseconds>(last_ping_ + watchdog_ / 2 - now);
  return std::clamp(due, std::chrono::milliseconds(1), longest);
}

}  // namespace gongkai::daemon
