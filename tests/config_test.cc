#include <catch2/catch.hpp>

#include "gongkai/config.h"
#include "support/temp_dir.h"

using gongkai::DisclosureContacts;
using gongkai::ParseConfig;
using gongkai::ParseDuration;
using gongkai::test::WriteFile;

namespace {
std::string ErrorOf(const std::string& text) {
  auto c = ParseConfig(text, "/etc/gk/gongkaid.conf");
  REQUIRE_FALSE(c.ok());
  return c.status().message();
}
}  // namespace

TEST_CASE("config: the contract's example parses", "[config]") {
  auto c = ParseConfig(R"(
[daemon]
data_dir = /var/lib/gongkai          ; everything the daemon owns
listen   = 127.0.0.1:8080

[auth]
tokens_file = /etc/gongkai/tokens

[log]
origin = gongkai.example-township.gov

[share.office-a]
path           = /srv/shares/office-a
office         = 鄉政府辦公室
classification = restricted
review         = required
watch          = poll
update_every   = 90d
)",
                       "/etc/gongkai/gongkaid.conf");
  REQUIRE(c.ok());
  CHECK(c->data_dir == "/var/lib/gongkai");
  CHECK(c->listen_host == "127.0.0.1");
  CHECK(c->listen_port == 8080);
  CHECK(c->tokens_file == "/etc/gongkai/tokens");
  CHECK(c->origin == "gongkai.example-township.gov");
  REQUIRE(c->shares.size() == 1);
  const auto& s = c->shares[0];
  CHECK(s.name == "office-a");
  CHECK(s.path == "/srv/shares/office-a");
  CHECK(s.office == "鄉政府辦公室");
  CHECK(s.classification == gongkai::Classification::kRestricted);
  CHECK(s.review == gongkai::Review::kRequired);
  CHECK(s.watch == gongkai::WatchMode::kPoll);
  CHECK(s.update_every == std::chrono::hours(24 * 90));
}

TEST_CASE("config: defaults and relative paths", "[config]") {
  auto c = ParseConfig("\xEF\xBB\xBF[daemon]\ndata_dir = data\n[share.a]\npath = shares/a/\n",
                       "/etc/gk/gongkaid.conf");
  REQUIRE(c.ok());
  CHECK(c->data_dir == "/etc/gk/data");
  CHECK(c->shares[0].path == "/etc/gk/shares/a");
  CHECK(c->shares[0].office == "a");
  CHECK(c->shares[0].classification == gongkai::Classification::kPublic);
  CHECK(c->shares[0].review == gongkai::Review::kNone);
  CHECK(c->listen_port == 8080);
  CHECK(c->settle == std::chrono::milliseconds(1000));
  CHECK(c->queue_capacity == 50000);
  CHECK(ParseConfig("[daemon]\ndata_dir = d\nqueue_capacity = 64\n", "/etc/gk/gongkaid.conf")
            ->queue_capacity == 64);
  CHECK(c->max_connections_per_client == 16);
  CHECK(c->request_header_timeout == std::chrono::seconds(5));
}

TEST_CASE("config: the HTTP connection limits", "[config]") {
  auto c = ParseConfig(
      "[daemon]\ndata_dir = d\nmax_connections_per_client = 0\nrequest_header_timeout = 1500ms\n",
      "/etc/gk/gongkaid.conf");
  REQUIRE(c.ok());
  CHECK(c->max_connections_per_client == 0);
  CHECK(c->request_header_timeout == std::chrono::milliseconds(1500));
  for (const char* bad : {"-1", "many", "10000", ""})
    CHECK(ErrorOf(std::string("[daemon]\ndata_dir = d\nmax_connections_per_client = ") + bad + "\n")
              .find("[daemon] max_connections_per_client: expected") != std::string::npos);
  for (const char* bad : {"0", "50ms", "2m", "soon"})
    CHECK(ErrorOf(std::string("[daemon]\ndata_dir = d\nrequest_header_timeout = ") + bad + "\n")
              .find("[daemon] request_header_timeout: expected") != std::string::npos);
}

