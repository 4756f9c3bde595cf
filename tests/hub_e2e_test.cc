// The county tier end to end: real gongkaid nodes push their checkpoints to
// a real gongkai-hub (C2SP tlog-witness) on loopback; its state is in a real
// PostgreSQL server (support/postgres_server.h).
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/URI.h>

#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <vector>

#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"
#include "gongkai/storage/witness.h"
#include "machines.h"
#include "mirror.h"
#include "support/daemon_process.h"
#include "support/hub_process.h"
#include "support/postgres_server.h"
#include "support/tls.h"

using namespace gongkai;
using gongkai::test::DaemonProcess;
using gongkai::test::HubProcess;
using gongkai::test::WriteFile;

namespace {

const char kWitness[] = "county.e2e.test/witness";

// The node's config with `[log] witnesses = URL` (and `extra` lines).
void AddWitness(DaemonProcess& node, const std::string& url, const std::string& extra = "") {
  std::string conf = test::Slurp(node.config());
  const std::string origin = "origin = e2e.gongkai.test\n";
  REQUIRE(conf.find(origin) != std::string::npos);
  conf.replace(conf.find(origin), origin.size(), origin + "witnesses = " + url + "\n" + extra);
  WriteFile(node.config(), conf);
}

void ReplaceInConfig(DaemonProcess& node, const std::string& from, const std::string& to) {
  std::string conf = test::Slurp(node.config());
  REQUIRE(conf.find(from) != std::string::npos);
  conf.replace(conf.find(from), from.size(), to);
  WriteFile(node.config(), conf);
}

std::string NoteKey(DaemonProcess& node) {
  return node.Get("/api/v1/keys")
      .json()
      ->getArray("keys")
      ->getObject(0)
      ->getValue<std::string>("note_key");
}

// The shared PostgreSQL server for the hub, or nullptr after saying why the
// test is skipped.
test::PostgresServer* Postgres() {
  std::string why;
  test::PostgresServer* pg = test::PostgresServer::Shared(&why);
  if (!pg) WARN("SKIPPED: needs PostgreSQL for the hub: " << why);
  return pg;
}

uint64_t TreeSize(DaemonProcess& node) {
  auto cp = storage::ParseCheckpointBody(node.Get("/tlog/checkpoint").body);
  REQUIRE(cp.ok());
  return cp->size;
}

}  // namespace

