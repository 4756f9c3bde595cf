// The county tier end to end: real gongkaid nodes push their checkpoints to
// a real gongkai-hub (C2SP tlog-witness) on loopback; its state is in a real
// PostgreSQL server (support/postgres_server.h).
#include <Poco/Net/ServerSocket.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/witness.h"
#include "support/daemon_process.h"
#include "support/hub_process.h"
#include "support/postgres_server.h"

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
  std::string why;
  test::PostgresServer* pg = test::PostgresServer::Shared(&why);
  if (!pg) {
    WARN("SKIPPED: needs PostgreSQL for the hub: " << why);
    return;
  }
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