TEST_CASE("config: [index] shards and concurrent_searches are auto or a number", "[config]") {
  auto dflt = ParseConfig("[daemon]\ndata_dir = d\n", "/etc/gk/gongkaid.conf");
  auto autom =
      ParseConfig("[daemon]\ndata_dir = d\n[index]\nshards = auto\nconcurrent_searches = auto\n",
                  "/etc/gk/c.conf");
  auto four = ParseConfig("[daemon]\ndata_dir = d\n[index]\nshards = 4\nconcurrent_searches = 3\n",
                          "/etc/gk/c.conf");
  REQUIRE((dflt.ok() && autom.ok() && four.ok()));
  CHECK(dflt->index_shards == 0);
  CHECK(autom->index_shards == 0);
  CHECK(four->index_shards == 4);
  CHECK(dflt->concurrent_searches == 0);
  CHECK(autom->concurrent_searches == 0);
  CHECK(four->concurrent_searches == 3);
  for (const char* bad : {"0", "65", "many", "", "-2"})
    CHECK(ErrorOf(std::string("[daemon]\ndata_dir = d\n[index]\nshards = ") + bad + "\n")
              .find("[index] shards: expected auto or a number from 1 to 64") != std::string::npos);
  for (const char* bad : {"0", "1025", "all"})
    CHECK(
        ErrorOf(std::string("[daemon]\ndata_dir = d\n[index]\nconcurrent_searches = ") + bad + "\n")
            .find("[index] concurrent_searches: expected auto or a number from 1 to 1024") !=
        std::string::npos);
  CHECK(ErrorOf("[daemon]\ndata_dir = d\n[index]\nwriters = 2\n").find("writers") !=
        std::string::npos);
}

TEST_CASE("config: the guide's contacts in [disclosure]", "[config]") {
  auto c = ParseConfig(
      "[daemon]\ndata_dir = d\n[disclosure]\naddress = 某某乡人民路1号\npostcode = 350000\n"
      "phone = 0591-1234\nfax = 0591-5678\nemail = a@b.cn\noffice_hours = 工作日 8:30–17:30\n"
      "website = https://example.gov.cn/\n",
      "/etc/gk/gongkaid.conf");
  REQUIRE(c.ok());
  CHECK(c->contacts == DisclosureContacts{"某某乡人民路1号", "350000", "0591-1234", "0591-5678",
                                          "a@b.cn", "工作日 8:30–17:30",
                                          "https://example.gov.cn/"});
  CHECK(ParseConfig("[daemon]\ndata_dir = d\n", "/etc/gk/gongkaid.conf")->contacts ==
        DisclosureContacts{});
  CHECK(ErrorOf("[daemon]\ndata_dir = d\n[disclosure]\nphone = 1\x01\x32\n")
            .find(":4: [disclosure] phone: control characters") != std::string::npos);
  CHECK(ErrorOf("[daemon]\ndata_dir = d\n[disclosure]\naddress = a\tb\n")
            .find("[disclosure] address: control characters") != std::string::npos);
  for (const char* bad : {"javascript:alert(1)", "example.gov.cn", "ftp://example.gov.cn"})
    CHECK(ErrorOf(std::string("[daemon]\ndata_dir = d\n[disclosure]\nwebsite = ") + bad + "\n")
              .find("[disclosure] website: expected an http:// or https:// address") !=
          std::string::npos);
}

