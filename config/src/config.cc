#include "gongkai/config.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

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

std::string OfficeOf(const Config& config, const std::string& share) {
  for (const ShareConfig& s : config.shares)
    if (s.name == share) return s.office;
  return share;
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
  // At most 100 years, so that adding any configured duration to a date
  // cannot overflow.
  constexpr long long kMaxMs = 36'500LL * 86'400'000;
  if (n > kMaxMs / it->second)
    return Status::Invalid("duration '" + text + "' is longer than 100 years (36500d)");
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

// One [section] of the file as written: its keys in a map, for lookups.
struct RawSection {
  std::string name;
  int line = 0;  // of the header
  std::map<std::string, Entry> keys;
};

// Splits INI text into sections in file order. Errors name file and line.
Result<std::vector<RawSection>> ReadSections(const std::string& text, const std::string& file) {
  std::vector<RawSection> sections;
  std::istringstream in(text);
  std::string raw;
  int line_no = 0;
  const auto error = [&](const std::string& what) {
    return Status::Invalid(file + ":" + std::to_string(line_no) + ": " + what);
  };
  while (std::getline(in, raw)) {
    ++line_no;
    if (line_no == 1 && raw.rfind("\xEF\xBB\xBF", 0) == 0) raw.erase(0, 3);
    const std::string line = Trim(raw);
    if (line.empty() || line[0] == ';' || line[0] == '#') continue;
    if (line[0] == '[') {
      auto close = line.find(']');
      if (close == std::string::npos || !Trim(StripComment(line.substr(close + 1))).empty())
        return error("malformed section header");
      std::string name = Trim(line.substr(1, close - 1));
      for (const RawSection& s : sections)
        if (s.name == name) return error("section [" + name + "] appears twice");
      sections.push_back({std::move(name), line_no, {}});
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos) return error("expected 'key = value'");
    if (sections.empty()) return error("key outside any section");
    const std::string key = Trim(line.substr(0, eq));
    if (sections.back().keys.count(key))
      return Status::Invalid(file + ":" + std::to_string(line_no) + ": [" + sections.back().name +
                             "] " + key + ": set twice");
    sections.back().keys[key] = {Trim(StripComment(line.substr(eq + 1))), line_no};
  }
  return sections;
}

// Reads the values of one section, each checked, into a typed field; every
// error names file, line, section and key. A key that is absent leaves the
// field as it is (its default).
class SectionReader {
 public:
  SectionReader(const RawSection& section, const std::string& file)
      : section_(section), file_(file), dir_(fs::path(file).parent_path()) {}

  Status Error(int line, const std::string& key, const std::string& what) const {
    std::string where = file_ + ":" + std::to_string(line) + ": [" + section_.name + "]";
    if (!key.empty()) where += " " + key;
    return Status::Invalid(where + ": " + what);
  }
  Status Error(const std::string& key, const std::string& what) const {
    const Entry* e = Get(key);
    return Error(e ? e->line : section_.line, key, what);
  }

  const Entry* Get(const std::string& key) const {
    auto it = section_.keys.find(key);
    return it == section_.keys.end() ? nullptr : &it->second;
  }

  // Fails on the first key not in `known`.
  Status OnlyKeys(const std::set<std::string>& known) const {
    for (const auto& [key, e] : section_.keys)
      if (!known.count(key)) return Error(e.line, key, "unknown key");
    return Status::OK();
  }

  // Text shown to the public: any characters but control characters.
  Status Text(const std::string& key, std::string* out) const {
    if (const Entry* e = Get(key)) {
      for (unsigned char c : e->value)
        if (c < 0x20 || c == 0x7f) return Error(e->line, key, "control characters are not allowed");
      *out = e->value;
    }
    return Status::OK();
  }

  // A path, relative to the configuration file's folder.
  void Path(const std::string& key, std::string* out) const {
    if (const Entry* e = Get(key); e && !e->value.empty()) {
      fs::path path(e->value);
      if (path.is_relative()) path = dir_ / path;
      *out = path.lexically_normal().string();
    }
  }

  template <typename Duration>
  Status Time(const std::string& key, Duration* out) const {
    if (const Entry* e = Get(key)) {
      auto d = ParseDuration(e->value);
      if (!d.ok()) return Error(e->line, key, d.status().message());
      *out = std::chrono::duration_cast<Duration>(*d);
    }
    return Status::OK();
  }

  // Decimal digits only, within [lo, hi]; `expected` says what is allowed.
  template <typename Int>
  Status Number(const std::string& key, int64_t lo, int64_t hi, const std::string& expected,
                Int* out) const {
    if (const Entry* e = Get(key)) {
      const std::string& v = e->value;
      if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos ||
          std::stoll(v) < lo || std::stoll(v) > hi)
        return Error(e->line, key, expected);
      *out = static_cast<Int>(std::stoll(v));
    }
    return Status::OK();
  }

  // One of the names in `choices`.
  template <typename Enum>
  Status Choice(const std::string& key, std::initializer_list<std::pair<const char*, Enum>> choices,
                Enum* out) const {
    const Entry* e = Get(key);
    if (!e) return Status::OK();
    std::string names;
    for (const auto& [name, value] : choices) {
      if (e->value == name) {
        *out = value;
        return Status::OK();
      }
      names += names.empty() ? "" : " or ";
      names += name;
    }
    return Error(e->line, key, "expected " + names + ", got '" + e->value + "'");
  }

 private:
  const RawSection& section_;
  const std::string& file_;
  const fs::path dir_;
};

