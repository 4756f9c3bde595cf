// gongkai-hub: the county's service above its townships' gongkai nodes
// (CONTRACT.md section 10). It is their witness: it cosigns each node's
// checkpoints when they are consistent with the last one it cosigned
// (C2SP tlog-witness), and raises a split-view alarm when they are not. And
// it is their mirror (mirror.h): a verified copy of their public documents,
// searched as one.
//
// Thread-safety: Open() and Start() run on the main thread; the HTTP threads
// then call the const-only views, the Witness, which is thread-safe through
// its store, and the Mirror's searches and statuses.
#pragma once

#include <signal.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth.h"
#include "gongkai/config.h"
#include "gongkai/status.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/witness.h"
#include "http_server.h"
#include "machines.h"
#include "mirror.h"

namespace gongkai::hub {

// Seconds since the epoch, now: the witness's clock and the hub's times.
int64_t PosixNow();

class Hub {
 public:
  explicit Hub(HubConfig config);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // The data folder, the witness key (DATA/witness.pem, made on first start,
  // mode 0600), the nodes' log keys and the PostgreSQL catalog.
  Status Open();
  // Listens; `port()` is the bound port afterwards.
  Status Start();
  // Tells systemd it is ready (and pings its watchdog), takes signals until
  // SIGTERM or SIGINT, then stops.
  int Run(const sigset_t& signals);
  void Stop();
  uint16_t port() const { return listener_.port(); }

  // What the HTTP handlers use.
  const HubConfig& config() const { return config_; }
  storage::Witness& witness() { return *witness_; }
  storage::WitnessStore& store() { return *store_; }
  Mirror& mirror() { return *mirror_; }
  // The other hub machines this one searches with its mirror; null if none.
  Machines* machines() { return machines_.get(); }
  const daemon::TokenStore& tokens() const { return tokens_; }
  // config().nodes[i]'s log origin, and the witness's own verifier key.
  const std::string& OriginOf(size_t i) const { return logs_[i].origin; }
  const storage::VerifierKey& witness_key() const { return witness_key_; }
  // The node whose log has `origin` ("" if none).
  std::string NodeOf(const std::string& origin) const;
  // Counts add-checkpoint answers per node and status, for /metrics.
  void CountWitnessAnswer(const std::string& node, int status);
  std::map<std::pair<std::string, int>, uint64_t> WitnessAnswers() const;

 private:
  HubConfig config_;
  std::unique_ptr<storage::SigningKey> key_;
  std::unique_ptr<storage::WitnessStore> store_;
  std::unique_ptr<storage::Witness> witness_;
  storage::VerifierKey witness_key_;
  std::vector<storage::WitnessedLog> logs_;  // config_.nodes[i]'s
  std::map<std::string, std::string> node_of_origin_;
  // machines_ before mirror_: the mirror's sync threads, which end with it,
  // call machines_->Invalidate().
  std::unique_ptr<Machines> machines_;
  std::unique_ptr<Mirror> mirror_;
  daemon::TokenStore tokens_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> answers_;
  daemon::HttpListener listener_;
};

}  // namespace gongkai::hub