TEST_CASE(
    "e2e hub: a node's checkpoints are cosigned by the hub's witness, and a node whose history is "
    "rewritten raises a split view",
    "[e2e][hub]") {
  test::PostgresServer* pg = Postgres();
  if (!pg) return;
  DaemonProcess node;
  WriteFile(node.FilePath("pub", "a.txt"), "鄉公所公告第一號。\n");
  node.Start();
  node.WaitIdle(1);
  const std::string note_key = NoteKey(node);

  HubProcess hub(pg->CreateDatabase(),
                 "[node.town]\nurl = http://127.0.0.1:" + std::to_string(node.port()) +
                     "\nnote_key = " + note_key + "\n");
  hub.Start();
  auto status = hub.Get("/api/v1/status").json();
  const std::string witness_vkey = status->getObject("witness")->getValue<std::string>("key");
  auto witness = storage::ParseVerifierKey(witness_vkey);
  REQUIRE(witness.ok());
  CHECK(witness->name == kWitness);
  CHECK(status->getObject("nodes")->getObject("town")->getValue<int64_t>("witnessed_size") == 0);

  // The node names the hub as its witness, but trusts another key for it:
  // the hub's cosignature is not kept, and the node says so.
  const std::string stranger =
      storage::CosignerVerifierKey(kWitness, storage::SigningKey::Generate().value()->RawPublic());
  AddWitness(node, "http://127.0.0.1:" + std::to_string(hub.port()) + "/witness",
             "witness_keys = " + stranger + "\n");
  node.RestartWithHup();
  CHECK(DaemonProcess::Eventually([&] {
    auto w = node.Get("/api/v1/status", node.inspector()).json()->getArray("witnesses");
    return w->getObject(0)->getValue<std::string>("problem") ==
           "its answer holds no cosignature by a key in [log] witness_keys";
  }));
  CHECK(storage::VerifyCosignature(node.Get("/tlog/checkpoint").body, witness->name,
                                   witness->raw_public)
            .status()
            .IsNotFound());
  // With the hub's own key, its checkpoint comes back cosigned.
  ReplaceInConfig(node, stranger, witness_vkey);
  node.RestartWithHup();
  auto cosigned = [&](uint64_t size) {
    return DaemonProcess::Eventually([&] {
      const std::string cp = node.Get("/tlog/checkpoint").body;
      auto body = storage::ParseCheckpointBody(cp);
      return body.ok() && body->size == size &&
             storage::VerifyCosignature(cp, witness->name, witness->raw_public).ok();
    });
  };
  REQUIRE(cosigned(TreeSize(node)));
  CHECK(node.Get("/api/v1/log/checkpoint").body == node.Get("/tlog/checkpoint").body);
  const std::string id = node.FirstId("公告第一號");
  const std::string proof_cp = node.Get("/api/v1/documents/" + id + "/versions/1/proof")
                                   .json()
                                   ->getValue<std::string>("checkpoint");
  CHECK(storage::VerifyCosignature(proof_cp, witness->name, witness->raw_public).ok());

  // The log grows: the new checkpoint is pushed with a consistency proof.
  WriteFile(node.FilePath("pub", "b.txt"), "鄉公所公告第二號。\n");
  WriteFile(node.FilePath("pub", "c.txt"), "鄉公所公告第三號。\n");
  node.WaitIdle(3);
  const uint64_t size = TreeSize(node);
  REQUIRE(size >= 3);
  REQUIRE(cosigned(size));
  auto town = hub.Get("/api/v1/status").json()->getObject("nodes")->getObject("town");
  CHECK(town->getValue<uint64_t>("witnessed_size") == size);
  CHECK(!town->getValue<std::string>("witnessed_at").empty());
  const std::string metrics = hub.Get("/metrics").body;
  CHECK(metrics.find("gongkai_hub_witnessed_tree_size{node=\"town\"} " + std::to_string(size) +
                     "\n") != std::string::npos);
  CHECK(metrics.find("gongkai_hub_split_views{node=\"town\"} 0\n") != std::string::npos);
  CHECK(metrics.find("gongkai_hub_add_checkpoint_total{node=\"town\",code=\"200\"}") !=
        std::string::npos);
  // The node's status and metrics show the witness and the size it cosigned.
  auto pushed = node.Get("/api/v1/status", node.inspector()).json()->getArray("witnesses");
  REQUIRE(pushed->size() == 1);
  CHECK(pushed->getObject(0)->getValue<std::string>("url") ==
        "http://127.0.0.1:" + std::to_string(hub.port()) + "/witness");
  CHECK(pushed->getObject(0)->getValue<uint64_t>("cosigned_size") == size);
  CHECK(pushed->getObject(0)->getValue<std::string>("problem").empty());
  // The monitoring URL serves the cosigned checkpoint.
  const std::string held =
      hub.Get("/witness/" + storage::Hex(storage::Sha256Of("e2e.gongkai.test")) + "/checkpoint")
          .body;
  CHECK(storage::ParseCheckpointBody(held)->size == size);
  CHECK(storage::VerifyCosignature(held, witness->name, witness->raw_public).ok());
  CHECK(hub.Get("/witness/" + std::string(64, '0') + "/checkpoint").status == 404);

  // The hub refuses what its spec says it must, over HTTP too.
  CHECK(hub.Post("/witness/add-checkpoint", "old 0\n\nnot a checkpoint\n").status == 400);
  CHECK(hub.Post("/witness/add-checkpoint", std::string(size_t{70} * 1024, 'x')).status == 413);
  auto conflict =
      hub.Post("/witness/add-checkpoint", "old 0\n\n" + node.Get("/api/v1/log/checkpoint").body);
  CHECK(conflict.status == 409);
  CHECK(conflict.headers["content-type"] == "text/x.tlog.size");
  CHECK(conflict.body == std::to_string(size) + "\n");
  CHECK(hub.Get("/witness/add-checkpoint").status == 405);

  // The township's archive is replaced: the same key signs another history,
  // longer than the one the hub holds. Its checkpoints are refused and the
  // hub raises the alarm; the node logs that an inspector must look.
  node.Stop();
  DaemonProcess forged;
  std::filesystem::create_directories(forged.root() + "/data");
  std::filesystem::copy(node.root() + "/data/keys", forged.root() + "/data/keys",
                        std::filesystem::copy_options::recursive);
  for (int i = 0; i < static_cast<int>(size) + 2; ++i)
    WriteFile(forged.FilePath("pub", "x" + std::to_string(i) + ".txt"),
              "改寫的公告 " + std::to_string(i) + "。\n");
  AddWitness(forged, "http://127.0.0.1:" + std::to_string(hub.port()) + "/witness");
  forged.Start();
  forged.WaitIdle(size + 2);
  CHECK(NoteKey(forged) == note_key);
  REQUIRE(DaemonProcess::Eventually([&] {
    return hub.Get("/metrics").body.find("gongkai_hub_split_views{node=\"town\"} 1\n") !=
           std::string::npos;
  }));
  CHECK(hub.log().find("SPLIT VIEW: node town") != std::string::npos);
  auto alarms = hub.Get("/api/v1/status").json()->getArray("split_views");
  REQUIRE(alarms->size() == 1);
  CHECK(alarms->getObject(0)->getValue<std::string>("node") == "town");
  CHECK(storage::ParseCheckpointBody(alarms->getObject(0)->getValue<std::string>("held"))->size ==
        size);
  CHECK(storage::ParseCheckpointBody(alarms->getObject(0)->getValue<std::string>("submitted"))
            ->size >= size + 2);
  CHECK(DaemonProcess::Eventually(
      [&] { return forged.log().find("an inspector must look") != std::string::npos; }));
  const std::string forged_metrics = forged.Get("/metrics", forged.inspector()).body;
  CHECK(forged_metrics.find("gongkai_witness_failing{witness=\"http://127.0.0.1:" +
                            std::to_string(hub.port()) + "/witness\"} 1\n") != std::string::npos);
  // The forged log is never cosigned, and the hub still holds the true one.
  CHECK(storage::VerifyCosignature(forged.Get("/tlog/checkpoint").body, witness->name,
                                   witness->raw_public)
            .status()
            .IsNotFound());
  CHECK(hub.Get("/api/v1/status")
            .json()
            ->getObject("nodes")
            ->getObject("town")
            ->getValue<uint64_t>("witnessed_size") == size);
  CHECK(forged.Stop() == 0);

  // An archive put back from an old backup (the same key, a shorter log):
  // the hub's 409 names a larger tree than the node has, and the node says so.
  DaemonProcess restored;
  std::filesystem::create_directories(restored.root() + "/data");
  std::filesystem::copy(node.root() + "/data/keys", restored.root() + "/data/keys",
                        std::filesystem::copy_options::recursive);
  WriteFile(restored.FilePath("pub", "a.txt"), "鄉公所公告第一號。\n");
  AddWitness(restored, "http://127.0.0.1:" + std::to_string(hub.port()) + "/witness");
  restored.Start();
  restored.WaitIdle(1);
  CHECK(DaemonProcess::Eventually([&] {
    return restored.log().find("the witness says it holds a tree of " + std::to_string(size) +
                               " records, larger than this log's") != std::string::npos;
  }));
  CHECK(restored.log().find("an inspector must look") != std::string::npos);
  CHECK(restored.Stop() == 0);

  // The hub keeps its key and its state over a restart.
  CHECK(hub.Stop() == 0);
  hub.Start();
  status = hub.Get("/api/v1/status").json();
  CHECK(status->getObject("witness")->getValue<std::string>("key") == witness_vkey);
  CHECK(status->getObject("nodes")->getObject("town")->getValue<uint64_t>("witnessed_size") ==
        size);
  CHECK(status->getArray("split_views")->size() == 1);
  CHECK(hub.Stop() == 0);
}

TEST_CASE("e2e hub: a witness that refuses connections or never answers holds nothing up",
          "[e2e][hub]") {
  // A socket that is listened on but never accepted: connections complete
  // (the backlog) and then nothing is ever said.
  Poco::Net::ServerSocket silent(Poco::Net::SocketAddress("127.0.0.1", 0), 16);
  Poco::Net::ServerSocket closed_socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  const uint16_t closed = closed_socket.address().port();
  closed_socket.close();  // nothing listens there any more: refused
  DaemonProcess node;
  const std::string silent_url =
      "http://127.0.0.1:" + std::to_string(silent.address().port()) + "/w";
  const std::string closed_url = "http://127.0.0.1:" + std::to_string(closed) + "/w";
  AddWitness(node, silent_url + " " + closed_url);
  WriteFile(node.FilePath("pub", "a.txt"), "鄉公所公告第一號。\n");
  node.Start();
  node.WaitIdle(1);
  WriteFile(node.FilePath("pub", "b.txt"), "鄉公所公告第二號。\n");
  node.WaitIdle(2);  // archiving went on while a push waited
  CHECK(node.Search("公告第二號").json()->getValue<int>("total") == 1);
  // Both are reported, each once, and neither cosigned anything.
  CHECK(DaemonProcess::Eventually(
      [&] {
        auto w = node.Get("/api/v1/status", node.inspector()).json()->getArray("witnesses");
        return w->size() == 2 && !w->getObject(0)->getValue<std::string>("problem").empty() &&
               !w->getObject(1)->getValue<std::string>("problem").empty();
      },
      60));
  const std::string log = node.log();
  CHECK(log.find("witness " + closed_url + ": ") != std::string::npos);
  CHECK(log.find("witness " + silent_url + ": ") != std::string::npos);
  CHECK(log.find("an inspector must look") ==
        std::string::npos);  // unreachable is not a split view
  const std::string cp = node.Get("/tlog/checkpoint").body;
  CHECK(cp.substr(cp.find("\n\n") + 2).find("\xE2\x80\x94", 1) ==
        std::string::npos);  // one signature
  CHECK(node.Stop() == 0);
}