// A Status-returning expression's failure returns it.
#define GONGKAI_CHECK(expr)             \
  do {                                  \
    if (Status s_ = (expr); !s_.ok()) { \
      return s_;                        \
    }                                   \
  } while (false)

// "host:port" or "[v6]:port".
// `key` = HOST:PORT (an IPv6 address in brackets), when present.
Status ReadHostPort(const SectionReader& r, const std::string& key, std::string* out_host,
                    uint16_t* out_port) {
  const Entry* e = r.Get(key);
  if (!e) return Status::OK();
  auto colon = e->value.rfind(':');
  std::string host = colon == std::string::npos ? "" : e->value.substr(0, colon);
  std::string port = colon == std::string::npos ? "" : e->value.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  bool digits = !port.empty() && port.size() <= 5 &&
                port.find_first_not_of("0123456789") == std::string::npos;
  if (host.empty() || !digits || std::stoi(port) > 65535)
    return r.Error(e->line, key, "expected host:port, e.g. 127.0.0.1:8080, got '" + e->value + "'");
  *out_host = host;
  *out_port = static_cast<uint16_t>(std::stoi(port));
  return Status::OK();
}

Status ReadListen(const SectionReader& r, std::string* listen_host, uint16_t* listen_port) {
  return ReadHostPort(r, "listen", listen_host, listen_port);
}

Status ReadDaemon(const SectionReader& r, Config* cfg) {
  GONGKAI_CHECK(
      r.OnlyKeys({"data_dir", "listen", "settle", "poll_interval", "rescan_interval",
                  "retry_interval", "http_threads", "anonymous_search_rate", "queue_capacity",
                  "max_connections_per_client", "request_header_timeout", "catalog"}));
  if (const Entry* e = r.Get("data_dir"); e && e->value.empty())
    return r.Error(e->line, "data_dir", "must not be empty");
  r.Path("data_dir", &cfg->data_dir);
  GONGKAI_CHECK(ReadListen(r, &cfg->listen_host, &cfg->listen_port));
  GONGKAI_CHECK(r.Time("settle", &cfg->settle));
  GONGKAI_CHECK(r.Time("poll_interval", &cfg->poll_interval));
  GONGKAI_CHECK(r.Time("rescan_interval", &cfg->rescan_interval));
  GONGKAI_CHECK(r.Time("retry_interval", &cfg->retry_interval));
  GONGKAI_CHECK(
      r.Number("http_threads", 1, 256, "expected a number from 1 to 256", &cfg->http_threads));
  GONGKAI_CHECK(r.Number("anonymous_search_rate", 0, 999'999,
                         "expected requests per second (0 = unlimited)",
                         &cfg->anonymous_search_rate));
  GONGKAI_CHECK(r.Number("queue_capacity", 1, 99'999'999,
                         "expected a number of files from 1 to 99999999", &cfg->queue_capacity));
  GONGKAI_CHECK(r.Number("max_connections_per_client", 0, 9999,
                         "expected a number from 0 (no cap) to 9999",
                         &cfg->max_connections_per_client));
  if (const Entry* e = r.Get("request_header_timeout")) {
    auto d = ParseDuration(e->value);
    if (!d.ok() || *d < std::chrono::milliseconds(100) || *d > std::chrono::seconds(60))
      return r.Error(e->line, "request_header_timeout", "expected a duration from 100ms to 60s");
    cfg->request_header_timeout = *d;
  }
  if (const Entry* e = r.Get("catalog")) {
    auto postgres = ParseCatalog(e->value);
    if (!postgres.ok()) return r.Error(e->line, "catalog", postgres.status().message());
    cfg->catalog_postgres = *postgres;
  }
  return Status::OK();
}

