#include "hub.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "gongkai/log.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/env.h"
#include "http_hub.h"
#include "http_server.h"

namespace gongkai::hub {
namespace {

// Reads DATA/witness.pem, or makes it: a new Ed25519 key written to a
// temporary file (0600), synced, and renamed into place.
Result<std::unique_ptr<storage::SigningKey>> LoadOrCreateWitnessKey(const std::string& data_dir) {
  storage::Env* env = storage::Env::Default();
  const std::string path = data_dir + "/witness.pem";
  if (env->FileExists(path)) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream pem;
    pem << in.rdbuf();
    if (!in) return Status::IOError("cannot read the witness key " + path);
    auto key = storage::SigningKey::FromPem(pem.str());
    if (!key.ok()) return Status::Corruption("witness key " + path + ": " + key.status().message());
    return key;
  }
  auto key = storage::SigningKey::Generate();
  if (!key.ok()) return key;
  const std::string pem = (*key)->PrivatePem();
  auto file = env->NewWritableFile(path + ".tmp", 0600);
  if (!file.ok()) return file.status();
  for (Status s : {(*file)->Append(pem.data(), pem.size()), (*file)->Sync(), (*file)->Close(),
                   env->Rename(path + ".tmp", path), env->SyncDir(data_dir)})
    if (!s.ok()) return s;
  log::Info("made a new witness key " + path);
  return key;
}

int64_t PosixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Hub::Hub(HubConfig config) : config_(std::move(config)) {}
Hub::~Hub() { Stop(); }

Status Hub::Open() {
  if (Status s = storage::Env::Default()->CreateDirs(config_.data_dir, 0700); !s.ok()) return s;
  auto key = LoadOrCreateWitnessKey(config_.data_dir);
  if (!key.ok()) return key.status();
  key_ = std::move(*key);
  std::vector<storage::WitnessedLog> logs;
  for (const HubNodeConfig& node : config_.nodes) {
    auto vkey = storage::ParseVerifierKey(node.note_key);
    if (!vkey.ok() || vkey->type != storage::kNoteKeyEd25519)
      return Status::Invalid(
          config_.file + ": [node." + node.name +
          "] note_key: " + (vkey.ok() ? "a cosigner key, not a log key" : vkey.status().message()));
    if (node_of_origin_.count(vkey->name))
      return Status::Invalid(config_.file + ": [node." + node.name + "] note_key: origin '" +
                             vkey->name + "' is node " + node_of_origin_[vkey->name] + "'s too");
    node_of_origin_[vkey->name] = node.name;
    logs.push_back({vkey->name, vkey->raw_public});
  }
  auto store = storage::OpenPostgresWitnessStore(config_.postgres);
  if (!store.ok()) return Status::IOError("[hub] postgres: " + store.status().message());
  store_ = std::move(*store);
  witness_ = std::make_unique<storage::Witness>(config_.witness_name, key_.get(), std::move(logs),
                                                store_.get(), PosixNow);
  log::Info("witness " + witness_->VerifierKey() + " for " + std::to_string(config_.nodes.size()) +
            " node(s)");
  return Status::OK();
}

Status Hub::Start() {
  try {
    Poco::Net::ServerSocket socket(
        Poco::Net::SocketAddress(config_.listen_host, config_.listen_port), 128);
    port_ = socket.address().port();
    const int threads = config_.http_threads;
    pool_ = std::make_unique<Poco::ThreadPool>(std::min(threads, 4), threads, 60);
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(threads);
    params->setMaxQueued(256);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(5, 0));
    params->setTimeout(Poco::Timespan(10, 0));
    params->setServerName("gongkai-hub");
    server_ = std::make_unique<daemon::GuardedHttpServer>(
        NewHubHandlerFactory(this), *pool_, socket, params, daemon::GuardedHttpServer::Limits{});
    server_->Start();
  } catch (const Poco::Exception& e) {
    return Status::IOError("[hub] listen: cannot listen on " + config_.listen_host + ":" +
                           std::to_string(config_.listen_port) + ": " + e.displayText());
  }
  log::Info("listening on http://" + config_.listen_host + ":" + std::to_string(port_));
  return Status::OK();
}

int Hub::Run(const sigset_t& signals) {
  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig != SIGTERM && sig != SIGINT) {
  }
  log::Info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
  Stop();
  log::Info("stopped");
  return 0;
}

void Hub::Stop() {
  if (server_) {
    server_->Stop();
    server_.reset();
  }
  if (pool_) {
    pool_->joinAll();
    pool_.reset();
  }
}

std::string Hub::NodeOf(const std::string& origin) const {
  auto it = node_of_origin_.find(origin);
  return it == node_of_origin_.end() ? "" : it->second;
}

void Hub::CountWitnessAnswer(const std::string& node, int status) {
  std::lock_guard lock(mu_);
  ++answers_[{node, status}];
}

std::map<std::pair<std::string, int>, uint64_t> Hub::WitnessAnswers() const {
  std::lock_guard lock(mu_);
  return answers_;
}

}  // namespace gongkai::hub