TEST_CASE("config: every error names file, line, section and key", "[config]") {
  CHECK(ErrorOf("[daemon]\ndata_dir = d\nno_such_key = 1\n") ==
        "/etc/gk/gongkaid.conf:3: [daemon] no_such_key: unknown key");
  CHECK(ErrorOf("[daemon]\ndata_dir = d\n[share.a]\npath = p\nclassification = secret\n")
            .find("[share.a] classification: expected public or restricted") != std::string::npos);
  CHECK(ErrorOf("[daemon]\ndata_dir = d\n[share.a]\npath = p\nreview = maybe\n")
            .find("[share.a] review") != std::string::npos);
  CHECK(ErrorOf("[daemon]\ndata_dir = d\n[share.a]\npath = p\nwatch = fanotify\n")
            .find("[share.a] watch") != std::string::npos);
  CHECK(ErrorOf("[daemon]\ndata_dir = d\n[share.a]\npath = p\nupdate_every = 3 weeks\n")
            .find("[share.a] update_every") != std::string::npos);
  for (const char* bad : {"0wd", "xwd", "1000wd", "-5wd"})
    CHECK(ErrorOf("[daemon]\ndata_dir = d\n[share.a]\npath = p\nupdate_every = " +
                  std::string(bad) + "\n")
              .find("working days from 1wd to 999wd") != std::string::npos);
  auto workdays = ParseConfig("[daemon]\ndata_dir = d\n[share.a]\npath = p\nupdate_every = 20wd\n",
                              "/etc/gk/gongkaid.conf");
  REQUIRE(workdays.ok());
  CHECK(workdays->shares[0].update_every_workdays == 20);
  CHECK(workdays->shares[0].update_every.count() == 0);
  CHECK(ErrorOf("[daemon]\ndata_dir = d\nlisten = localhost\n").find("[daemon] listen") !=
        std::string::npos);
  CHECK(ErrorOf("[daemon]\ndata_dir = d\nlisten = 1.2.3.4:99999\n").find("[daemon] listen") !=
        std::string::npos);
  CHECK(ErrorOf("[daemon]\nlisten = 1.2.3.4:80\n").find("[daemon] data_dir: missing") !=
        std::string::npos);
  CHECK(
      ErrorOf("[daemon]\ndata_dir = d\n[share.a]\noffice = x\n").find("[share.a] path: missing") !=
      std::string::npos);
  CHECK(ErrorOf("[daemon]\ndata_dir = d\n[bogus]\n").find("[bogus]: unknown section") !=
        std::string::npos);
  CHECK(ErrorOf("[daemon]\ndata_dir = d\n[share.a b]\npath = p\n").find("share name") !=
        std::string::npos);
  CHECK(ErrorOf("[daemon]\ndata_dir = d\ndata_dir = e\n").find("set twice") != std::string::npos);
  CHECK(ErrorOf("[daemon]\ndata_dir = d\njunk line\n").find(":3: expected 'key = value'") !=
        std::string::npos);
  CHECK(ErrorOf("[daemon]\ndata_dir = d\n[log]\norigin = has space\n").find("[log] origin") !=
        std::string::npos);
  for (const char* bad : {"0", "-1", "lots", "123456789"})
    CHECK(ErrorOf(std::string("[daemon]\ndata_dir = d\nqueue_capacity = ") + bad + "\n")
              .find("[daemon] queue_capacity: expected") != std::string::npos);
}

TEST_CASE("config: the catalog is SQLite in the data folder unless it names a PostgreSQL database",
          "[config]") {
  auto parse = [](const std::string& value) {
    return ParseConfig("[daemon]\ndata_dir = d\ncatalog = " + value + "\n",
                       "/etc/gk/gongkaid.conf");
  };
  CHECK(ParseConfig("[daemon]\ndata_dir = d\n", "/etc/gk/gongkaid.conf")->catalog_postgres.empty());
  CHECK(parse("sqlite")->catalog_postgres.empty());
  CHECK(parse("postgresql://gongkai@/archive?host=/run/postgresql")->catalog_postgres ==
        "postgresql://gongkai@/archive?host=/run/postgresql");
  CHECK(parse("postgres://db.example/archive")->catalog_postgres ==
        "postgres://db.example/archive");
  CHECK(parse("host=/run/postgresql dbname=archive")->catalog_postgres ==
        "host=/run/postgresql dbname=archive");
  for (const char* bad : {"", "SQLite", "mysql://x", "/var/lib/gongkai/catalog.sqlite"})
    CHECK(ErrorOf(std::string("[daemon]\ndata_dir = d\ncatalog = ") + bad + "\n")
              .find("[daemon] catalog: expected sqlite, a postgresql:// URI") != std::string::npos);
}

TEST_CASE("config: shares may not overlap each other or hold the data folder", "[config]") {
  CHECK(ErrorOf("[daemon]\ndata_dir = d\n[share.a]\npath = /s\n[share.b]\npath = /s/inner\n")
            .find("shares must not overlap") != std::string::npos);
  CHECK(ErrorOf("[daemon]\ndata_dir = /s/data\n[share.a]\npath = /s\n")
            .find("never writes into a share") != std::string::npos);
  CHECK(ParseConfig("[daemon]\ndata_dir = d\n[share.a]\npath = /s\n[share.b]\npath = /s2\n",
                    "/x/c.conf")
            .ok());
}