// [index] shards: "auto" (0) or 1 to 64; concurrent_searches: "auto" (0) or
// 1 to 1024.
Status ReadIndex(const SectionReader& r, Config* cfg) {
  GONGKAI_CHECK(r.OnlyKeys({"shards", "concurrent_searches"}));
  const auto auto_or = [&](const char* key, int64_t max, size_t* out) {
    if (const Entry* e = r.Get(key); e && e->value == "auto") {
      *out = 0;
      return Status::OK();
    }
    return r.Number(key, 1, max, "expected auto or a number from 1 to " + std::to_string(max), out);
  };
  GONGKAI_CHECK(auto_or("shards", 64, &cfg->index_shards));
  return auto_or("concurrent_searches", 1024, &cfg->concurrent_searches);
}

Status ReadAuth(const SectionReader& r, Config* cfg) {
  GONGKAI_CHECK(r.OnlyKeys({"tokens_file"}));
  r.Path("tokens_file", &cfg->tokens_file);
  return Status::OK();
}

// A C2SP note key name: non-empty, no spaces or '+'.
Status KeyName(const SectionReader& r, const std::string& key, std::string* out) {
  if (const Entry* e = r.Get(key)) {
    if (e->value.empty() || e->value.find_first_of(" \t+") != std::string::npos)
      return r.Error(e->line, key, "must be non-empty without spaces or '+'");
    *out = e->value;
  }
  return Status::OK();
}

// An http:// or https:// URL with a host, without a query or fragment; a
// trailing '/' is dropped.
bool HttpUrl(std::string* url) {
  const size_t scheme = url->rfind("https://", 0) == 0 ? 8 : url->rfind("http://", 0) == 0 ? 7 : 0;
  if (scheme == 0 || url->size() == scheme || (*url)[scheme] == '/' ||
      url->find_first_of("?# \t", scheme) != std::string::npos)
    return false;
  while (url->size() > scheme + 1 && url->back() == '/') url->pop_back();
  return true;
}

// ca_file: a readable file of PEM certificates, trusted for https:// peers.
Status ReadCaFile(const SectionReader& r, std::string* out) {
  r.Path("ca_file", out);
  if (!out->empty() && !std::ifstream(*out))
    return r.Error(r.Get("ca_file")->line, "ca_file",
                   "cannot read '" + *out + "' (a file of PEM certificates)");
  return Status::OK();
}

Status ReadLog(const SectionReader& r, Config* cfg) {
  GONGKAI_CHECK(r.OnlyKeys({"origin", "witnesses", "witness_keys", "ca_file"}));
  GONGKAI_CHECK(KeyName(r, "origin", &cfg->origin));
  if (const Entry* e = r.Get("witnesses")) {
    std::istringstream words(e->value);
    for (std::string url; words >> url;) {
      if (!HttpUrl(&url))
        return r.Error(e->line, "witnesses",
                       "expected space-separated http:// or https:// URL prefixes, e.g. "
                       "https://hub.county.example/witness, got '" +
                           url + "'");
      cfg->witnesses.push_back(url);
    }
  }
  GONGKAI_CHECK(ReadCaFile(r, &cfg->ca_file));
  if (const Entry* e = r.Get("witness_keys")) {
    std::istringstream words(e->value);
    for (std::string key; words >> key;) {
      // <name>+<8 hex>+<base64>; gongkaid checks the key itself when it starts.
      if (std::count(key.begin(), key.end(), '+') < 2 || key[0] == '+')
        return r.Error(e->line, "witness_keys",
                       "expected the witnesses' keys as gongkai-hub's /api/v1/status shows them "
                       "(<name>+<key hash>+<key>), got '" +
                           key + "'");
      cfg->witness_keys.push_back(key);
    }
  }
  return Status::OK();
}

