// Pushes the log's checkpoints to the witnesses named in [log] witnesses
// (C2SP tlog-witness add-checkpoint) and keeps the cosignatures they return,
// so that /tlog/checkpoint and the proofs carry them (CONTRACT.md section 10).
//
// Guarantees:
// - Archiving never waits for a witness: pushes run on a thread of their own,
//   with 10 s timeouts; a witness that is down, slow or refusing is retried
//   with a growing pause (5 s up to 10 min) and logged when its state changes,
//   not at every attempt.
// - Only note signature lines ("— name base64") are kept from an answer, at
//   most 16 of at most 1 KiB each, and only for the checkpoint they answered;
//   with [log] witness_keys, only those that verify under one of the keys.
// - A witness that holds a larger tree than the log, or refuses a checkpoint
//   as inconsistent (422), is logged as an error: the log was rolled back or
//   forked, and an inspector must look.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gongkai/storage/catalog.h"
#include "gongkai/storage/checkpoint.h"

namespace gongkai::daemon {

class CatalogPool;

class WitnessClient {
 public:
  // `urls` are tlog-witness submission prefixes (http[s]://host[:port]/path);
  // an https:// witness must show a certificate chained to `ca_file` (the
  // system's CAs when empty). With `keys`, only cosignatures that verify
  // under one of them are kept (an answer without one is a failure);
  // without, every signature line a witness answers with is. `catalogs`
  // must outlive the client.
  WitnessClient(std::vector<std::string> urls, std::vector<storage::VerifierKey> keys,
                CatalogPool* catalogs, std::string ca_file = "");
  ~WitnessClient();
  WitnessClient(const WitnessClient&) = delete;
  WitnessClient& operator=(const WitnessClient&) = delete;

  // Looks for a new checkpoint every second, and pushes it.
  void Start();
  void Stop();

  // `note` followed by the cosignatures witnesses gave for its body.
  std::string Cosigned(const std::string& note) const;

  // Per witness: its URL, the tree size it holds as far as we know, and the
  // last problem ("" when its last answer cosigned). For /api/v1/status.
  struct WitnessState {
    std::string url;
    uint64_t cosigned_size = 0;
    std::string problem;
  };
  std::vector<WitnessState> States() const;

 private:
  struct Target {
    std::string url;
    uint64_t held = 0;    // the witness's size, learned from its answers
    std::string body;     // the checkpoint body its `lines` cosign
    std::string lines;    // its cosignature lines for `body`
    std::string problem;  // the last refusal or failure, "" after a success
    std::chrono::steady_clock::time_point retry_at{};
    std::chrono::seconds pause{0};
  };
  void Loop();
  // One push of `cp` to `t`: the caller holds no lock; `t` is this thread's.
  void Push(Target& t, const storage::CheckpointRow& cp, storage::Catalog* catalog);
  void Failed(Target& t, const std::string& problem, bool alarm);
  // Those of `lines` (each ending in a newline) that cosign `note` by one of
  // keys_; all of them when keys_ is empty.
  std::string TrustedLines(const std::string& lines, const std::string& note) const;

  const std::vector<storage::VerifierKey> keys_;
  const std::string ca_file_;
  CatalogPool* catalogs_;
  mutable std::mutex mu_;  // guards targets_' body/lines/held/problem against readers
  std::condition_variable wake_;
  bool stop_ = false;
  std::vector<Target> targets_;
  std::thread thread_;
};

}  // namespace gongkai::daemon
