#include "machines.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "gongkai/log.h"
#include "http_client.h"
#include "mirror.h"

namespace gongkai::hub {

namespace {

constexpr auto kMaxProbeInterval = std::chrono::seconds(10);
constexpr size_t kMaxStatusAnswer = size_t{4} * 1024 * 1024;

indexer::RemoteDatabase Remote(const std::string& host, uint16_t port, const HubMachineConfig& m) {
  return {host, port, m.connect_timeout, m.timeout};
}

// The townships in a hub's /api/v1/status answer.
Result<std::vector<RemoteNode>> ParseNodes(const std::string& body) {
  try {
    const auto nodes =
        Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>()->getObject("nodes");
    if (!nodes) return Status::Corruption("no \"nodes\" object");
    std::vector<RemoteNode> out;
    for (const auto& [name, value] : *nodes) {
      const auto o = value.extract<Poco::JSON::Object::Ptr>();
      RemoteNode n;
      n.name = name;
      n.tree_size = o->getValue<uint64_t>("tree_size");
      if (!o->isNull("synced")) n.synced = o->getValue<std::string>("synced");
      n.stale = o->getValue<bool>("stale");
      out.push_back(std::move(n));
    }
    return out;
  } catch (const std::exception& e) {  // Poco's exceptions derive from it
    return Status::Corruption(std::string("not a hub's status: ") + e.what());
  }
}

}  // namespace

struct Machines::Machine {
  const HubMachineConfig* config;
  MachineStatus status;  // under mu_
  std::string twice;     // the townships it holds that others hold too (probe thread)
};

Machines::Machines(const HubConfig& config, std::vector<std::string> local_dirs)
    : config_(config), local_dirs_(std::move(local_dirs)) {
  for (const HubMachineConfig& m : config.machines) {
    auto machine = std::make_unique<Machine>();
    machine->config = &m;
    machine->status.name = m.name;
    machine->status.problem = "not probed yet";
    machines_.push_back(std::move(machine));
  }
}

Machines::~Machines() { Stop(); }

void Machines::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Machines::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Machines::Loop() {
  const auto interval =
      std::min<std::chrono::milliseconds>(config_.sync_interval, kMaxProbeInterval);
  std::unique_lock lock(wake_mu_);
  do {
    lock.unlock();
    Probe();
    lock.lock();
  } while (!wake_.wait_for(lock, interval, [this] { return stopping_; }));
}

void Machines::Probe(bool statuses) {
  {
    std::lock_guard probing(probe_mu_);
    for (auto& m : machines_) {
      const HubMachineConfig& c = *m->config;
      std::string serving, problem;
      auto shards = indexer::ProbeRemote(Remote(c.shards_host, c.shards_port, c));
      if (shards.ok()) {
        serving = "shards";
      } else {
        problem = "shards " + c.shards_host + ":" + std::to_string(c.shards_port) + ": " +
                  shards.status().message();
        if (!c.replica_host.empty()) {
          auto replica = indexer::ProbeRemote(Remote(c.replica_host, c.replica_port, c));
          if (replica.ok())
            serving = "replica";
          else
            problem += "; replica " + c.replica_host + ":" + std::to_string(c.replica_port) + ": " +
                       replica.status().message();
        }
      }
      std::lock_guard lock(mu_);
      MachineStatus& s = m->status;
      if (serving != s.serving) {
        if (serving.empty())
          log::Warning("machine " + s.name +
                       ": its townships are left out of searches: " + problem);
        else
          log::Info("machine " + s.name + ": searching its " + serving +
                    (problem.empty() ? "" : " (" + problem + ")"));
      }
      s.serving = serving;
      s.problem = problem;
    }
  }
  // The hubs' statuses outside probe_mu_: a search that probes after a
  // failure does not wait for them.
  if (!statuses) return;
  // Who holds each township: one held twice would be searched twice.
  std::map<std::string, std::string> holder;
  for (const HubNodeConfig& n : config_.nodes) holder.emplace(n.name, "this hub");
  for (auto& m : machines_) {
    const HubMachineConfig& c = *m->config;
    daemon::HttpRequest request;
    request.url = c.url + "/api/v1/status";
    request.max_body = kMaxStatusAnswer;
    request.timeout = c.timeout;
    request.ca_file = config_.ca_file;
    auto answer = daemon::Fetch(request);
    auto nodes = !answer.ok()            ? Result<std::vector<RemoteNode>>(answer.status())
                 : answer->status != 200 ? Status::IOError("HTTP " + std::to_string(answer->status))
                                         : ParseNodes(answer->body);
    std::string twice;
    if (nodes.ok())
      for (const RemoteNode& n : *nodes)
        if (auto [it, fresh] = holder.emplace(n.name, "machine " + c.name); !fresh)
          twice += (twice.empty() ? "" : ", ") + n.name + " (also on " + it->second + ")";
    std::lock_guard lock(mu_);
    MachineStatus& s = m->status;
    if (nodes.ok())
      s.nodes = std::move(*nodes);
    else if (s.problem.empty())
      s.problem = "hub " + c.url + ": " + nodes.status().message();
    if (!twice.empty()) {
      const std::string problem =
          "holds townships held elsewhere, found twice in searches: " + twice;
      s.problem += (s.problem.empty() ? "" : "; ") + problem;
      if (m->twice != twice)
        log::Warning("machine " + s.name + " " + problem + "; each township belongs in one " +
                     "[node.NAME] section across the county's hubs");
    }
    m->twice = twice;
  }
}

std::pair<std::shared_ptr<indexer::Searcher>, std::vector<MachineStatus>> Machines::Current() {
  std::lock_guard lock(mu_);
  std::vector<indexer::RemoteDatabase> remotes;
  std::vector<MachineStatus> statuses;
  std::string key;
  for (const auto& m : machines_) {
    const HubMachineConfig& c = *m->config;
    statuses.push_back(m->status);
    key += m->status.serving + ",";
    if (m->status.serving == "shards") remotes.push_back(Remote(c.shards_host, c.shards_port, c));
    if (m->status.serving == "replica")
      remotes.push_back(Remote(c.replica_host, c.replica_port, c));
  }
  if (!searcher_ || key != searcher_key_) {
    searcher_ = std::make_shared<indexer::Searcher>(local_dirs_, std::move(remotes));
    searcher_key_ = key;
  }
  return {searcher_, std::move(statuses)};
}

Result<Machines::Answer> Machines::Search(const indexer::SearchQuery& query) {
  Status failed;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto [searcher, statuses] = Current();
    auto result = searcher->Search(query);
    if (result.ok()) {
      UseNodeIds(&*result);
      return Answer{std::move(*result), std::move(statuses)};
    }
    failed = result.status();
    const bool remote = std::any_of(statuses.begin(), statuses.end(),
                                    [](const MachineStatus& s) { return !s.serving.empty(); });
    if (failed.code() == Status::Code::kInvalid || !remote) break;
    // A machine went down or is slow: find which, and search without it.
    log::Warning("search across machines failed (" + failed.message() + "); probing them");
    Probe(/*statuses=*/false);
  }
  return failed;
}

void Machines::Invalidate() {
  std::lock_guard lock(mu_);
  if (searcher_) searcher_->Invalidate();
}

std::vector<MachineStatus> Machines::Statuses() const {
  std::lock_guard lock(mu_);
  std::vector<MachineStatus> out;
  for (const auto& m : machines_) out.push_back(m->status);
  return out;
}

}  // namespace gongkai::hub