// The guide's contacts (DisclosureContacts) from [disclosure].
Status ReadContacts(const SectionReader& r, DisclosureContacts* c) {
  const std::pair<const char*, std::string*> fields[] = {
      {"address", &c->address}, {"postcode", &c->postcode}, {"phone", &c->phone},
      {"fax", &c->fax},         {"email", &c->email},       {"office_hours", &c->office_hours},
      {"website", &c->website}};
  for (const auto& [key, out] : fields) GONGKAI_CHECK(r.Text(key, out));
  if (!c->website.empty() && !c->website.starts_with("http://") &&
      !c->website.starts_with("https://"))
    return r.Error("website", "expected an http:// or https:// address");
  return Status::OK();
}

Status ReadDisclosure(const SectionReader& r, Config* cfg) {
  GONGKAI_CHECK(
      r.OnlyKeys({"agency", "agency_code", "calendar", "forms_per_hour", "lookups_per_minute",
                  "address", "postcode", "phone", "fax", "email", "office_hours", "website"}));
  if (const Entry* e = r.Get("agency")) cfg->agency = e->value;
  if (const Entry* e = r.Get("agency_code")) cfg->agency_code = e->value;
  r.Path("calendar", &cfg->calendar_dir);
  GONGKAI_CHECK(r.Number("forms_per_hour", 0, 999'999, "expected forms per hour (0 = unlimited)",
                         &cfg->forms_per_hour));
  GONGKAI_CHECK(r.Number("lookups_per_minute", 0, 999'999,
                         "expected lookups per minute (0 = unlimited)", &cfg->lookups_per_minute));

  if (!cfg->agency_code.empty() && !IsAgencyCode(cfg->agency_code))
    return r.Error("agency_code",
                   "expected the agency's code (its 统一社会信用代码: letters and digits), got '" +
                       cfg->agency_code + "'");
  return ReadContacts(r, &cfg->contacts);
}

Status ReadShare(const SectionReader& r, const std::string& name, ShareConfig* share) {
  GONGKAI_CHECK(r.OnlyKeys(
      {"path", "office", "classification", "review", "watch", "update_every", "category"}));
  share->name = name;
  r.Path("path", &share->path);
  if (share->path.empty()) return r.Error("path", "missing (the folder to watch)");
  while (share->path.size() > 1 && share->path.back() == '/') share->path.pop_back();
  share->office = r.Get("office") ? r.Get("office")->value : name;
  if (const Entry* e = r.Get("category")) {
    if (!IsCategory(e->value))
      return r.Error(
          e->line, "category",
          "expected a category, 一级 or 一级/二级 (法定主动公开内容/行政规范性文件), got '" +
              e->value + "'");
    share->category = e->value;
  }
  if (const Entry* e = r.Get("classification")) {
    auto c = ParseClassification(e->value);
    if (!c)
      return r.Error(e->line, "classification",
                     "expected public or restricted, got '" + e->value + "'");
    share->classification = *c;
  }
  GONGKAI_CHECK(r.Choice("review", {{"none", Review::kNone}, {"required", Review::kRequired}},
                         &share->review));
  GONGKAI_CHECK(r.Choice(
      "watch",
      {{"auto", WatchMode::kAuto}, {"inotify", WatchMode::kInotify}, {"poll", WatchMode::kPoll}},
      &share->watch));
  // "20wd": working days, as 条例第二十六条 counts (20 working days).
  if (const Entry* e = r.Get("update_every");
      e && e->value.size() > 2 && e->value.ends_with("wd")) {
    const std::string n = e->value.substr(0, e->value.size() - 2);
    if (n.size() > 3 || n.find_first_not_of("0123456789") != std::string::npos || std::stoi(n) < 1)
      return r.Error(
          e->line, "update_every",
          "expected a duration (90d) or working days from 1wd to 999wd, got '" + e->value + "'");
    share->update_every_workdays = std::stoi(n);
    return Status::OK();
  }
  return r.Time("update_every", &share->update_every);
}

// Whether `inner` is `outer` or a folder below it.
bool Within(const std::string& inner, const std::string& outer) {
  return inner == outer ||
         (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
          inner[outer.size()] == '/');
}