namespace {

// The nodes of a search answer's results, sorted.
// The node of each result; an answer that is not a 200 gives its status.
std::vector<std::string> NodesOf(const test::HttpResult& r) {
  if (r.status != 200) return {"HTTP " + std::to_string(r.status)};
  std::vector<std::string> out;
  auto results = r.json()->getArray("results");
  for (unsigned i = 0; i < results->size(); ++i)
    out.push_back(results->getObject(i)->getValue<std::string>("node"));
  std::sort(out.begin(), out.end());
  return out;
}

int64_t Total(const test::HttpResult& r) { return r.json()->getValue<int64_t>("total"); }

Poco::JSON::Object::Ptr MirrorOf(HubProcess& hub, const std::string& node) {
  return hub.Get("/api/v1/status").json()->getObject("nodes")->getObject(node);
}

}  // namespace

TEST_CASE(
    "e2e hub: the mirror holds every township's public documents, verified, searched as one, and "
    "a node that is down or serves a wrong byte never fails a search or poisons the mirror",
    "[e2e][hub]") {
  test::PostgresServer* pg = Postgres();
  if (!pg) return;
  // East pushes its checkpoints to the hub; West does not, so the mirror
  // verifies West's own checkpoint under its key.
  DaemonProcess east({{"pub", ""}, {"sec", "classification = restricted"}});
  DaemonProcess west;
  WriteFile(east.FilePath("pub", "flood.txt"), "东山乡防汛工作通知，请各村做好准备。\n");
  WriteFile(east.FilePath("pub", "roads.txt"), "东山乡道路维修公告。\n");
  WriteFile(east.FilePath("sec", "inside.txt"), "东山乡内部名单 QZXSECRETMARK 不得公开。\n");
  WriteFile(west.FilePath("pub", "flood.txt"), "西河镇防汛工作通知。\n");
  ReplaceInConfig(west, "origin = e2e.gongkai.test\n", "origin = west.gongkai.test\n");
  {  // East keeps its port when it reloads its config to add the witness.
    Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
    ReplaceInConfig(east, "listen = 127.0.0.1:0\n",
                    "listen = 127.0.0.1:" + std::to_string(probe.address().port()) + "\n");
  }
  // East gives the hub a hub token (entries, status and reports only); West
  // an inspector's, as before hub tokens were.
  const std::string hub_token = "east-hub-token";
  WriteFile(east.root() + "/tokens", test::Slurp(east.root() + "/tokens") + "hub " +
                                         storage::Hex(storage::Sha256Of(hub_token)) +
                                         " county-hub\n");
  east.Start();
  west.Start();
  east.WaitIdle(3);
  west.WaitIdle(1);
  WriteFile(east.root() + "/hub-token", hub_token + "\n");
  WriteFile(west.root() + "/hub-token", west.inspector() + "\n");
  // What a hub token may do at the node: read the entries, the status and
  // the reports as an inspector; anything else as anonymous at most.
  CHECK(east.Get("/tlog/tile/entries/000.p/1", hub_token).status == 200);
  CHECK(east.Get("/tlog/tile/entries/000.p/1").status == 401);
  CHECK(east.Get("/api/v1/status", hub_token).status == 200);
  CHECK(east.Get("/api/v1/reports/freshness", hub_token).status == 200);
  CHECK(east.Get("/api/v1/reports/annual?year=2026", hub_token).status == 200);
  for (const char* path : {"/api/v1/requests", "/api/v1/log/entries", "/api/v1/reports/timeliness"})
    CHECK(east.Get(path, hub_token).status == 403);
  CHECK(east.Request("POST", "/api/v1/documents/x/approve", hub_token).status == 403);
  // The restricted document: an inspector finds it, a hub token does not.
  CHECK(east.Get("/api/v1/search?q=QZXSECRETMARK", east.inspector())
            .json()
            ->getValue<int64_t>("total") == 1);
  CHECK(east.Get("/api/v1/search?q=QZXSECRETMARK", hub_token).json()->getValue<int64_t>("total") ==
        0);
  auto section = [](const std::string& name, DaemonProcess& node) {
    return "[node." + name + "]\nurl = http://127.0.0.1:" + std::to_string(node.port()) +
           "\nnote_key = " + NoteKey(node) + "\ntoken_file = " + node.root() + "/hub-token\n\n";
  };
  // One shard: East's and West's documents are in one database, where
  // neither may touch the other's.
  HubProcess hub(pg->CreateDatabase(), section("east", east) + section("west", west),
                 "sync_interval = 200ms\ntokens = tokens\nshards = 1\n");
  const std::string county_token = "county-inspector-token";
  WriteFile(hub.FilePath("tokens"),
            "inspector " + storage::Hex(storage::Sha256Of(county_token)) + " county\n");
  // One request for disclosure at East, in its annual table 三 and the county's.
  REQUIRE(east.Request("POST", "/api/v1/requests", "", {},
                       R"({"applicant":{"name":"县级测试","contact":"1"},"description":"x"})")
              .status == 201);
  hub.Start();
  AddWitness(east, "http://127.0.0.1:" + std::to_string(hub.port()) + "/witness");
  east.RestartWithHup();

  // Both townships' notices, one search, each with its node; the answer's
  // `nodes` may lag the documents by a moment (Mirror::SyncLocked).
  const bool synced = DaemonProcess::Eventually(
      [&] {
        const test::HttpResult r = hub.Search("防汛工作通知");
        auto n = r.json()->getObject("nodes");
        return Total(r) == 2 &&
               n->getObject("east")->getValue<uint64_t>("tree_size") == TreeSize(east) &&
               n->getObject("west")->getValue<uint64_t>("tree_size") == TreeSize(west);
      },
      60);
  INFO(hub.log());
  REQUIRE(synced);
  const test::HttpResult both = hub.Search("防汛工作通知");
  CHECK(NodesOf(both) == std::vector<std::string>{"east", "west"});
  auto first = both.json()->getArray("results")->getObject(0);
  CHECK(first->getValue<std::string>("share") == "pub");
  CHECK(first->getValue<int64_t>("version") == 1);
  CHECK(first->getValue<std::string>("snippet").find("<b>") != std::string::npos);
  auto nodes = both.json()->getObject("nodes");
  CHECK(nodes->getObject("east")->getValue<uint64_t>("tree_size") == TreeSize(east));
  CHECK(nodes->getObject("west")->getValue<uint64_t>("tree_size") == TreeSize(west));
  CHECK(!nodes->getObject("west")->getValue<bool>("stale"));
  CHECK(!nodes->getObject("west")->getValue<std::string>("synced").empty());
  CHECK(Total(hub.Search("")) == 3);  // the listing: every public document
  // Traditional finds Simplified at the hub as at the node.
  CHECK(Total(hub.Search("道路維修")) == 1);
  // The restricted share's document is in the log the hub read, never in its index.
  CHECK(Total(hub.Search("QZXSECRETMARK")) == 0);
  CHECK(Total(hub.Search("内部名单")) == 0);
  CHECK(hub.Get("/api/v1/search?limit=1000").status == 400);

  // The county inspector's view: counts and dates per township, and table 三
  // as the sum of theirs. Only for a token of the hub's own.
  CHECK(hub.Get("/api/v1/county").status == 401);
  CHECK(hub.Request("GET", "/api/v1/county", east.inspector()).status == 401);
  // The node counts its requests once a second: the hub sees the new one
  // at a sync after that.
  REQUIRE(DaemonProcess::Eventually([&] {
    auto c = hub.Request("GET", "/api/v1/county", county_token).json();
    return c->getObject("totals")->getValue<int64_t>("not_inspected") == 0 &&
           c->getObject("totals")->getValue<int64_t>("requests_open") == 1;
  }));
  auto county = hub.Request("GET", "/api/v1/county", county_token).json();
  auto east_view = county->getObject("nodes")->getObject("east");
  CHECK(east_view->getObject("requests")->getValue<int64_t>("open") == 1);
  CHECK(county->getObject("totals")->getValue<int64_t>("requests_open") == 1);
  auto offices = east_view->getArray("offices");
  REQUIRE(offices->size() == 2);  // pub and sec
  CHECK(!offices->getObject(0)->getValue<std::string>("last_version").empty());
  CHECK(!offices->getObject(0)->getValue<bool>("overdue"));
  CHECK(county->getObject("table3")->getObject("new")->getValue<int64_t>("total") == 1);
  CHECK(county->getValue<int>("year") >= 2026);
  const std::string county_text = hub.Request("GET", "/api/v1/county", county_token).body;
  CHECK(county_text.find("县级测试") == std::string::npos);  // no personal data leaves the node
  // Its page, in the portal's style, filled by county.js from that JSON.
  const test::HttpResult page = hub.Get("/county");
  CHECK(page.status == 200);
  CHECK(page.body.find("各乡镇政务公开检查汇总") != std::string::npos);
  CHECK(page.body.find("<script type=\"module\" src=\"/static/county.js\">") != std::string::npos);
  CHECK(page.body.find("<!--#") == std::string::npos);  // every marker filled
  CHECK(page.headers.at("content-security-policy").find("script-src 'self'") != std::string::npos);
  const test::HttpResult script = hub.Get("/static/county.js");
  CHECK(script.status == 200);
  CHECK(script.body.find("/api/v1/county") != std::string::npos);
  CHECK(hub.Get("/static/request-common.js").status == 200);
  CHECK(hub.Get("/static/index.html").status == 404);    // the townships' pages are theirs
  CHECK(east.Get("/static/county.html").status == 404);  // and the county's is the hub's

  // A document made restricted at the node leaves the hub within a sync.
  const std::string roads = east.FirstId("道路维修");
  REQUIRE(east.Request("POST", "/api/v1/documents/" + roads + "/classification", east.admin(), {},
                       R"({"classification":"restricted"})")
              .status == 200);
  CHECK(DaemonProcess::Eventually([&] { return Total(hub.Search("道路维修")) == 0; }, 60));

  // West goes down: its notice stays searchable, marked stale; East's is fresh.
  CHECK(west.Stop() == 0);
  CHECK(DaemonProcess::Eventually([&] { return MirrorOf(hub, "west")->getValue<bool>("stale"); },
                                  60));
  const test::HttpResult stale = hub.Search("防汛工作通知");
  CHECK(NodesOf(stale) == std::vector<std::string>{"east", "west"});
  CHECK(stale.json()->getObject("nodes")->getObject("west")->getValue<bool>("stale"));
  CHECK(!stale.json()->getObject("nodes")->getObject("east")->getValue<bool>("stale"));
  CHECK(hub.log().find("mirror west: cannot sync") != std::string::npos);

  // East serves a wrong byte for a new document: the sync is refused and
  // alarmed, nothing of it is kept, and searches go on.
  CHECK(hub.Stop() == 0);
  WriteFile(east.FilePath("pub", "budget.txt"), "东山乡预算公开说明。\n");
  east.WaitIdle(4);
  const std::string budget = east.FirstId("预算公开说明");
  const std::string sha = east.Get("/api/v1/documents/" + budget)
                              .json()
                              ->getArray("versions")
                              ->getObject(0)
                              ->getValue<std::string>("sha256");
  const std::string blob =
      east.root() + "/data/blobs/" + sha.substr(0, 2) + "/" + sha.substr(2, 2) + "/" + sha;
  std::filesystem::permissions(blob, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  WriteFile(blob, "东山乡预算公开说明！\n");  // same length, one character changed
  hub.Start();
  CHECK(DaemonProcess::Eventually(
      [&] {
        return hub.Get("/metrics")
                   .body.find("gongkai_hub_mirror_refused_total{node=\"east\"} 0\n") ==
               std::string::npos;
      },
      60));
  CHECK(hub.log().find("mirror east: REFUSED") != std::string::npos);
  auto east_state = MirrorOf(hub, "east");
  CHECK(east_state->getValue<bool>("stale"));
  CHECK(Total(hub.Search("预算公开说明")) == 0);
  CHECK(NodesOf(hub.Search("防汛工作通知")) == std::vector<std::string>{"east", "west"});
  const std::string status = hub.Get("/api/v1/status").body;
  CHECK(status.find("the bytes served do not match its record") != std::string::npos);
  CHECK(hub.Stop() == 0);
  CHECK(east.Stop() == 0);
}

namespace {

// The (node, id) of every document an anonymous listing shows, all pages.
std::set<std::string> Listed(const std::function<test::HttpResult(const std::string&)>& get,
                             const std::string& node) {
  std::set<std::string> out;
  for (int offset = 0;; offset += 100) {
    auto r = get("/api/v1/search?q=&limit=100&offset=" + std::to_string(offset));
    REQUIRE(r.status == 200);
    auto results = r.json()->getArray("results");
    for (unsigned i = 0; i < results->size(); ++i) {
      auto o = results->getObject(i);
      out.insert((node.empty() ? o->getValue<std::string>("node") : node) + "/" +
                 o->getValue<std::string>("id"));
    }
    if (results->size() < 100) return out;
  }
}

}  // namespace

TEST_CASE(
    "e2e hub property: across random townships and reclassifications, the hub shows exactly what "
    "the nodes show anonymously, and no restricted marker is ever found there",
    "[e2e][hub]") {
  test::PostgresServer* pg = Postgres();
  if (!pg) return;
  std::mt19937 rng(16016);
  constexpr int kNodes = 3, kDocs = 12;
  std::vector<std::unique_ptr<DaemonProcess>> nodes;
  std::map<std::string, std::string> marker_of;  // "node/path" -> its unique word
  std::string sections;
  for (int n = 0; n < kNodes; ++n) {
    auto& node = nodes.emplace_back(std::make_unique<DaemonProcess>(
        std::vector<DaemonProcess::Share>{{"pub", ""}, {"sec", "classification = restricted"}}));
    const std::string name = "town" + std::to_string(n);
    ReplaceInConfig(*node, "origin = e2e.gongkai.test\n", "origin = " + name + ".gongkai.test\n");
    for (int d = 0; d < kDocs; ++d) {
      const std::string share = rng() % 3 == 0 ? "sec" : "pub";
      const std::string marker = "QZM" + std::to_string(n) + "X" + std::to_string(d) + "QZM";
      WriteFile(node->FilePath(share, "doc" + std::to_string(d) + ".txt"),
                "乡镇文件 " + marker + " 第" + std::to_string(d) + "号。\n");
      marker_of[name + "/" + share + "/doc" + std::to_string(d) + ".txt"] = marker;
    }
    node->Start();
    node->WaitIdle(kDocs);
    WriteFile(node->root() + "/hub-token", node->inspector() + "\n");
    sections += "[node." + name + "]\nurl = http://127.0.0.1:" + std::to_string(node->port()) +
                "\nnote_key = " + NoteKey(*node) + "\ntoken_file = " + node->root() +
                "/hub-token\n\n";
  }
  HubProcess hub(pg->CreateDatabase(), sections, "sync_interval = 200ms\n");
  hub.Start();

  // Compares the hub with the nodes once it has synced their whole logs.
  auto check = [&](const std::string& round) {
    INFO(round);
    REQUIRE(DaemonProcess::Eventually([&] {
      auto status = hub.Get("/api/v1/status").json()->getObject("nodes");
      for (int n = 0; n < kNodes; ++n)
        if (status->getObject("town" + std::to_string(n))->getValue<uint64_t>("tree_size") !=
            TreeSize(*nodes[static_cast<size_t>(n)]))
          return false;
      return true;
    }));
    std::set<std::string> expected;
    for (int n = 0; n < kNodes; ++n) {
      auto& node = *nodes[static_cast<size_t>(n)];
      auto shown =
          Listed([&](const std::string& p) { return node.Get(p); }, "town" + std::to_string(n));
      expected.insert(shown.begin(), shown.end());
    }
    CHECK(Listed([&](const std::string& p) { return hub.Get(p); }, "") == expected);
    // Every marker: found at the hub exactly when its node finds it anonymously.
    for (const auto& [where, marker] : marker_of) {
      const size_t n = static_cast<size_t>(where[4] - '0');
      const int64_t at_node = Total(nodes[n]->Search(marker));
      INFO(where << " " << marker);
      CHECK(Total(hub.Search(marker)) == at_node);
    }
  };
  check("after the first sync");
  // The shards in use are those the townships' names hash to.
  // The shards' folders, and the stub for xapian-tcpsrv naming them.
  auto shard_dirs = [&] {
    std::set<std::string> out, stub;
    for (const auto& e : std::filesystem::directory_iterator(hub.FilePath("data/mirror")))
      if (e.is_directory()) out.insert(e.path().filename().string());
    std::istringstream lines(test::Slurp(hub.FilePath("data/mirror/shards.stub")));
    for (std::string type, dir; lines >> type >> dir;) stub.insert(dir);
    CHECK(stub == out);
    return out;
  };
  std::set<std::string> hashed;
  for (int n = 0; n < kNodes; ++n)
    hashed.insert(std::to_string(hub::ShardOf("town" + std::to_string(n), 8)));
  CHECK(shard_dirs() == hashed);
  // The first 8 bytes of SHA-256(name), modulo 8: a hash that changed would
  // move every township of every hub.
  CHECK(hashed == std::set<std::string>{"0", "3", "5"});

  // Random reclassifications, both ways, and a withdrawal, then again.
  for (int round = 0; round < 2; ++round) {
    for (int n = 0; n < kNodes; ++n) {
      auto& node = *nodes[static_cast<size_t>(n)];
      for (int k = 0; k < 4; ++k) {
        const int d = static_cast<int>(rng() % kDocs);
        const std::string id = node.FirstId("第" + std::to_string(d) + "号", node.inspector());
        const bool restrict = rng() % 2 == 0;
        const auto r = node.Request(
            "POST", "/api/v1/documents/" + id + "/classification", node.admin(), {},
            std::string(R"({"classification":")") + (restrict ? "restricted" : "public") + "\"}");
        CHECK((r.status == 200 || r.status == 409));  // 409: it already was
      }
      // A file deleted from its share: the document is withdrawn.
      const std::string gone = "doc" + std::to_string(rng() % kDocs) + ".txt";
      for (const std::string share : {"pub", "sec"})
        if (std::filesystem::remove(node.FilePath(share, gone))) {
          const std::string marker =
              marker_of["town" + std::to_string(n) + "/" + share + "/" + gone];
          CHECK(DaemonProcess::Eventually(
              [&] { return Total(node.Search(marker, node.inspector())) == 0; }));
        }
    }
    check("after round " + std::to_string(round + 1));
  }

  // One shard instead of 8: the townships that move are mirrored again from
  // their first record, the shards left empty are removed, and the hub
  // shows the same as before.
  CHECK(hub.Stop() == 0);
  std::string config = test::Slurp(hub.config());
  config.replace(config.find("sync_interval"), 0, "shards = 1\n");
  WriteFile(hub.config(), config);
  hub.Start();
  check("after [hub] shards changed from 8 to 1");
  CHECK(shard_dirs() == std::set<std::string>{"0"});
  CHECK(hub.log().find("mirror: removing shard") != std::string::npos);
  CHECK(hub.log().find("is no longer in shard") == std::string::npos);  // town1 stays in 0
  CHECK(hub.Stop() == 0);
  for (auto& node : nodes) CHECK(node->Stop() == 0);
}

namespace {

// A township that lies: an HTTP server on loopback that signs its own small
// log with its own key and serves it as a node would, or, by `mode`, wrongly.
// Its handlers assert nothing (Catch2 is not thread-safe).
class HostileNode {
 public:
  enum Mode { kHonest, kOtherKey, kWrongSeq, kTruncated, kGiantTile, kTrickle, kWrongBytes };

  // Every HostileNode's records name the same documents (hostiledoc1 and 2).
  // It answers on `socket`, https:// when that is a SecureServerSocket.
  explicit HostileNode(std::string origin = "hostile.gongkai.test",
                       const Poco::Net::ServerSocket& socket =
                           Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)),
                       std::string scheme = "http", std::string host = "127.0.0.1")
      : origin_(std::move(origin)),
        scheme_(std::move(scheme)),
        host_(std::move(host)),
        socket_(socket),
        key_(std::move(*storage::SigningKey::Generate())),
        other_(std::move(*storage::SigningKey::Generate())) {
    content_ = "敌意节点的公告 QZHOSTILE 正文。\n";
    storage::RecordFields r;
    r.seq = 0;
    r.doc = "hostiledoc1";
    r.share = "pub";
    r.path = "notice.txt";
    r.version = 1;
    r.sha256 = storage::Hex(storage::Sha256Of(content_));
    r.size = content_.size();
    r.time = r.modified = "2026-12-01T00:00:00Z";
    r.key = key_->KeyId();
    records_.push_back(storage::SerializeRecord(r));
    r.seq = 1;
    r.doc = "hostiledoc2";
    r.path = "second.txt";
    records_.push_back(storage::SerializeRecord(r));
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(4);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(this), socket_, params);
    server_->start();
  }
  ~HostileNode() { server_->stopAll(true); }

  std::string url() const {
    return scheme_ + "://" + host_ + ":" + std::to_string(socket_.address().port());
  }
  std::string note_key() const { return storage::NoteVerifierKey(origin_, key_->RawPublic()); }
  void set(Mode m) { mode_ = m; }

 private:
  struct Factory : Poco::Net::HTTPRequestHandlerFactory {
    explicit Factory(HostileNode* n) : node(n) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(node);
    }
    HostileNode* node;
  };
  struct Handler : Poco::Net::HTTPRequestHandler {
    explicit Handler(HostileNode* n) : node(n) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req,
                       Poco::Net::HTTPServerResponse& resp) override {
      node->Serve(Poco::URI(req.getURI()).getPath(), resp);
    }
    HostileNode* node;
  };

  std::string Checkpoint() const {
    storage::StreamingTree tree;
    for (const std::string& r : records_) tree.Append(storage::LeafHash(r));
    return storage::SignCheckpoint({origin_, tree.size(), tree.Root()},
                                   mode_ == kOtherKey ? *other_ : *key_);
  }

  void Serve(const std::string& path, Poco::Net::HTTPServerResponse& resp) {
    std::string body;
    const Mode mode = mode_;
    if (path == "/tlog/checkpoint") {
      body = Checkpoint();
    } else if (path.rfind("/tlog/tile/entries/", 0) == 0) {
      for (size_t i = 0; i < records_.size(); ++i) {
        std::string r = records_[i];
        if (mode == kWrongSeq && i == 1) r.replace(r.find("\"seq\":1"), 7, "\"seq\":0");
        body += static_cast<char>(r.size() >> 8);
        body += static_cast<char>(r.size() & 0xFF);
        body += r;
      }
      if (mode == kTruncated) body.resize(body.size() - 5);
      if (mode == kGiantTile) {  // claims a tile far larger than any bundle
        resp.setContentLength64(Poco::UInt64{1} << 32);
        resp.send() << body;
        return;
      }
      if (mode == kTrickle) {
        resp.setContentLength(static_cast<std::streamsize>(body.size()));
        std::ostream& out = resp.send();
        for (char c : body) {
          out << c << std::flush;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          if (!out) return;
        }
        return;
      }
    } else if (path.rfind("/api/v1/documents/", 0) == 0 &&
               path.find("/content") != std::string::npos) {
      body = content_;
      if (mode == kWrongBytes) body[3] = 'X';
    } else if (path.rfind("/api/v1/documents/", 0) == 0) {
      body =
          R"({"id":"x","office":"敌意乡","meta":{"title":"公告"},"versions":[{"version":1,"sha256":")" +
          storage::Hex(storage::Sha256Of(content_)) + "\"}]}";
    } else {
      resp.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
    }
    resp.setContentLength(static_cast<std::streamsize>(body.size()));
    resp.send() << body;
  }

  std::string origin_, scheme_, host_;
  Poco::Net::ServerSocket socket_;
  std::unique_ptr<storage::SigningKey> key_, other_;
  std::string content_;
  std::vector<std::string> records_;
  std::atomic<Mode> mode_{kHonest};
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace

TEST_CASE(
    "e2e hub: a hostile node (another key, wrong seq, short bundle, giant or trickled tile, wrong "
    "bytes) is refused at a bounded cost, and the hub keeps answering",
    "[e2e][hub]") {
  test::PostgresServer* pg = Postgres();
  if (!pg) return;
  HostileNode evil;
  evil.set(HostileNode::kOtherKey);
  // An honest twin whose documents have the same ids as evil's, in the same
  // shard: whatever evil serves never touches them.
  HostileNode twin("twin.gongkai.test");
  HubProcess hub(pg->CreateDatabase(),
                 "[node.evil]\nurl = " + evil.url() + "\nnote_key = " + evil.note_key() +
                     "\n[node.twin]\nurl = " + twin.url() + "\nnote_key = " + twin.note_key() +
                     "\n",
                 "sync_interval = 200ms\nsync_timeout = 2s\nshards = 1\n");
  hub.Start();
  const std::vector<std::string> twins_only = {"twin", "twin"};
  REQUIRE(
      DaemonProcess::Eventually([&] { return NodesOf(hub.Search("QZHOSTILE")) == twins_only; }));
  // Waits until the node's last sync failed with `problem` in its message.
  auto refused = [&](const std::string& problem) {
    const bool seen = DaemonProcess::Eventually([&] {
      auto m = MirrorOf(hub, "evil");
      return m->getValue<bool>("stale") &&
             m->getValue<std::string>("problem").find(problem) != std::string::npos;
    });
    INFO(MirrorOf(hub, "evil")->getValue<std::string>("problem"));
    CHECK(seen);
    CHECK(NodesOf(hub.Search("QZHOSTILE")) == twins_only);  // nothing of evil in the index
    CHECK(MirrorOf(hub, "evil")->getValue<uint64_t>("tree_size") == 0);
  };
  refused("does not verify under its note_key");
  evil.set(HostileNode::kWrongSeq);
  refused("says it is record 0");
  evil.set(HostileNode::kTruncated);
  refused("the bundle ends early");
  evil.set(HostileNode::kGiantTile);
  refused("more than the");
  evil.set(HostileNode::kWrongBytes);
  refused("the bytes served do not match its record");
  evil.set(HostileNode::kTrickle);
  const auto start = std::chrono::steady_clock::now();
  refused("within");  // cut off by sync_timeout (2 s), not left hanging
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
  const std::string metrics = hub.Get("/metrics").body;
  CHECK(metrics.find("gongkai_hub_mirror_refused_total{node=\"evil\"} 0\n") == std::string::npos);
  CHECK(metrics.find("gongkai_hub_mirror_stale{node=\"evil\"} 1\n") != std::string::npos);
  // Honest again: its documents arrive.
  evil.set(HostileNode::kHonest);
  CHECK(DaemonProcess::Eventually([&] { return Total(hub.Search("QZHOSTILE")) == 4; }));
  CHECK(NodesOf(hub.Search("QZHOSTILE")) ==
        std::vector<std::string>{"evil", "evil", "twin", "twin"});
  CHECK(!MirrorOf(hub, "evil")->getValue<bool>("stale"));
  CHECK(MirrorOf(hub, "evil")->getValue<uint64_t>("tree_size") == 2);
  CHECK(hub.Stop() == 0);
}