TEST_CASE("config: durations", "[config]") {
  CHECK(*ParseDuration("90d") == std::chrono::hours(24 * 90));
  CHECK(*ParseDuration("12h") == std::chrono::hours(12));
  CHECK(*ParseDuration("30m") == std::chrono::minutes(30));
  CHECK(*ParseDuration("45s") == std::chrono::seconds(45));
  CHECK(*ParseDuration("45") == std::chrono::seconds(45));
  CHECK(*ParseDuration("500ms") == std::chrono::milliseconds(500));
  CHECK_FALSE(ParseDuration("").ok());
  CHECK_FALSE(ParseDuration("d").ok());
  CHECK_FALSE(ParseDuration("5w").ok());
  CHECK(*ParseDuration("36500d") == std::chrono::hours(24 * 36500));
  CHECK_FALSE(ParseDuration("36501d").ok());
  CHECK_FALSE(ParseDuration("555555505590d").ok());  // found by fuzz_config: overflowed
  CHECK_FALSE(ParseDuration("99999999999s").ok());
  CHECK_FALSE(ParseDuration("-5s").ok());
}

TEST_CASE("config: [log] witnesses are http:// or https:// URL prefixes", "[config]") {
  const std::string head = "[daemon]\ndata_dir = /var/lib/gongkai\n[log]\n";
  auto c = ParseConfig(
      head + "witnesses = http://hub.county.example:8091/witness/  https://10.0.0.2/w\n",
      "/etc/gk/gongkaid.conf");
  REQUIRE(c.ok());
  CHECK(c->witnesses ==
        std::vector<std::string>{"http://hub.county.example:8091/witness", "https://10.0.0.2/w"});
  CHECK(c->ca_file.empty());  // the system's CAs
  CHECK(ParseConfig(head, "/etc/gk/gongkaid.conf")->witnesses.empty());
  for (const char* bad :
       {"hub.example/witness", "ftp://hub/w", "http://", "http:///w", "http://hub/w?x=1"}) {
    INFO(bad);
    const std::string error = ErrorOf(head + "witnesses = " + bad + "\n");
    CHECK(error.find("gongkaid.conf:4: [log] witnesses:") != std::string::npos);
  }
  // ca_file: relative to the config's folder, and it must be readable.
  gongkai::test::TempDir dir;
  WriteFile(dir / "county-ca.pem", "-----BEGIN CERTIFICATE-----\n");
  auto trusted = ParseConfig(head + "ca_file = county-ca.pem\n", dir / "gongkaid.conf");
  REQUIRE(trusted.ok());
  CHECK(trusted->ca_file == dir / "county-ca.pem");
  CHECK(ParseConfig(head + "ca_file = missing.pem\n", dir / "gongkaid.conf")
            .status()
            .message()
            .find("[log] ca_file: cannot read '" + dir / "missing.pem") != std::string::npos);
  auto keys = ParseConfig(head + "witness_keys = w.example/1+0123abcd+BAEC  w2+00ff00ff+BA==\n",
                          "/etc/gk/gongkaid.conf");
  REQUIRE(keys.ok());
  CHECK(keys->witness_keys ==
        std::vector<std::string>{"w.example/1+0123abcd+BAEC", "w2+00ff00ff+BA=="});
  CHECK(ErrorOf(head + "witness_keys = not-a-key\n").find("gongkaid.conf:4: [log] witness_keys:") !=
        std::string::npos);
}