// Shares must not overlap, and the data folder lies in none of them.
Status CheckFolders(const Config& cfg) {
  for (size_t i = 0; i < cfg.shares.size(); ++i) {
    for (size_t j = 0; j < cfg.shares.size(); ++j) {
      if (i != j && Within(cfg.shares[j].path, cfg.shares[i].path))
        return Status::Invalid(cfg.file + ": [share." + cfg.shares[j].name +
                               "] path: inside share '" + cfg.shares[i].name +
                               "' (shares must not overlap)");
    }
    if (Within(cfg.data_dir, cfg.shares[i].path))
      return Status::Invalid(cfg.file + ": [daemon] data_dir: inside share '" + cfg.shares[i].name +
                             "' (the daemon never writes into a share)");
  }
  return Status::OK();
}

bool ValidShareName(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (unsigned char c : n)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

}  // namespace

Result<Config> ParseConfig(const std::string& text, const std::string& file) {
  Config cfg;
  cfg.file = fs::absolute(file).lexically_normal().string();
  auto sections = ReadSections(text, cfg.file);
  if (!sections.ok()) return sections.status();
  bool have_daemon = false;
  for (const RawSection& section : *sections) {
    const SectionReader r(section, cfg.file);
    if (section.name == "daemon") {
      have_daemon = true;
      GONGKAI_CHECK(ReadDaemon(r, &cfg));
    } else if (section.name == "auth") {
      GONGKAI_CHECK(ReadAuth(r, &cfg));
    } else if (section.name == "index") {
      GONGKAI_CHECK(ReadIndex(r, &cfg));
    } else if (section.name == "log") {
      GONGKAI_CHECK(ReadLog(r, &cfg));
    } else if (section.name == "disclosure") {
      GONGKAI_CHECK(ReadDisclosure(r, &cfg));
    } else if (section.name.rfind("share.", 0) == 0) {
      const std::string name = section.name.substr(6);
      if (!ValidShareName(name))
        return r.Error(section.line, "",
                       "share name must be 1-64 letters, digits, '-', '_' or '.'");
      GONGKAI_CHECK(ReadShare(r, name, &cfg.shares.emplace_back()));
    } else {
      return r.Error(section.line, "", "unknown section");
    }
  }
  if (!have_daemon || cfg.data_dir.empty())
    return Status::Invalid(cfg.file + ": [daemon] data_dir: missing (where the archive is kept)");
  GONGKAI_CHECK(CheckFolders(cfg));
  return cfg;
}

namespace {

Status ReadHub(const SectionReader& r, HubConfig* cfg) {
  GONGKAI_CHECK(
      r.OnlyKeys({"data_dir", "listen", "postgres", "name", "http_threads", "sync_interval",
                  "sync_timeout", "sync_workers", "shards", "tokens", "ca_file"}));
  r.Path("tokens", &cfg->tokens_file);
  GONGKAI_CHECK(ReadCaFile(r, &cfg->ca_file));
  for (auto [key, out, lo, range] : {std::tuple{"sync_interval", &cfg->sync_interval,
                                                std::chrono::milliseconds(100), "100ms to 1d"},
                                     std::tuple{"sync_timeout", &cfg->sync_timeout,
                                                std::chrono::milliseconds(1000), "1s to 1d"}})
    if (const Entry* e = r.Get(key)) {
      auto d = ParseDuration(e->value);
      if (!d.ok() || *d < lo || *d > std::chrono::hours(24))
        return r.Error(e->line, key, std::string("expected a duration from ") + range);
      *out = *d;
    }
  r.Path("data_dir", &cfg->data_dir);
  GONGKAI_CHECK(ReadListen(r, &cfg->listen_host, &cfg->listen_port));
  if (const Entry* e = r.Get("postgres")) {
    auto postgres = ParseCatalog(e->value);
    if (!postgres.ok() || postgres->empty())
      return r.Error(e->line, "postgres",
                     "expected a libpq connection string (postgresql://... or key=value)");
    cfg->postgres = *postgres;
  }
  GONGKAI_CHECK(KeyName(r, "name", &cfg->witness_name));
  GONGKAI_CHECK(r.Number("sync_workers", 0, 64, "expected a number from 0 (one per core) to 64",
                         &cfg->sync_workers));
  GONGKAI_CHECK(r.Number("shards", 1, 256, "expected a number from 1 to 256", &cfg->mirror_shards));
  return r.Number("http_threads", 1, 256, "expected a number from 1 to 256", &cfg->http_threads);
}

Status ReadHubNode(const SectionReader& r, HubNodeConfig* node) {
  GONGKAI_CHECK(r.OnlyKeys({"url", "note_key", "token_file"}));
  const Entry* url = r.Get("url");
  if (!url)
    return r.Error("url", "missing (the node's base URL, e.g. http://township.example:8080)");
  node->url = url->value;
  if (!HttpUrl(&node->url))
    return r.Error(url->line, "url",
                   "expected an http:// or https:// URL, got '" + url->value + "'");
  const Entry* key = r.Get("note_key");
  // <name>+<8 hex>+<base64>; the hub checks the key itself when it starts.
  if (!key || std::count(key->value.begin(), key->value.end(), '+') < 2 || key->value[0] == '+')
    return r.Error(
        "note_key",
        "expected the node's log key as /api/v1/log/keys shows it: <origin>+<key hash>+<key>");
  node->note_key = key->value;
  r.Path("token_file", &node->token_file);
  return Status::OK();
}

Status ReadHubMachine(const SectionReader& r, HubMachineConfig* m) {
  GONGKAI_CHECK(r.OnlyKeys({"shards", "replica", "url", "connect_timeout", "timeout"}));
  if (!r.Get("shards"))
    return r.Error("shards", "missing (the machine's xapian-tcpsrv, HOST:PORT)");
  GONGKAI_CHECK(ReadHostPort(r, "shards", &m->shards_host, &m->shards_port));
  GONGKAI_CHECK(ReadHostPort(r, "replica", &m->replica_host, &m->replica_port));
  const Entry* url = r.Get("url");
  if (!url) return r.Error("url", "missing (the machine's gongkai-hub, e.g. http://10.0.0.2:8091)");
  m->url = url->value;
  if (!HttpUrl(&m->url))
    return r.Error(url->line, "url",
                   "expected an http:// or https:// URL, got '" + url->value + "'");
  for (auto [key, out] :
       {std::pair{"connect_timeout", &m->connect_timeout}, std::pair{"timeout", &m->timeout}})
    if (const Entry* e = r.Get(key)) {
      auto d = ParseDuration(e->value);
      if (!d.ok() || *d < std::chrono::milliseconds(100) || *d > std::chrono::minutes(10))
        return r.Error(e->line, key, "expected a duration from 100ms to 10m");
      *out = *d;
    }
  return Status::OK();
}

}  // namespace

