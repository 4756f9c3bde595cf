// Talks to the service manager (systemd, Type=notify) through sd_notify(3).
//
// Every method is a no-op when the process was not started with
// $NOTIFY_SOCKET, so the daemon runs the same way in a terminal, under a test
// harness or under systemd. Send failures are ignored: the service manager
// going away must never stop the archive. Used by the main thread only; not
// thread-safe.
#pragma once

#include <chrono>
#include <string>

namespace gongkai::daemon {

class ServiceNotifier {
 public:
  using Clock = std::chrono::steady_clock;

  // Reads $NOTIFY_SOCKET and the watchdog settings ($WATCHDOG_USEC,
  // $WATCHDOG_PID) once; leaves the environment as it is.
  ServiceNotifier();

  // True when a service manager listens.
  bool enabled() const { return enabled_; }

  // READY=1 with a STATUS= line: start-up is complete (and, after Reloading(),
  // the reload is).
  void Ready(const std::string& status);
  // RELOADING=1 (with MONOTONIC_USEC=, which systemd >= 253 wants): a reload
  // has begun; follow it with Ready().
  void Reloading();
  // STOPPING=1: shutdown has begun.
  void Stopping();
  // STATUS=<text>: shown by `systemctl status`. Sent only when it changed.
  void Status(const std::string& text);

  // Sends WATCHDOG=1 when half the watchdog interval has passed since the
  // last ping. Call it from every turn of the main loop.
  void KeepAlive(Clock::time_point now);
  // How long the main loop may wait before its next turn and still ping the
  // watchdog on time: until the next ping is due (at least 1 ms), at most `longest`.
  std::chrono::milliseconds MaxWait(Clock::time_point now, std::chrono::milliseconds longest) const;

 private:
  void Send(const std::string& message);

  bool enabled_ = false;
  std::chrono::microseconds watchdog_{0};  // 0 = no watchdog
  Clock::time_point last_ping_{};
  std::string last_status_;
};

}  // namespace gongkai::daemon