TEST_CASE(
    "e2e hub: an https:// node is mirrored when its certificate chains to [hub] ca_file, and "
    "refused when not",
    "[e2e][hub]") {
  test::PostgresServer* pg = Postgres();
  if (!pg) return;
  test::TempDir certs;
  if (!test::MakeCertificate(certs, "county", "localhost", "DNS:localhost") ||
      !test::MakeCertificate(certs, "rogue", "localhost", "DNS:localhost")) {
    WARN("skipped: the openssl program cannot make test certificates");
    return;
  }
  // Both answer for "localhost"; only the county's certificate is trusted.
  HostileNode trusted("trusted.gongkai.test", test::TlsSocket(certs, "county"), "https",
                      "localhost");
  HostileNode rogue("rogue.gongkai.test", test::TlsSocket(certs, "rogue"), "https", "localhost");
  HubProcess hub(pg->CreateDatabase(),
                 "[node.trusted]\nurl = " + trusted.url() + "\nnote_key = " + trusted.note_key() +
                     "\n[node.rogue]\nurl = " + rogue.url() + "\nnote_key = " + rogue.note_key() +
                     "\n",
                 "sync_interval = 200ms\nca_file = " + certs / "county.pem" + "\n");
  hub.Start();
  REQUIRE(DaemonProcess::Eventually([&] {
    return NodesOf(hub.Search("QZHOSTILE")) == std::vector<std::string>{"trusted", "trusted"};
  }));
  CHECK(MirrorOf(hub, "trusted")->getValue<uint64_t>("tree_size") == 2);
  CHECK(!MirrorOf(hub, "trusted")->getValue<bool>("stale"));
  auto rogue_state = MirrorOf(hub, "rogue");
  INFO(rogue_state->getValue<std::string>("problem"));
  CHECK(rogue_state->getValue<bool>("stale"));
  CHECK(rogue_state->getValue<std::string>("problem").find("certificate verify failed") !=
        std::string::npos);
  CHECK(rogue_state->getValue<uint64_t>("tree_size") == 0);
  CHECK(hub.Stop() == 0);
}

