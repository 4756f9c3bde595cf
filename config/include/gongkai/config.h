// The daemon's configuration (docs/man/gongkaid.conf.5), parsed and validated.
//
// LoadConfig() reads an INI file into plain structs. Every problem is reported
// as one line naming the file, line, section and key; unknown sections and
// keys are errors, as the contract requires. Relative paths are resolved
// against the config file's folder.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "gongkai/domain.h"
#include "gongkai/status.h"

namespace gongkai {

enum class Review { kNone, kRequired };
enum class WatchMode { kAuto, kInotify, kPoll };

const char* ToString(Review r);
const char* ToString(WatchMode w);

struct ShareConfig {
  std::string name;  // from the section name [share.NAME]
  std::string path;  // absolute
  std::string office;
  Classification classification = Classification::kPublic;
  Review review = Review::kNone;
  WatchMode watch = WatchMode::kAuto;
  std::chrono::seconds update_every{0};  // 0 = not tracked by the freshness report
  // update_every = 20wd: in working days instead (China's calendar); 0 = not so.
  int update_every_workdays = 0;
  // The catalogue category of what is dropped here when its sidecar names
  // none (一级 or 一级/二级, CONTRACT.md section 9); "" = none.
  std::string category;

  bool operator==(const ShareConfig&) const = default;
};

// [disclosure] contacts shown in the 政府信息公开指南 (/guide, 条例第十二条),
// each optional ("" = not shown). None holds a control character; `website`
// is empty or an http:// or https:// URL.
struct DisclosureContacts {
  std::string address, postcode, phone, fax, email, office_hours, website;

  bool operator==(const DisclosureContacts&) const = default;
};

struct Config;
// The display name of share `share`'s office; `share` itself when no share
// of that name is configured.
std::string OfficeOf(const Config& config, const std::string& share);

struct Config {
  std::string file;      // absolute path of the config file itself
  std::string data_dir;  // absolute
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::string tokens_file;  // absolute, or empty: no tokens, only anonymous access
  std::string origin = "gongkai.localhost";
  // [log] witnesses: C2SP tlog-witness URL prefixes (http:// or https://,
  // without the trailing "/add-checkpoint") each new checkpoint is pushed to.
  std::vector<std::string> witnesses;
  // [log] witness_keys: the witnesses' verifier keys (cosignature/v1, type
  // 0x04). When set, only cosignatures by these keys are kept and served.
  std::vector<std::string> witness_keys;
  // [log] ca_file: the PEM certificates trusted for https:// witnesses; ""
  // = the system's CAs.
  std::string ca_file;
  // [daemon] catalog: "" for the SQLite file in data_dir (`catalog = sqlite`,
  // the default), else the libpq connection string (a postgresql:// URI or
  // key=value pairs) of the PostgreSQL database that holds the catalog.
  std::string catalog_postgres;
  // Extensions to the contract ([daemon] settle, http_threads, poll_interval,
  // rescan_interval, retry_interval, anonymous_search_rate, queue_capacity,
  // max_connections_per_client, request_header_timeout), documented in
  // docs/man/gongkaid.conf.5.
  std::chrono::milliseconds settle{1000};
  // How long a file whose archiving failed on our side (a full disk, an I/O
  // error, a failed catalog commit) waits before it is copied again.
  std::chrono::milliseconds retry_interval{5000};
  std::chrono::milliseconds poll_interval{30000};
  std::chrono::milliseconds rescan_interval{3600000};
  int http_threads = 32;
  // [index] shards: how many Xapian databases the index is split into, each
  // written by a thread of its own (indexer/sharded_index.h); 0 = auto.
  size_t index_shards = 0;
  // [index] concurrent_searches: searches matched at once, the rest waiting
  // their turn in order (indexer::Searcher::LimitConcurrentSearches); 0 =
  // auto, one more than the cores.
  size_t concurrent_searches = 0;
  // Files waiting to settle, at most; beyond it a share is rescanned later
  // instead (bounded memory in bursts).
  size_t queue_capacity = 50000;
  double anonymous_search_rate = 20;  // per client IP and second; 0 = unlimited
  // Connections one client IP may hold open at once (each holds a request
  // thread); 0 = no cap.
  int max_connections_per_client = 16;
  // How long a request's line and headers may take to arrive.
  std::chrono::milliseconds request_header_timeout{5000};
  // [disclosure] (CONTRACT.md section 8): the agency named on replies and
  // reports, its code (the front of each 索引号), and a folder of holiday-cn
  // files that add or replace the packaged calendar's years ("" = none).
  std::string agency, agency_code;
  std::string calendar_dir;  // absolute, or empty
  DisclosureContacts contacts;
  // Per client address: request forms submitted anonymously per hour (10 let
  // a service hall's shared computer serve its visitors), and tracking codes
  // looked up per minute (30: guessing a 120-bit code this way never ends).
  // 0 = unlimited.
  int forms_per_hour = 10;
  int lookups_per_minute = 30;
  std::vector<ShareConfig> shares;

