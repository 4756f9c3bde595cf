#include "gongkai/config.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace gongkai {
namespace fs = std::filesystem;

const char* ToString(Review r) { return r == Review::kNone ? "none" : "required"; }
const char* ToString(WatchMode w) {
  switch (w) {
    case WatchMode::kAuto:
      return "auto";
    case WatchMode::kInotify:
      return "inotify";
    case WatchMode::kPoll:
      return "poll";
  }
  return "?";
}

Result<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0 || i > 12)
    return Status::Invalid("expected a duration like 90d, 12h, 30m, 45s or 500ms");
  const long long n = std::stoll(text.substr(0, i));
  const std::string unit = text.substr(i);
  static const std::map<std::string, long long> kMs = {
      {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  auto it = kMs.find(unit);
  if (it == kMs.end())
    return Status::Invalid("unknown duration unit '" + unit + "' (use ms, s, m, h or d)");
  return std::chrono::milliseconds(n * it->second);
}

namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Drops a trailing "; comment" or "# comment" (the marker must follow whitespace,
// so values such as URLs with '#' survive).
std::string StripComment(const std::string& s) {
  for (size_t i = 1; i < s.size(); ++i) {
    if ((s[i] == ';' || s[i] == '#') && std::isspace(static_cast<unsigned char>(s[i - 1])))
      return s.substr(0, i);
  }
  return s;
}

// [daemon] catalog: "sqlite" (the file in data_dir) becomes "", a PostgreSQL
// connection string (a postgresql:// or postgres:// URI, or libpq key=value
// pairs) stays as it is; libpq checks it when the catalog is opened.
Result<std::string> ParseCatalog(const std::string& value) {
  if (value == "sqlite") return std::string();
  if (value.rfind("postgresql://", 0) == 0 || value.rfind("postgres://", 0) == 0 ||
      value.find('=') != std::string::npos)
    return value;
  return Status::Invalid(
      "expected sqlite, a postgresql:// URI or a libpq connection string (key=value ...)");
}

struct Entry {
  std::string value;
  int line;
};
using Section = std::map<std::string, Entry>;

class Parser {
 public:
  Parser(std::string file) : file_(std::move(file)), dir_(fs::path(file_).parent_path()) {}

  Status Error(int line, const std::string& section, const std::string& key,
               const std::string& what) const {
    std::string where = file_ + ":" + std::to_string(line) + ": [" + section + "]";
    if (!key.empty()) where += " " + key;
    return Status::Invalid(where + ": " + what);
  }

  std::string Resolve(const std::string& p) const {
    fs::path path(p);
    if (path.is_relative()) path = dir_ / path;
    return path.lexically_normal().string();
  }

  std::string file_;
  fs::path dir_;
};

bool ValidShareName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (unsigned char c : n)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

}  // namespace

Result<Config> ParseConfig(const std::string& text, const std::string& file) {
  const std::string abs_file = fs::absolute(file).lexically_normal().string();
  Parser p(abs_file);
  std::vector<std::pair<std::string, int>> order;  // sections in file order, with their line
  std::map<std::string, Section> sections;
  std::istringstream in(text);
  std::string raw, current;
  int line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    if (line_no == 1 && raw.rfind("\xEF\xBB\xBF", 0) == 0) raw.erase(0, 3);
    std::string line = Trim(raw);
    if (line.empty() || line[0] == ';' || line[0] == '#') continue;
    if (line[0] == '[') {
      auto close = line.find(']');
      if (close == std::string::npos || !Trim(StripComment(line.substr(close + 1))).empty())
        return Status::Invalid(abs_file + ":" + std::to_string(line_no) +
                               ": malformed section header");
      current = Trim(line.substr(1, close - 1));
      if (sections.count(current))
        return Status::Invalid(abs_file + ":" + std::to_string(line_no) + ": section [" + current +
                               "] appears twice");
      sections[current];
      order.emplace_back(current, line_no);
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos)
      return Status::Invalid(abs_file + ":" + std::to_string(line_no) + ": expected 'key = value'");
    if (current.empty())
      return Status::Invalid(abs_file + ":" + std::to_string(line_no) +
                             ": key outside any section");
    std::string key = Trim(line.substr(0, eq));
    std::string value = Trim(StripComment(line.substr(eq + 1)));
    if (sections[current].count(key)) return p.Error(line_no, current, key, "set twice");
    sections[current][key] = {value, line_no};
  }

  Config cfg;
  cfg.file = abs_file;
  static const std::map<std::string, std::set<std::string>> kKeys = {
      {"daemon",
       {"data_dir", "listen", "settle", "poll_interval", "rescan_interval", "retry_interval",
        "http_threads", "anonymous_search_rate", "queue_capacity", "max_connections_per_client",
        "request_header_timeout", "catalog"}},
      {"auth", {"tokens_file"}},
      {"log", {"origin"}},
      {"share", {"path", "office", "classification", "review", "watch", "update_every"}},
  };
  bool have_daemon = false;
  for (const auto& entry : order) {
    const std::string& name = entry.first;  // a plain reference: lambdas below capture it
    const int header_line = entry.second;
    const Section& sec = sections[name];
    std::string kind = name;
    std::string share_name;
    if (name.rfind("share.", 0) == 0) {
      kind = "share";
      share_name = name.substr(6);
      if (!ValidShareName(share_name))
        return p.Error(header_line, name, "",
                       "share name must be 1-64 letters, digits, '-', '_' or '.'");
    }
    auto known = kKeys.find(kind);
    if (known == kKeys.end()) return p.Error(header_line, name, "", "unknown section");
    for (const auto& [key, e] : sec)
      if (!known->second.count(key)) return p.Error(e.line, name, key, "unknown key");

    auto get = [&](const std::string& key) -> const Entry* {
      auto it = sec.find(key);
      return it == sec.end() ? nullptr : &it->second;
    };
    auto duration = [&](const std::string& key, auto& out) -> Status {
      if (const Entry* e = get(key)) {
        auto d = ParseDuration(e->value);
        if (!d.ok()) return p.Error(e->line, name, key, d.status().message());
        out = std::chrono::duration_cast<std::remove_reference_t<decltype(out)>>(*d);
      }
      return Status::OK();
    };

    if (kind == "daemon") {
      have_daemon = true;
      if (const Entry* e = get("data_dir")) {
        if (e->value.empty()) return p.Error(e->line, name, "data_dir", "must not be empty");
        cfg.data_dir = p.Resolve(e->value);
      }
      if (const Entry* e = get("listen")) {
        auto colon = e->value.rfind(':');
        std::string host = colon == std::string::npos ? "" : e->value.substr(0, colon);
        std::string port = colon == std::string::npos ? "" : e->value.substr(colon + 1);
        if (host.size() > 2 && host.front() == '[' && host.back() == ']')
          host = host.substr(1, host.size() - 2);
        bool digits = !port.empty() && port.size() <= 5 &&
                      port.find_first_not_of("0123456789") == std::string::npos;
        if (host.empty() || !digits || std::stoi(port) > 65535)
          return p.Error(e->line, name, "listen",
                         "expected host:port, e.g. 127.0.0.1:8080, got '" + e->value + "'");
        cfg.listen_host = host;
        cfg.listen_port = static_cast<uint16_t>(std::stoi(port));
      }
      if (Status s = duration("settle", cfg.settle); !s.ok()) return s;
      if (Status s = duration("poll_interval", cfg.poll_interval); !s.ok()) return s;
      if (Status s = duration("rescan_interval", cfg.rescan_interval); !s.ok()) return s;
      if (Status s = duration("retry_interval", cfg.retry_interval); !s.ok()) return s;
      if (const Entry* e = get("http_threads")) {
        const std::string& v = e->value;
        if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(v) < 1 || std::stoi(v) > 256)
          return p.Error(e->line, name, "http_threads", "expected a number from 1 to 256");
        cfg.http_threads = std::stoi(v);
      }
      if (const Entry* e = get("anonymous_search_rate")) {
        const std::string& v = e->value;
        if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos)
          return p.Error(e->line, name, "anonymous_search_rate",
                         "expected requests per second (0 = unlimited)");
        cfg.anonymous_search_rate = std::stod(v);
      }
      if (const Entry* e = get("catalog")) {
        auto postgres = ParseCatalog(e->value);
        if (!postgres.ok()) return p.Error(e->line, name, "catalog", postgres.status().message());
        cfg.catalog_postgres = *postgres;
      }
      if (const Entry* e = get("queue_capacity")) {
        const std::string& v = e->value;
        if (v.empty() || v.size() > 8 || v.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(v) < 1)
          return p.Error(e->line, name, "queue_capacity",
                         "expected a number of files from 1 to 99999999");
        cfg.queue_capacity = std::stoul(v);
      }
      if (const Entry* e = get("max_connections_per_client")) {
        const std::string& v = e->value;
        if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos)
          return p.Error(e->line, name, "max_connections_per_client",
                         "expected a number from 0 (no cap) to 9999");
        cfg.max_connections_per_client = std::stoi(v);
      }
      if (const Entry* e = get("request_header_timeout")) {
        auto d = ParseDuration(e->value);
        if (!d.ok() || *d < std::chrono::milliseconds(100) || *d > std::chrono::seconds(60))
          return p.Error(e->line, name, "request_header_timeout",
                         "expected a duration from 100ms to 60s");
        cfg.request_header_timeout = *d;
      }
    } else if (kind == "auth") {
      if (const Entry* e = get("tokens_file"); e && !e->value.empty())
        cfg.tokens_file = p.Resolve(e->value);
    } else if (kind == "log") {
      if (const Entry* e = get("origin")) {
        // A C2SP note key name: non-empty, no spaces or '+'.
        if (e->value.empty() || e->value.find_first_of(" \t+") != std::string::npos)
          return p.Error(e->line, name, "origin", "must be non-empty without spaces or '+'");
        cfg.origin = e->value;
      }
    } else {
      ShareConfig share;
      share.name = share_name;
      const Entry* path = get("path");
      if (!path || path->value.empty())
        return p.Error(header_line, name, "path", "missing (the folder to watch)");
      share.path = p.Resolve(path->value);
      while (share.path.size() > 1 && share.path.back() == '/') share.path.pop_back();
      share.office = get("office") ? get("office")->value : share_name;
      if (const Entry* e = get("classification")) {
        if (auto c = ParseClassification(e->value))
          share.classification = *c;
        else
          return p.Error(e->line, name, "classification",
                         "expected public or restricted, got '" + e->value + "'");
      }
      if (const Entry* e = get("review")) {
        if (e->value == "none")
          share.review = Review::kNone;
        else if (e->value == "required")
          share.review = Review::kRequired;
        else
          return p.Error(e->line, name, "review",
                         "expected none or required, got '" + e->value + "'");
      }
      if (const Entry* e = get("watch")) {
        if (e->value == "auto")
          share.watch = WatchMode::kAuto;
        else if (e->value == "inotify")
          share.watch = WatchMode::kInotify;
        else if (e->value == "poll")
          share.watch = WatchMode::kPoll;
        else
          return p.Error(e->line, name, "watch",
                         "expected auto, inotify or poll, got '" + e->value + "'");
      }
      if (Status s = duration("update_every", share.update_every); !s.ok()) return s;
      cfg.shares.push_back(std::move(share));
    }
  }
  if (!have_daemon || cfg.data_dir.empty())
    return Status::Invalid(abs_file + ": [daemon] data_dir: missing (where the archive is kept)");
  for (size_t i = 0; i < cfg.shares.size(); ++i) {
    for (size_t j = 0; j < cfg.shares.size(); ++j) {
      if (i == j) continue;
      const std::string& a = cfg.shares[i].path;
      const std::string& b = cfg.shares[j].path;
      if (a == b || (b.size() > a.size() && b.compare(0, a.size(), a) == 0 && b[a.size()] == '/'))
        return Status::Invalid(abs_file + ": [share." + cfg.shares[j].name +
                               "] path: inside share '" + cfg.shares[i].name +
                               "' (shares must not overlap)");
    }
    const std::string& d = cfg.data_dir;
    const std::string& s = cfg.shares[i].path;
    if (d == s || (d.size() > s.size() && d.compare(0, s.size(), s) == 0 && d[s.size()] == '/'))
      return Status::Invalid(abs_file + ": [daemon] data_dir: inside share '" + cfg.shares[i].name +
                             "' (the daemon never writes into a share)");
  }
  return cfg;
}

Result<Config> LoadConfig(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::FromErrno(errno, "cannot read config " + file);
  std::ostringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), file);
}

}  // namespace gongkai
