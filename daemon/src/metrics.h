// Request metrics for /metrics (Prometheus text exposition format 0.0.4).
// Thread-safe; recording is a mutex-protected map update per request.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace gongkai::daemon {

class HttpMetrics {
 public:
  void Record(const std::string& route, int status, std::chrono::duration<double> latency);
  // Appends the request counters and latency histograms in text format.
  void Render(std::string& out) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1,    2.5,   10};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};  // cumulative on output only
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

// A label value as the text format quotes it: backslash, quote and line
// feed escaped.
std::string LabelValue(const std::string& value);
// Appends one sample line: name{labels} value.
void MetricLine(std::string& out, const std::string& name, const std::string& labels, double value);
// Appends "# HELP" and "# TYPE" lines.
void MetricHeader(std::string& out, const std::string& name, const std::string& type,
                  const std::string& help);

}  // namespace gongkai::daemon
