#include "connection_limiter.h"

namespace gongkai::daemon {

bool ConnectionLimiter::Admit(const void* id, const std::string& client, Clock::time_point now,
                              std::string* report) {
  std::lock_guard<std::mutex> lock(mutex_);
  report->clear();
  // An id still counted belongs to a socket that was dropped before it was
  // served, whose memory this one reuses: its slot is given back first.
  ReleaseLocked(id);
  int& open = open_[client];
  if (per_client_ > 0 && open >= per_client_) {
    *report = ReportLocked(client, now);
    return false;
  }
  ++open;
  client_of_[id] = client;
  return true;
}

void ConnectionLimiter::Release(const void* id) {
  std::lock_guard<std::mutex> lock(mutex_);
  ReleaseLocked(id);
}

int ConnectionLimiter::open(const std::string& client) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = open_.find(client);
  return it == open_.end() ? 0 : it->second;
}

void ConnectionLimiter::ReleaseLocked(const void* id) {
  auto it = client_of_.find(id);
  if (it == client_of_.end()) return;
  auto open = open_.find(it->second);
  if (open != open_.end() && --open->second <= 0) open_.erase(open);
  client_of_.erase(it);
}

std::string ConnectionLimiter::ReportLocked(const std::string& client, Clock::time_point now) {
  auto it = reported_.find(client);
  if (it != reported_.end() && now - it->second.at < kReportInterval) {
    ++it->second.since;
    return "";
  }
  if (it == reported_.end()) {
    if (reported_.size() >= kMaxReported && now - last_prune_ >= std::chrono::seconds(1)) {
      std::erase_if(reported_, [&](const auto& e) { return now - e.second.at >= kReportInterval; });
      last_prune_ = now;
    }
    if (reported_.size() >= kMaxReported) {
      ++unreported_;
      return "";
    }
    it = reported_.emplace(client, Reported{now}).first;
  }
  std::string line = "HTTP: refused a connection from " + client + ": it holds " +
                     std::to_string(per_client_) +
                     " open connections, the limit ([daemon] max_connections_per_client)";
  if (it->second.since > 0)
    line += "; " + std::to_string(it->second.since) + " more refused since the last message";
  if (unreported_ > 0)
    line += "; " + std::to_string(unreported_) + " refusals of other clients not logged";
  it->second = Reported{now, 0};
  unreported_ = 0;
  return line;
}

}  // namespace gongkai::daemon
