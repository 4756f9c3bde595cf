#include "hub.h"

#include <chrono>

#include "gongkai/log.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/env.h"
#include "http_hub.h"
#include "http_server.h"
#include "notify.h"

namespace gongkai::hub {
namespace {

// Reads DATA/witness.pem, or makes it (a new Ed25519 key, mode 0600,
// written atomically).
Result<std::unique_ptr<storage::SigningKey>> LoadOrCreateWitnessKey(const std::string& data_dir) {
  storage::Env* env = storage::Env::Default();
  const std::string path = data_dir + "/witness.pem";
  if (env->FileExists(path)) {
    auto pem = storage::ReadFile(path);
    if (!pem.ok()) return pem.status();
    auto key = storage::SigningKey::FromPem(*pem);
    if (!key.ok()) return Status::Corruption("witness key " + path + ": " + key.status().message());
    return key;
  }
  auto key = storage::SigningKey::Generate();
  if (!key.ok()) return key;
  if (Status s = storage::WriteFileAtomically(env, path, (*key)->PrivatePem(), 0600); !s.ok())
    return s;
  log::Info("made a new witness key " + path);
  return key;
}

}  // namespace

int64_t PosixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Hub::Hub(HubConfig config) : config_(std::move(config)) {}
Hub::~Hub() { Stop(); }

Status Hub::Open() {
  if (Status s = storage::Env::Default()->CreateDirs(config_.data_dir, 0700); !s.ok()) return s;
  auto key = LoadOrCreateWitnessKey(config_.data_dir);
  if (!key.ok()) return key.status();
  key_ = std::move(*key);
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
    logs_.push_back({vkey->name, vkey->raw_public});
  }
  auto store = storage::OpenPostgresWitnessStore(config_.postgres);
  if (!store.ok()) return Status::IOError("[hub] postgres: " + store.status().message());
  store_ = std::move(*store);
  witness_ = std::make_unique<storage::Witness>(config_.witness_name, key_.get(), logs_,
                                                store_.get(), PosixNow);
  auto witness_key = storage::ParseVerifierKey(witness_->VerifierKey());
  if (!witness_key.ok()) return witness_key.status();
  witness_key_ = std::move(*witness_key);
  if (Status s = tokens_.Load(config_.tokens_file); !s.ok()) return s;
  mirror_ = std::make_unique<Mirror>(config_, logs_, store_.get());
  if (Status s = mirror_->Open(); !s.ok()) return s;
  if (!config_.machines.empty()) {
    machines_ = std::make_unique<Machines>(config_, mirror_->ShardDirs());
    mirror_->OnCommit([machines = machines_.get()] { machines->Invalidate(); });
  }
  log::Info("witness " + witness_->VerifierKey() + " for " + std::to_string(config_.nodes.size()) +
            " node(s)");
  return Status::OK();
}

Status Hub::Start() {
  Status s = listener_.Start(config_.listen_host, config_.listen_port, config_.http_threads,
                             NewHubHandlerFactory(this), daemon::GuardedHttpServer::Limits{},
                             "gongkai-hub", "[hub] listen");
  if (!s.ok()) return s;
  log::Info("listening on http://" + config_.listen_host + ":" + std::to_string(port()));
  mirror_->Start();
  if (machines_) machines_->Start();
  return s;
}

int Hub::Run(const sigset_t& signals) {
  daemon::ServiceNotifier notifier;
  notifier.Ready("witness for " + std::to_string(config_.nodes.size()) + " node(s) on port " +
                 std::to_string(port()));
  int sig = 0;
  while (sig != SIGTERM && sig != SIGINT) {
    const auto wait =
        notifier.MaxWait(daemon::ServiceNotifier::Clock::now(), std::chrono::seconds(1));
    const struct timespec tick {
      static_cast<time_t>(wait.count() / 1000), static_cast<long>(wait.count() % 1000) * 1000000
    };
    sig = sigtimedwait(&signals, nullptr, &tick);
    notifier.KeepAlive(daemon::ServiceNotifier::Clock::now());
  }
  notifier.Stopping();
  log::Info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
  Stop();
  log::Info("stopped");
  return 0;
}

void Hub::Stop() {
  listener_.Stop();
  if (machines_) machines_->Stop();
  if (mirror_) mirror_->Stop();
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