  bool operator==(const Config&) const = default;
};

// gongkai-hub's configuration (CONTRACT.md section 10, docs/man/gongkai-hub.8).
struct HubNodeConfig {
  std::string name;        // from the section name [node.NAME]
  std::string url;         // the node's base URL, http(s)://host[:port]
  std::string note_key;    // its log's verifier key, <origin>+<key hash>+<key>
  std::string token_file;  // absolute, or empty: the file holding the hub's token at the node
  bool operator==(const HubNodeConfig&) const = default;
};

// Another hub machine a front hub searches besides its own mirror
// ([machine.NAME]; hub/src/machines.h): it serves its mirror shards with
// xapian-tcpsrv, over its DATA/mirror/shards.stub.
struct HubMachineConfig {
  std::string name;         // from the section name [machine.NAME]
  std::string shards_host;  // shards = HOST:PORT, its xapian-tcpsrv
  uint16_t shards_port = 0;
  std::string replica_host;  // replica = HOST:PORT, "" when none: a copy (xapian-replicate)
  uint16_t replica_port = 0;
  std::string url;  // its gongkai-hub, http://host[:port]: which townships it holds, their state
  // Connecting to xapian-tcpsrv, and each exchange after that.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(1)};
  std::chrono::milliseconds timeout{std::chrono::seconds(5)};
  bool operator==(const HubMachineConfig&) const = default;
};

struct HubConfig {
  std::string file;      // absolute path of the config file itself
  std::string data_dir;  // absolute: the witness key and the mirrors
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8091;
  std::string postgres;  // libpq connection string of the hub's catalog (required)
  // The witness's key name in its cosignatures: a schema-less URL naming the hub.
  std::string witness_name = "gongkai-hub.localhost";
  int http_threads = 16;
  // The hub's own tokens file (the node's format: ROLE SHA256 NAME), for the
  // inspector's view across townships; "" = that view is refused to all.
  std::string tokens_file;
  // How often each node's log and public documents are pulled (the mirror),
  // and how long one node's sync may take before it is cut off.
  std::chrono::milliseconds sync_interval{std::chrono::seconds(60)};
  std::chrono::milliseconds sync_timeout{std::chrono::minutes(10)};
  // How many nodes are synced at once (each on its own thread, with its own
  // extraction worker); 0 = one per core.
  int sync_workers = 0;
  // How many Xapian databases hold the mirror ([hub] shards). A node's
  // documents are in the one its name hashes to; see hub/src/mirror.h.
  int mirror_shards = 8;
  // [hub] ca_file: the PEM certificates trusted for https:// nodes and
  // machines; "" = the system's CAs.
  std::string ca_file;
  std::vector<HubNodeConfig> nodes;
  std::vector<HubMachineConfig> machines;
  bool operator==(const HubConfig&) const = default;
};

// Parses FILE. Never throws.
Result<Config> LoadConfig(const std::string& file);
Result<HubConfig> LoadHubConfig(const std::string& file);
Result<HubConfig> ParseHubConfig(const std::string& text, const std::string& file);
// Parses INI text as if it were read from `file` (used for relative paths).
Result<Config> ParseConfig(const std::string& text, const std::string& file);

// "90d", "12h", "30m", "45s", "500ms" (a bare number is seconds).
Result<std::chrono::milliseconds> ParseDuration(const std::string& text);

}  // namespace gongkai