TEST_CASE("config: gongkai-hub's file names its database, witness and nodes", "[config]") {
  auto c = gongkai::ParseHubConfig(R"(
[hub]
data_dir = hub-data
listen = 0.0.0.0:8091
postgres = postgresql:///gongkai_hub?host=/run/postgresql
name = hub.county.example/witness

[node.town-a]
url = https://town-a.example:8443/
note_key = town-a.example+0123abcd+AQID
token_file = town-a.token

[machine.hub-2]
shards = 10.0.0.2:33333
replica = [fd00::3]:33333
url = http://10.0.0.2:8091/
timeout = 2s
)",
                                   "/etc/gongkai/gongkai-hub.conf");
  REQUIRE(c.ok());
  CHECK(c->data_dir == "/etc/gongkai/hub-data");
  CHECK(c->listen_host == "0.0.0.0");
  CHECK(c->listen_port == 8091);
  CHECK(c->postgres == "postgresql:///gongkai_hub?host=/run/postgresql");
  CHECK(c->witness_name == "hub.county.example/witness");
  CHECK(c->http_threads == 16);
  CHECK(c->sync_interval == std::chrono::seconds(60));
  CHECK(c->sync_timeout == std::chrono::minutes(10));
  CHECK(c->sync_workers == 0);
  CHECK(c->mirror_shards == 8);
  REQUIRE(c->nodes.size() == 1);
  CHECK(c->nodes[0].name == "town-a");
  CHECK(c->nodes[0].url == "https://town-a.example:8443");
  CHECK(c->ca_file.empty());  // the system's CAs
  CHECK(c->nodes[0].note_key == "town-a.example+0123abcd+AQID");
  CHECK(c->nodes[0].token_file == "/etc/gongkai/town-a.token");
  REQUIRE(c->machines.size() == 1);
  const gongkai::HubMachineConfig& m = c->machines[0];
  CHECK(m.name == "hub-2");
  CHECK((m.shards_host == "10.0.0.2" && m.shards_port == 33333));
  CHECK((m.replica_host == "fd00::3" && m.replica_port == 33333));
  CHECK(m.url == "http://10.0.0.2:8091");
  CHECK(m.timeout == std::chrono::seconds(2));
  CHECK(m.connect_timeout == std::chrono::seconds(1));

  auto error = [](const std::string& text) {
    auto r = gongkai::ParseHubConfig(text, "/etc/gongkai/gongkai-hub.conf");
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  const std::string hub = "[hub]\ndata_dir = /d\npostgres = dbname=hub\n";
  CHECK(error("[hub]\npostgres = dbname=hub\n").find("[hub] data_dir: missing") !=
        std::string::npos);
  CHECK(error("[hub]\ndata_dir = /d\n").find("[hub] postgres: missing") != std::string::npos);
  CHECK(error(hub + "name = two words\n").find(":4: [hub] name:") != std::string::npos);
  CHECK(error(hub + "[node.a]\nnote_key = a+00+AA\n").find("[node.a] url: missing") !=
        std::string::npos);
  CHECK(error(hub + "[node.a]\nurl = http://a\n").find("[node.a] note_key:") != std::string::npos);
  CHECK(error(hub + "[node.a]\nurl = a.example\nnote_key = a+00+AA\n").find(":5: [node.a] url:") !=
        std::string::npos);
  CHECK(error(hub + "[node.a b]\nurl = http://a\n").find("node name") != std::string::npos);
  CHECK(error(hub + "ca_file = /nonexistent/ca.pem\n").find("[hub] ca_file: cannot read") !=
        std::string::npos);
  CHECK(error(hub + "[node.a]\nurl = http://a\nnote_key = a+00+AA\ncolour = red\n")
            .find("unknown key") != std::string::npos);
  CHECK(error(hub + "[share.x]\n").find("unknown section") != std::string::npos);
  const std::string machine = "[machine.m]\nurl = http://m:8091\n";
  CHECK(error(hub + machine).find("[machine.m] shards: missing") != std::string::npos);
  CHECK(error(hub + machine + "shards = m\n").find("[machine.m] shards: expected host:port") !=
        std::string::npos);
  CHECK(error(hub + "[machine.m]\nshards = m:1\n").find("[machine.m] url: missing") !=
        std::string::npos);
  CHECK(error(hub + "[machine.m]\nshards = m:1\nurl = ftp://m\n").find("[machine.m] url:") !=
        std::string::npos);
  CHECK(error(hub + machine + "shards = m:1\nreplica = r\n").find("[machine.m] replica:") !=
        std::string::npos);
  CHECK(error(hub + machine + "shards = m:1\ntimeout = 1h\n").find("[machine.m] timeout:") !=
        std::string::npos);
  CHECK(error(hub + "[machine.a b]\n").find("machine name") != std::string::npos);
  CHECK(error(hub + "sync_interval = 10ms\n").find("[hub] sync_interval: expected a duration") !=
        std::string::npos);
  CHECK(error(hub + "sync_timeout = 2d\n").find("[hub] sync_timeout: expected a duration") !=
        std::string::npos);
  for (const char* bad : {"-1", "65", "two", ""})
    CHECK(
        error(hub + "sync_workers = " + bad + "\n").find("[hub] sync_workers: expected a number") !=
        std::string::npos);
  for (const char* bad : {"0", "257", "many"})
    CHECK(error(hub + "shards = " + bad + "\n").find("[hub] shards: expected a number") !=
          std::string::npos);
  auto timed = gongkai::ParseHubConfig(
      hub + "sync_interval = 5m\nsync_timeout = 30s\nsync_workers = 8\nshards = 3\n", "/h.conf");
  REQUIRE(timed.ok());
  CHECK(timed->mirror_shards == 3);
  CHECK(timed->sync_interval == std::chrono::minutes(5));
  CHECK(timed->sync_timeout == std::chrono::seconds(30));
  CHECK(timed->sync_workers == 8);
}