#undef GONGKAI_CHECK

Result<HubConfig> ParseHubConfig(const std::string& text, const std::string& file) {
  HubConfig cfg;
  cfg.file = fs::absolute(file).lexically_normal().string();
  auto sections = ReadSections(text, cfg.file);
  if (!sections.ok()) return sections.status();
  for (const RawSection& section : *sections) {
    const SectionReader r(section, cfg.file);
    if (section.name == "hub") {
      if (Status s = ReadHub(r, &cfg); !s.ok()) return s;
    } else if (section.name.rfind("node.", 0) == 0) {
      HubNodeConfig& node = cfg.nodes.emplace_back();
      node.name = section.name.substr(5);
      if (!ValidShareName(node.name))
        return r.Error(section.line, "", "node name must be 1-64 letters, digits, '-', '_' or '.'");
      if (Status s = ReadHubNode(r, &node); !s.ok()) return s;
    } else if (section.name.rfind("machine.", 0) == 0) {
      HubMachineConfig& machine = cfg.machines.emplace_back();
      machine.name = section.name.substr(8);
      if (!ValidShareName(machine.name))
        return r.Error(section.line, "",
                       "machine name must be 1-64 letters, digits, '-', '_' or '.'");
      if (Status s = ReadHubMachine(r, &machine); !s.ok()) return s;
    } else {
      return r.Error(section.line, "", "unknown section");
    }
  }
  if (cfg.data_dir.empty())
    return Status::Invalid(
        cfg.file + ": [hub] data_dir: missing (where the witness key and mirrors are kept)");
  if (cfg.postgres.empty())
    return Status::Invalid(cfg.file +
                           ": [hub] postgres: missing (the hub's catalog is PostgreSQL)");
  return cfg;
}

namespace {
Result<std::string> ReadConfigFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::FromErrno(errno, "cannot read config " + file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}
}  // namespace

Result<Config> LoadConfig(const std::string& file) {
  auto text = ReadConfigFile(file);
  if (!text.ok()) return text.status();
  return ParseConfig(*text, file);
}

Result<HubConfig> LoadHubConfig(const std::string& file) {
  auto text = ReadConfigFile(file);
  if (!text.ok()) return text.status();
  return ParseHubConfig(*text, file);
}

}  // namespace gongkai