namespace {

// A program the test runs, its output appended to `log`; stopped with it.
// In a process group of its own: xapian-tcpsrv ends its group on SIGTERM.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& log) {
    std::vector<char*> args;  // before fork(): the child of a threaded process must not allocate
    args.reserve(argv.size() + 1);
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Child() { Stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  int Stop() { return test::StopProcess(&pid_); }
  void Signal(int sig) { ::kill(pid_, sig); }

 private:
  pid_t pid_ = -1;
};

uint16_t FreePort() {
  Poco::Net::ServerSocket probe(Poco::Net::SocketAddress("127.0.0.1", 0));
  return probe.address().port();
}

bool Listening(uint16_t port) {
  return DaemonProcess::Eventually(
      [&] {
        try {
          Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", port));
          return true;
        } catch (const Poco::Exception&) {
          return false;
        }
      },
      30);
}

// xapian-tcpsrv on 127.0.0.1:`port`, serving the databases `stub` names.
std::unique_ptr<Child> ServeShards(uint16_t port, const std::string& stub, const std::string& log) {
  auto child = std::make_unique<Child>(
      std::vector<std::string>{"xapian-tcpsrv", "--quiet", "--interface", "127.0.0.1", "--port",
                               std::to_string(port), stub},
      log);
  REQUIRE(Listening(port));
  return child;
}

std::vector<std::string> Missing(const test::HttpResult& r) {
  if (r.status != 200) return {"HTTP " + std::to_string(r.status)};
  std::vector<std::string> out;
  auto missing = r.json()->getArray("missing");
  for (unsigned i = 0; i < missing->size(); ++i) out.push_back(missing->getElement<std::string>(i));
  return out;
}

std::string Serving(const test::HttpResult& r, const std::string& machine) {
  auto m = r.json()->getObject("machines")->getObject(machine);
  return m->isNull("serving") ? "" : m->getValue<std::string>("serving");
}

}  // namespace

