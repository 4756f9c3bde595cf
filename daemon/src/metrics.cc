#include "metrics.h"

#include <cstdio>

namespace gongkai::daemon {

void MetricHeader(std::string& out, const std::string& name, const std::string& type,
                  const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

std::string LabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

void MetricLine(std::string& out, const std::string& name, const std::string& labels,
                double value) {
  char num[64];
  std::snprintf(num, sizeof num, "%.17g", value);
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += " ";
  out += num;
  out += "\n";
}

void HttpMetrics::Record(const std::string& route, int status,
                         std::chrono::duration<double> latency) {
  const double secs = latency.count();
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (secs <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  ++h.count;
  h.sum += secs;
}

void HttpMetrics::Render(std::string& out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  MetricHeader(out, "gongkai_http_requests_total", "counter",
               "HTTP requests by route and status code.");
  for (const auto& [key, n] : requests_)
    MetricLine(out, "gongkai_http_requests_total",
               "route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"",
               static_cast<double>(n));
  MetricHeader(out, "gongkai_http_request_duration_seconds", "histogram",
               "HTTP request latency by route.");
  for (const auto& [route, h] : latency_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      char le[32];
      std::snprintf(le, sizeof le, "%g", kBuckets[i]);
      MetricLine(out, "gongkai_http_request_duration_seconds_bucket",
                 "route=\"" + route + "\",le=\"" + le + "\"", static_cast<double>(cumulative));
    }
    MetricLine(out, "gongkai_http_request_duration_seconds_bucket",
               "route=\"" + route + "\",le=\"+Inf\"", static_cast<double>(h.count));
    MetricLine(out, "gongkai_http_request_duration_seconds_sum", "route=\"" + route + "\"", h.sum);
    MetricLine(out, "gongkai_http_request_duration_seconds_count", "route=\"" + route + "\"",
               static_cast<double>(h.count));
  }
}

}  // namespace gongkai::daemon
