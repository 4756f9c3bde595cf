// The other hub machines a front hub searches together with its own mirror
// ([machine.NAME]), when one machine cannot hold a county's townships.
//
// Each machine is a gongkai-hub mirroring some of the townships; an
// xapian-tcpsrv on it serves its shards (DATA/mirror/shards.stub, which
// Mirror::Open writes) to the front over Xapian's remote backend, in the
// room's own network. A front search opens the local shards and every
// machine that answers as one database (global ranking). A replica (a copy
// kept by xapian-replicate, served by its own xapian-tcpsrv) stands in for a
// machine that does not answer.
//
// Guarantees:
// - A machine that is down, or slower than its [machine.NAME] timeout, never
//   fails a search: a search that fails is retried once without the machines
//   a probe finds down, and the answer names the townships it leaves out
//   (those the machine's hub listed when it last answered). A machine that
//   hangs costs a search about twice its timeout (the search, the probe).
// - Connections to a machine are bounded by connect_timeout and each exchange
//   by timeout; its hub's status by http_client.h's bounds.
// - The machines serve only their mirrors, which hold public documents only.
// - A township that this hub or an earlier [machine.NAME] holds too (its
//   documents would be found twice) is named in that machine's problem and
//   logged as a warning, once until it changes.
//
// Thread-safety: Start() and Stop() on the main thread; Search() and
// Statuses() from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gongkai/config.h"
#include "gongkai/indexer/index.h"
#include "gongkai/status.h"

namespace gongkai::hub {

// A township held by another machine, as its hub's /api/v1/status last said.
struct RemoteNode {
  std::string name;
  uint64_t tree_size = 0;
  std::string synced;  // as that hub wrote it, "" for never
  bool stale = true;
};

struct MachineStatus {
  std::string name;
  // What the front searches of it: "shards", "replica" or "" (neither
  // answers: its townships are missing from searches).
  std::string serving;
  std::string problem;            // why the last probe failed, "" if it did not
  std::vector<RemoteNode> nodes;  // as of the last answer of its hub
};

class Machines {
 public:
  // `local_dirs`: the front's own mirror shards. `config` must outlive this.
  Machines(const HubConfig& config, std::vector<std::string> local_dirs);
  ~Machines();
  Machines(const Machines&) = delete;
  Machines& operator=(const Machines&) = delete;

  // Probes every machine, at once and then every [hub] sync_interval (at
  // most 10 s), on a thread of its own. Until the first probe, searches
  // leave every machine out.
  void Start();
  void Stop();
  // Probes every machine: its shards, else its replica; and, with
  // `statuses`, its hub's status.
  void Probe(bool statuses = true);

  struct Answer {
    indexer::SearchResult result;         // each hit with its node's own id
    std::vector<MachineStatus> machines;  // as searched
  };
  Result<Answer> Search(const indexer::SearchQuery& query);
  std::vector<MachineStatus> Statuses() const;
  // The local shards changed (Mirror::OnCommit): searches from now on see it.
  void Invalidate();

 private:
  struct Machine;
  // The searcher over the local shards and what each machine serves now.
  std::pair<std::shared_ptr<indexer::Searcher>, std::vector<MachineStatus>> Current();
  void Loop();

  const HubConfig& config_;
  const std::vector<std::string> local_dirs_;
  std::vector<std::unique_ptr<Machine>> machines_;
  std::mutex probe_mu_;    // one probe of the Xapian servers at a time
  mutable std::mutex mu_;  // the machines' state and the searcher
  std::string searcher_key_;
  std::shared_ptr<indexer::Searcher> searcher_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;  // under wake_mu_
  std::thread thread_;
};

}  // namespace gongkai::hub