TEST_CASE(
    "e2e hub: a front hub searches two hub machines' shards through xapian-tcpsrv, a machine "
    "that is down or slow leaves out only its townships, and a replica stands in for it",
    "[e2e][hub]") {
  test::PostgresServer* pg = Postgres();
  if (!pg) return;
  if (test::RunCommand("command -v xapian-tcpsrv xapian-replicate xapian-replicate-server")
          .out.empty()) {
    WARN("SKIPPED: needs xapian-tools (xapian-tcpsrv, xapian-replicate)");
    return;
  }
  HostileNode east("east.gongkai.test"), west("west.gongkai.test");  // honest townships
  auto node = [](const std::string& name, const HostileNode& n) {
    return "[node." + name + "]\nurl = " + n.url() + "\nnote_key = " + n.note_key() + "\n";
  };
  // Machine b mirrors East, machine c West.
  HubProcess b(pg->CreateDatabase(), node("east", east), "sync_interval = 200ms\n");
  HubProcess c(pg->CreateDatabase(), node("west", west), "sync_interval = 200ms\n");
  b.Start();
  c.Start();
  REQUIRE(DaemonProcess::Eventually(
      [&] { return Total(b.Search("QZHOSTILE")) == 2 && Total(c.Search("QZHOSTILE")) == 2; }));
  const uint16_t b_port = FreePort(), c_port = FreePort(), replica_port = FreePort();
  const std::string logs = b.FilePath("servers.log");
  auto b_shards = ServeShards(b_port, b.FilePath("data/mirror/shards.stub"), logs);
  auto c_shards = ServeShards(c_port, c.FilePath("data/mirror/shards.stub"), logs);
  auto machine = [](const std::string& name, uint16_t shards, HubProcess& hub,
                    const std::string& extra) {
    return "[machine." + name + "]\nshards = 127.0.0.1:" + std::to_string(shards) +
           "\nurl = http://127.0.0.1:" + std::to_string(hub.port()) + "\ntimeout = 2s\n" + extra;
  };
  // The front holds no township itself.
  HubProcess front(pg->CreateDatabase(),
                   machine("b", b_port, b, "replica = 127.0.0.1:" + std::to_string(replica_port)) +
                       "\n" + machine("c", c_port, c, ""),
                   "sync_interval = 200ms\n");
  front.Start();

  // Both machines' townships, in one search ranked as one database.
  const std::vector<std::string> all = {"east", "east", "west", "west"};
  const bool found =
      DaemonProcess::Eventually([&] { return NodesOf(front.Search("QZHOSTILE")) == all; });
  INFO(front.log());
  REQUIRE(found);
  test::HttpResult r = front.Search("QZHOSTILE");
  REQUIRE(r.status == 200);
  CHECK(Missing(r).empty());
  CHECK(Serving(r, "b") == "shards");
  CHECK(Serving(r, "c") == "shards");
  auto results = r.json()->getArray("results");
  for (unsigned i = 0; i < results->size(); ++i) {  // the node's own ids and snippets
    const std::string id = results->getObject(i)->getValue<std::string>("id");
    CHECK((id == "hostiledoc1" || id == "hostiledoc2"));
    CHECK(results->getObject(i)->getValue<std::string>("snippet").find("<b>") != std::string::npos);
  }
  auto east_state = r.json()->getObject("nodes")->getObject("east");
  CHECK(east_state->getValue<std::string>("machine") == "b");
  CHECK(east_state->getValue<uint64_t>("tree_size") == 2);
  CHECK(!east_state->getValue<bool>("missing"));
  CHECK(Total(front.Search("")) == 4);

  // Machine c's xapian-tcpsrv stops: the very next search answers without
  // West, and says so.
  REQUIRE(c_shards->Stop() == 0);
  r = front.Search("QZHOSTILE");
  REQUIRE(r.status == 200);
  CHECK(NodesOf(r) == std::vector<std::string>{"east", "east"});
  CHECK(Missing(r) == std::vector<std::string>{"west"});
  CHECK(Serving(r, "c").empty());
  CHECK(r.json()->getObject("nodes")->getObject("west")->getValue<bool>("missing"));
  CHECK(r.json()
            ->getObject("machines")
            ->getObject("c")
            ->getValue<std::string>("problem")
            .find(std::to_string(c_port)) != std::string::npos);
  CHECK(front.log().find("machine c: its townships are left out of searches") != std::string::npos);

  // A replica of machine b: xapian-replicate copies each of b's shards (the
  // stub names them) from xapian-replicate-server, and a xapian-tcpsrv of
  // its own serves the copy.
  const uint16_t replication_port = FreePort();
  Child replication({"xapian-replicate-server", "-I", "127.0.0.1", "-p",
                     std::to_string(replication_port), b.FilePath("data/mirror")},
                    logs);
  REQUIRE(Listening(replication_port));
  const std::string replica = b.FilePath("replica");
  std::filesystem::create_directories(replica);
  const std::string stub = test::Slurp(b.FilePath("data/mirror/shards.stub"));
  std::istringstream lines(stub);
  for (std::string type, shard; lines >> type >> shard;)
    REQUIRE(test::RunCommand("xapian-replicate -q -o -h 127.0.0.1 -p " +
                             std::to_string(replication_port) + " -m " + shard + " " + replica +
                             "/" + shard)
                .exit_code == 0);
  WriteFile(replica + "/shards.stub", stub);
  auto b_replica = ServeShards(replica_port, replica + "/shards.stub", logs);
  REQUIRE(b_shards->Stop() == 0);
  r = front.Search("QZHOSTILE");
  REQUIRE(r.status == 200);
  CHECK(NodesOf(r) == std::vector<std::string>{"east", "east"});
  CHECK(Serving(r, "b") == "replica");
  CHECK(Missing(r) == std::vector<std::string>{"west"});

  // Machine c back: West returns at a probe.
  c_shards = ServeShards(c_port, c.FilePath("data/mirror/shards.stub"), logs);
  CHECK(DaemonProcess::Eventually([&] { return NodesOf(front.Search("QZHOSTILE")) == all; }));
  CHECK(Missing(front.Search("QZHOSTILE")).empty());

  // Machine c hangs (stopped, so its kernel still accepts connections): the
  // search waits for c's timeout (2 s), not for ever, and leaves West out.
  c_shards->Signal(SIGSTOP);
  const auto start = std::chrono::steady_clock::now();
  r = front.Search("QZHOSTILE");
  const auto took = std::chrono::steady_clock::now() - start;
  c_shards->Signal(SIGCONT);
  REQUIRE(r.status == 200);
  CHECK(NodesOf(r) == std::vector<std::string>{"east", "east"});
  CHECK(Missing(r) == std::vector<std::string>{"west"});
  CHECK(took < std::chrono::seconds(20));
  CHECK(front.Stop() == 0);
}

