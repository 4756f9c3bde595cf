// gongkai-hub: the county's service above its townships' gongkai nodes
// (CONTRACT.md section 10). This part is the witness: it cosigns each node's
// checkpoints when they are consistent with the last one it cosigned
// (C2SP tlog-witness), and raises a split-view alarm when they are not.
//
// Thread-safety: Open() and Start() run on the main thread; the HTTP threads
// then call the const-only views and the Witness, which is thread-safe
// through its store.
#pragma once

#include <signal.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "gongkai/config.h"
#include "gongkai/status.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/witness.h"
#include "http_server.h"

namespace gongkai::hub {

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
  std::map<std::string, std::string> node_of_origin_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> answers_;
  daemon::HttpListener listener_;
};

}  // namespace gongkai::hub
