#include "witness_client.h"

#include <algorithm>
#include <istream>
#include <sstream>

#include "gongkai/log.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/witness.h"
#include "gongkai/thread_name.h"
#include "http_client.h"
#include "http_service.h"

namespace gongkai::daemon {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxLines = 16;
constexpr size_t kMaxLine = 1024;

// The note signature lines of a 200 answer, each with its newline.
std::string SignatureLines(const std::string& body) {
  std::istringstream in(body);
  std::string out, line;
  for (size_t n = 0; std::getline(in, line) && n < kMaxLines;) {
    if (line.rfind("\xE2\x80\x94 ", 0) != 0 || line.size() > kMaxLine ||
        std::count(line.begin(), line.end(), ' ') != 2)
      continue;
    out += line + "\n";
    ++n;
  }
  return out;
}

std::string FirstLine(const std::string& s) {
  return s.substr(0, std::min(s.find('\n'), size_t{200}));
}

}  // namespace

WitnessClient::WitnessClient(std::vector<std::string> urls, std::vector<storage::VerifierKey> keys,
                             CatalogPool* catalogs, std::string ca_file)
    : keys_(std::move(keys)), ca_file_(std::move(ca_file)), catalogs_(catalogs) {
  for (std::string& url : urls) targets_.push_back(Target{.url = std::move(url)});
}

WitnessClient::~WitnessClient() { Stop(); }

void WitnessClient::Start() {
  if (targets_.empty() || thread_.joinable()) return;
  thread_ = NamedThread("witness-client", [this] { Loop(); });
}

void WitnessClient::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string WitnessClient::Cosigned(const std::string& note) const {
  const std::string body = storage::NoteBody(note);
  std::string out = note;
  std::lock_guard lock(mu_);
  for (const Target& t : targets_)
    if (!body.empty() && t.body == body) out += t.lines;
  return out;
}

std::vector<WitnessClient::WitnessState> WitnessClient::States() const {
  std::lock_guard lock(mu_);
  std::vector<WitnessState> out;
  for (const Target& t : targets_) out.push_back({t.url, t.held, t.problem});
  return out;
}

void WitnessClient::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::seconds(1));
    if (stop_) break;
    lock.unlock();
    if (auto catalog = catalogs_->Borrow(); catalog.ok()) {
      auto cp = catalog->get()->LatestCheckpoint();
      if (cp.ok() && *cp) {
        const std::string body = storage::NoteBody((*cp)->text);
        for (Target& t : targets_)  // only this thread changes targets_
          if (t.body != body && Clock::now() >= t.retry_at) Push(t, **cp, catalog->get());
      }
    }
    lock.lock();
  }
}

void WitnessClient::Push(Target& t, const storage::CheckpointRow& cp, storage::Catalog* catalog) {
  const auto size = static_cast<uint64_t>(cp.size);
  for (int attempt = 0; attempt < 2; ++attempt) {  // a 409 teaches the held size: once more
    if (t.held > size)
      return Failed(t,
                    "the witness says it holds a tree of " + std::to_string(t.held) +
                        " records, larger than this log's " + std::to_string(size) +
                        ": the log was rolled back or replaced",
                    true);
    storage::AddCheckpointRequest req{.old_size = t.held, .proof = {}, .checkpoint = cp.text};
    if (t.held > 0 && t.held < size) {
      auto proof = storage::ConsistencyProof(t.held, size, catalog->Nodes());
      if (!proof.ok()) return Failed(t, "consistency proof: " + proof.status().message(), false);
      req.proof = std::move(*proof);
    }
    auto answer = Fetch({.method = "POST",
                         .url = t.url + "/add-checkpoint",
                         .body = storage::FormatAddCheckpoint(req),
                         .content_type = "text/plain; charset=utf-8",
                         .ca_file = ca_file_});
    if (!answer.ok()) return Failed(t, answer.status().message(), false);
    if (answer->status == 409) {
      uint64_t held = 0;
      if (std::istringstream(answer->body) >> held) {
        std::lock_guard lock(mu_);
        t.held = held;
        continue;
      }
    }
    if (answer->status != 200)
      return Failed(t,
                    "answered " + std::to_string(answer->status) + ": " + FirstLine(answer->body),
                    answer->status == 422);
    const std::string lines = TrustedLines(SignatureLines(answer->body), cp.text);
    if (lines.empty())
      return Failed(t,
                    keys_.empty()
                        ? "its answer holds no signature line"
                        : "its answer holds no cosignature by a key in [log] witness_keys",
                    false);
    std::lock_guard lock(mu_);
    if (!t.problem.empty())
      log::Info("witness " + t.url + " cosigns again (tree size " + std::to_string(size) + ")");
    t.held = size;
    t.body = storage::NoteBody(cp.text);
    t.lines = lines;
    t.problem.clear();
    t.pause = std::chrono::seconds(0);
    return;
  }
  Failed(t, "answered 409 twice", false);
}

std::string WitnessClient::TrustedLines(const std::string& lines, const std::string& note) const {
  if (keys_.empty()) return lines;
  std::istringstream in(lines);
  std::string out;
  for (std::string line; std::getline(in, line);)
    for (const storage::VerifierKey& k : keys_)
      if (storage::VerifyCosignature(note + line + "\n", k.name, k.raw_public).ok()) {
        out += line + "\n";
        break;
      }
  return out;
}

void WitnessClient::Failed(Target& t, const std::string& problem, bool alarm) {
  std::lock_guard lock(mu_);
  if (problem != t.problem) {
    const std::string text = "witness " + t.url + ": " + problem;
    alarm ? log::Error(text + " (a split view: an inspector must look)")
          : log::Warning(text + "; retrying");
  }
  t.problem = problem;
  t.pause = std::min<std::chrono::seconds>(
      std::max<std::chrono::seconds>(t.pause * 2, std::chrono::seconds(5)),
      std::chrono::minutes(10));
  t.retry_at = Clock::now() + t.pause;
}

}  // namespace gongkai::daemon