TEST_CASE(
    "hub machines: a township held by this hub and by a machine is reported, not searched "
    "twice silently",
    "[hub]") {
  // The machine's hub, as its /api/v1/status answers: East and North.
  struct Status : Poco::Net::HTTPRequestHandler {
    void handleRequest(Poco::Net::HTTPServerRequest&,
                       Poco::Net::HTTPServerResponse& resp) override {
      const std::string body = R"({"nodes":{"east":{"tree_size":2,"synced":null,"stale":false},)"
                               R"("north":{"tree_size":1,"synced":null,"stale":false}}})";
      resp.setContentLength(static_cast<std::streamsize>(body.size()));
      resp.send() << body;
    }
  };
  struct Factory : Poco::Net::HTTPRequestHandlerFactory {
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Status;
    }
  };
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  Poco::Net::HTTPServer server(new Factory, socket, new Poco::Net::HTTPServerParams);
  server.start();
  HubConfig config;
  config.nodes.push_back(HubNodeConfig{.name = "east"});  // this hub holds East too
  HubMachineConfig machine;
  machine.name = "b";
  machine.shards_host = "127.0.0.1";
  machine.shards_port = FreePort();  // nothing listens: its townships are left out
  machine.url = "http://127.0.0.1:" + std::to_string(socket.address().port());
  config.machines.push_back(machine);
  hub::Machines machines(config, {});
  machines.Probe();
  const auto statuses = machines.Statuses();
  REQUIRE(statuses.size() == 1);
  CHECK(statuses[0].nodes.size() == 2);
  INFO(statuses[0].problem);
  CHECK(statuses[0].problem.find("shards 127.0.0.1:") == 0);  // why its shards are left out
  CHECK(statuses[0].problem.find(
            "holds townships held elsewhere, found twice in searches: east (also on this hub)") !=
        std::string::npos);
  CHECK(statuses[0].problem.find("north") == std::string::npos);
  server.stop();
}
