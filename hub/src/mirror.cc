#include "mirror.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>

#include "gongkai/domain.h"
#include "gongkai/log.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/crypto.h"
#include "gongkai/storage/env.h"
#include "gongkai/storage/record.h"
#include "gongkai/storage/tiles.h"
#include "http_client.h"
#include "hub.h"

namespace gongkai::hub {
namespace {

using Clock = std::chrono::steady_clock;
using JsonObject = Poco::JSON::Object::Ptr;

// A shard's metadata: "hub.tree.NAME", node NAME's mirrored tree
// (StreamingTree::State); "hub.nodes", the names of the nodes it holds, one
// per line.
constexpr const char* kTreeKeyPrefix = "hub.tree.";
constexpr const char* kNodesKey = "hub.nodes";
// A checkpoint or a document's JSON: a few KiB; allow for long metadata.
constexpr size_t kMaxSmallAnswer = size_t{1024} * 1024;
// A record is at most 64 KiB (the bundle's 16-bit length).
constexpr size_t kMaxBundle = storage::kTileWidth * (2 + 0xFFFF);
// Documents larger than this are not mirrored (the node's own extraction cap).
constexpr uint64_t kMaxDocument = 256ull * 1024 * 1024;
// Documents indexed between the writer's intermediate commits.
constexpr size_t kBatch = 256;

std::string Trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  s.erase(0, std::min(s.size(), s.find_first_not_of(" \t\r\n")));
  return s;
}

Result<JsonObject> ParseObject(const std::string& text) {
  try {
    auto v = Poco::JSON::Parser().parse(text);
    if (auto o = v.extract<JsonObject>(); o) return o;
  } catch (const std::exception&) {  // Poco::Exception, or a BadCastException from extract
  }
  return Status::Corruption("not a JSON object");
}

std::string Str(const JsonObject& o, const std::string& key) {
  return o->has(key) && o->get(key).isString() ? o->getValue<std::string>(key) : "";
}

int64_t Int(const JsonObject& o, const std::string& key) {
  try {
    return o->has(key) ? o->getValue<int64_t>(key) : -1;
  } catch (const std::exception&) {
    return -1;
  }
}

// What the mirror needs of a document's record.
struct DocRecord {
  EventKind event = EventKind::kVersion;
  std::string doc, share, path, sha256, modified;
  int64_t version = 0, size = 0;
  bool public_ = false, approved = false;
};

// A record's fields, or nullopt for a record that is not a document's (a
// request's or the annual figures'); Corruption when it is not a record.
Result<std::optional<DocRecord>> ParseDocRecord(const std::string& text, uint64_t seq) {
  auto o = ParseObject(text);
  if (!o.ok()) return Status::Corruption("record " + std::to_string(seq) + " is not JSON");
  if (Int(*o, "seq") != static_cast<int64_t>(seq))
    return Status::Corruption("record " + std::to_string(seq) + " says it is record " +
                              std::to_string(Int(*o, "seq")));
  const auto kind = ParseEventKind(Str(*o, "event"));
  if (!kind || Str(*o, "doc").empty()) return std::optional<DocRecord>();
  DocRecord r;
  r.event = *kind;
  r.doc = Str(*o, "doc");
  r.share = Str(*o, "share");
  r.path = Str(*o, "path");
  r.sha256 = Str(*o, "sha256");
  r.modified = Str(*o, "modified");
  r.version = Int(*o, "version");
  r.size = Int(*o, "size");
  r.public_ = Str(*o, "classification") == ToString(Classification::kPublic);
  r.approved = Str(*o, "review") == ToString(ReviewState::kApproved);
  return std::optional<DocRecord>(std::move(r));
}

// A document's id in the mirror: node names have no '/'.
std::string EntryId(const std::string& node, const std::string& doc) { return node + "/" + doc; }

using FetchFn = std::function<Result<daemon::HttpAnswer>(const std::string& path, size_t max_body,
                                                         const std::string& bearer)>;

// Fetches, checks and indexes the version `r` names, for anonymous users
// (true); or removes the document when the node does not show that version
// without a token (false). Corruption when its bytes do not match `r`.
Result<bool> MirrorDocument(const DocRecord& r, const std::string& node, const std::string& base,
                            const FetchFn& fetch, indexer::ExtractWorkers& workers,
                            indexer::IndexWriter& writer) {
  const std::string& id = r.doc;
  const std::string entry = EntryId(node, id);
  const std::string doc_path = "/api/v1/documents/" + id;
  auto doc = fetch(doc_path, kMaxSmallAnswer, "");
  if (!doc.ok()) return Status::IOError(base + doc_path + ": " + doc.status().message());
  auto gone = [&]() -> Result<bool> {
    if (Status s = writer.Remove(entry); !s.ok()) return s;
    return false;
  };
  // Not public at the node any more: a later record says why.
  if (doc->status == 404 || doc->status == 403 || doc->status == 410) return gone();
  if (doc->status != 200)
    return Status::IOError(base + doc_path + " answered " + std::to_string(doc->status));
  auto meta = ParseObject(doc->body);
  if (!meta.ok()) return Status::Corruption(doc_path + ": " + meta.status().message());
  bool shown = false;  // whether the node shows this version without a token
  if (auto versions = (*meta)->getArray("versions"))
    for (unsigned i = 0; i < versions->size(); ++i)
      if (auto v = versions->getObject(i))
        shown |= Int(v, "version") == r.version && Str(v, "sha256") == r.sha256;
  if (!shown) return gone();  // changed since the checkpoint: the next sync settles it
  if (r.size < 0 || static_cast<uint64_t>(r.size) > kMaxDocument) {
    log::Warning("mirror " + node + ": document " + id + " (" + std::to_string(r.size) +
                 " bytes) is larger than the mirror takes");
    return gone();
  }
  const std::string content_path = doc_path + "/versions/" + std::to_string(r.version) + "/content";
  auto bytes = fetch(content_path, static_cast<size_t>(r.size), "");
  if (!bytes.ok()) return Status::IOError(base + content_path + ": " + bytes.status().message());
  if (bytes->status != 200)
    return Status::IOError(base + content_path + " answered " + std::to_string(bytes->status));
  if (bytes->body.size() != static_cast<size_t>(r.size) ||
      storage::Hex(storage::Sha256Of(bytes->body)) != r.sha256)
    return Status::Corruption("document " + id + " version " + std::to_string(r.version) +
                              ": the bytes served do not match its record (sha256 " + r.sha256 +
                              ")");
  const std::string name = r.path.substr(r.path.rfind('/') + 1);
  indexer::Extracted e = workers.Extract(bytes->body, name);
  const JsonObject m = (*meta)->getObject("meta");
  indexer::IndexDoc d;
  d.id = entry;
  d.origin = node;
  d.share = r.share;
  d.path = r.path;
  d.office = Str(*meta, "office");
  d.title = m ? Str(m, "title") : "";
  if (d.title.empty()) d.title = e.title.empty() ? name : e.title;
  d.type = e.type;
  d.sha256 = r.sha256;
  d.modified = r.modified;
  d.published = m ? Str(m, "published") : "";
  d.category = m ? Str(m, "category") : "";
  d.doc_number = m ? Str(m, "doc_number") : "";
  d.metadata_text = d.doc_number + "\n" + (m ? Str(m, "agency") : "");
  d.status = ToString(DocumentStatus::kActive);
  d.classification = ToString(Classification::kPublic);
  d.version = r.version;
  d.size = r.size;
  d.for_inspectors = true;
  d.for_public = true;
  d.text = std::move(e.text);
  d.text_note = std::move(e.note);
  if (Status s = writer.RemoveSecondaryEntries(entry); !s.ok()) return s;
  if (Status s = writer.Replace(d); !s.ok()) return s;
  return true;
}

// The shards that hold at least one node, in order.
std::vector<size_t> ShardsInUse(const HubConfig& config) {
  std::vector<size_t> used;
  for (const HubNodeConfig& n : config.nodes)
    used.push_back(ShardOf(n.name, static_cast<size_t>(config.mirror_shards)));
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  return used;
}

// [hub] sync_workers, 0 meaning one per core, at most one per shard in use.
size_t SyncWorkersFor(const HubConfig& config) {
  const size_t wanted = config.sync_workers > 0 ? static_cast<size_t>(config.sync_workers)
                                                : std::max(1U, std::thread::hardware_concurrency());
  return std::min(wanted, ShardsInUse(config).size());
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    if (end > pos) out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// One extraction worker per sync thread: each sync extracts one document at a time.
indexer::ExtractWorkerOptions MirrorWorkers(size_t sync_workers) {
  indexer::ExtractWorkerOptions o = indexer::DefaultExtractWorkerOptions();
  o.max_workers = std::max<size_t>(1, sync_workers);
  return o;
}

}  // namespace

size_t ShardOf(const std::string& name, size_t count) {
  const storage::Digest d = storage::Sha256Of(name);
  uint64_t h = 0;
  for (int i = 0; i < 8; ++i) h = (h << 8) | d[i];
  return static_cast<size_t>(h % std::max<size_t>(1, count));
}

struct Mirror::Shard {
  size_t index = 0;
  std::string dir;  // DATA/mirror/INDEX
  std::unique_ptr<indexer::IndexWriter> writer;
  std::vector<Node*> nodes;  // in the order of the config
  std::mutex mu;             // one sync at a time: the writer and its commits
};

struct Mirror::Node {
  const HubNodeConfig* config = nullptr;
  std::string name;
  storage::WitnessedLog log;
  std::string token;  // the hub's token at the node, "" for none
  Shard* shard = nullptr;
  storage::StreamingTree tree;  // as committed in the shard
  MirrorStatus status;          // under state_mu_
};

Mirror::Mirror(const HubConfig& config, std::vector<storage::WitnessedLog> logs,
               storage::WitnessStore* store)
    : config_(config), store_(store), workers_(MirrorWorkers(SyncWorkersFor(config))) {
  std::map<size_t, Shard*> by_index;
  for (size_t k : ShardsInUse(config)) {
    auto s = std::make_unique<Shard>();
    s->index = k;
    s->dir = config.data_dir + "/mirror/" + std::to_string(k);
    by_index[k] = s.get();
    shards_.push_back(std::move(s));
  }
  for (size_t i = 0; i < config.nodes.size(); ++i) {
    auto n = std::make_unique<Node>();
    n->config = &config.nodes[i];
    n->name = config.nodes[i].name;
    n->log = logs[i];
    n->shard = by_index.at(ShardOf(n->name, static_cast<size_t>(config.mirror_shards)));
    n->shard->nodes.push_back(n.get());
    n->status.name = n->name;
    nodes_.push_back(std::move(n));
  }
}

Mirror::~Mirror() { Stop(); }

Status Mirror::Open() {
  for (auto& n : nodes_) {
    if (n->config->token_file.empty()) continue;
    auto token = storage::ReadFile(n->config->token_file);
    if (!token.ok())
      return Status::IOError("[node." + n->name + "] token_file: " + token.status().message());
    n->token = Trimmed(*token);
  }
  // Shards that hold no node now (fewer [hub] shards, or nodes gone) are removed.
  const std::string root = config_.data_dir + "/mirror";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (std::any_of(shards_.begin(), shards_.end(),
                    [&](const auto& s) { return std::to_string(s->index) == name; }))
      continue;
    log::Warning("mirror: removing shard " + entry.path().string() +
                 ": none of the nodes is in it now ([hub] shards = " +
                 std::to_string(config_.mirror_shards) + ")");
    std::filesystem::remove_all(entry.path(), ec);
    if (ec) return Status::IOError(entry.path().string() + ": " + ec.message());
  }
  std::vector<std::string> dirs;
  for (auto& shard : shards_) {
    if (Status s = storage::Env::Default()->CreateDirs(shard->dir, 0700); !s.ok()) return s;
    auto writer = indexer::IndexWriter::Open(shard->dir);
    if (!writer.ok()) return writer.status();
    shard->writer = std::move(*writer);
    indexer::IndexWriter& w = *shard->writer;
    // The nodes it held that it does not hold now: their entries and trees go.
    auto held = w.Metadata(kNodesKey);
    if (!held.ok()) return held.status();
    std::string now;
    for (const Node* n : shard->nodes) now += n->name + "\n";
    if (*held != now) {
      for (const std::string& name : Lines(*held)) {
        if (std::any_of(shard->nodes.begin(), shard->nodes.end(),
                        [&](const Node* n) { return n->name == name; }))
          continue;
        log::Warning("mirror: node " + name + " is no longer in shard " + shard->dir +
                     "; its documents there are removed");
        if (Status s = w.RemoveOrigin(name); !s.ok()) return s;
        if (Status s = w.SetMetadata(kTreeKeyPrefix + name, ""); !s.ok()) return s;
      }
      if (Status s = w.SetMetadata(kNodesKey, now); !s.ok()) return s;
      if (Status s = w.Commit(0); !s.ok()) return s;
    }
    for (Node* n : shard->nodes) {
      auto state = w.Metadata(kTreeKeyPrefix + n->name);
      if (!state.ok()) return state.status();
      if (!state->empty()) {
        auto tree = storage::StreamingTree::FromState(*state);
        if (!tree.ok())
          return Status::Corruption(shard->dir + ", node " + n->name + ": " +
                                    tree.status().message());
        n->tree = std::move(*tree);
      }
      n->status.tree_size = n->tree.size();
      n->status.documents = w.OriginCount(n->name);
    }
    dirs.push_back(shard->dir);
  }
  // For xapian-tcpsrv, when other hubs search this one's shards (machines.h).
  if (Status s = storage::Env::Default()->CreateDirs(root, 0700); !s.ok()) return s;
  std::string stub;
  for (const auto& shard : shards_) stub += "auto " + std::to_string(shard->index) + "\n";
  if (Status s = storage::WriteFileAtomically(storage::Env::Default(), root + "/shards.stub", stub);
      !s.ok())
    return s;
  dirs_ = dirs;
  if (!dirs.empty()) searcher_ = std::make_unique<indexer::Searcher>(std::move(dirs));
  return Status::OK();
}

size_t Mirror::SyncWorkers() const { return SyncWorkersFor(config_); }

void Mirror::Start() {
  const size_t workers = SyncWorkers();
  if (workers > 0)
    log::Info("mirror: " + std::to_string(nodes_.size()) + " node(s) in " +
              std::to_string(shards_.size()) + " shard(s), " + std::to_string(workers) +
              " synced at a time");
  for (size_t i = 0; i < workers; ++i)
    threads_.emplace_back([this, i, workers] { Loop(i, workers); });
}

void Mirror::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
}

void Mirror::Loop(size_t first, size_t stride) {
  std::unique_lock lock(wake_mu_);
  while (!stopping_) {
    const auto next = Clock::now() + config_.sync_interval;
    for (size_t k = first; k < shards_.size(); k += stride)
      for (Node* n : shards_[k]->nodes) {
        if (stopping_) return;
        lock.unlock();
        (void)Sync(*n);  // the outcome is in the node's status and the log
        lock.lock();
      }
    wake_.wait_until(lock, next, [this] { return stopping_.load(); });
  }
}

Status Mirror::SyncNow(size_t i) { return Sync(*nodes_.at(i)); }

Status Mirror::Sync(Node& n) {
  std::lock_guard lock(n.shard->mu);
  const uint64_t before = n.tree.size();
  Status s = SyncLocked(n);
  if (s.code() != Status::Code::kIOError) Inspect(n);  // a node that cannot be read: kept as it was
  const uint64_t documents = n.shard->writer->OriginCount(n.name);  // not under state_mu_
  std::lock_guard state(state_mu_);
  MirrorStatus& st = n.status;
  if (s.ok()) {
    if (st.stale && !st.problem.empty())
      log::Info("mirror " + n.name + ": synced again (tree size " + std::to_string(n.tree.size()) +
                ")");
    st.stale = false;
    st.problem.clear();
    st.synced = PosixNow();
    st.tree_size = n.tree.size();
    st.documents = documents;
    // Pooled search handles see the new documents from now on. A handle
    // opened or reopened since the commit (a new one, or one a commit
    // overtook) may see them a moment before this status: the documents are
    // verified either way; only an answer's `nodes` lags.
    if (n.tree.size() != before) {
      searcher_->Invalidate();
      if (on_commit_) on_commit_();
    }
    return s;
  }
  // Corruption: something did not verify. IOError: the node could not be
  // read. Either way the shard keeps its last verified state.
  const bool alarm = s.code() == Status::Code::kCorruption;
  if (alarm) {
    ++st.refused;
    log::Error("mirror " + n.name + ": REFUSED, nothing of this sync is kept: " + s.message());
  } else if (st.problem != s.message()) {
    log::Warning("mirror " + n.name +
                 ": cannot sync, its documents stay as of the last sync: " + s.message());
  }
  st.stale = true;
  st.problem = s.message();
  return s;
}

Status Mirror::SyncLocked(Node& n) {
  const Clock::time_point deadline = Clock::now() + config_.sync_timeout;
  const std::string& base = n.config->url;
  const FetchFn fetch = [&](const std::string& path, size_t max_body,
                            const std::string& bearer) -> Result<daemon::HttpAnswer> {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Status::IOError("the sync took longer than [hub] sync_timeout");
    if (stopping_) return Status::IOError("the hub is stopping");
    return daemon::Fetch({.url = base + path,
                          .bearer = bearer,
                          .max_body = max_body,
                          .timeout = std::min(left, std::chrono::milliseconds(60000)),
                          .ca_file = config_.ca_file});
  };

  // 1. The target: the node's latest checkpoint, or the witnessed one if
  // that is larger (the node shows the mirror an older tree than it pushed).
  auto held_or = store_->Latest(n.log.origin);
  if (!held_or.ok()) return Status::IOError("witness store: " + held_or.status().message());
  const std::optional<storage::WitnessedCheckpoint>& held = *held_or;
  auto served = fetch("/tlog/checkpoint", kMaxSmallAnswer, "");
  if (!served.ok()) return Status::IOError(base + "/tlog/checkpoint: " + served.status().message());
  if (served->status != 200)
    return Status::IOError(base + "/tlog/checkpoint answered " + std::to_string(served->status));
  auto cp = storage::VerifyCheckpoint(served->body, n.log.origin, n.log.raw_public);
  if (!cp.ok())
    return Status::Corruption("its checkpoint does not verify under its note_key: " +
                              cp.status().message());
  storage::Checkpoint target = *cp;
  if (held && held->size > target.size) target = {n.log.origin, held->size, held->root};
  // The witnessed checkpoint is checked whenever this sync passes its size.
  auto against_witness = [&](const storage::StreamingTree& t) -> Status {
    if (held && t.size() == held->size && t.Root() != held->root)
      return Status::Corruption(
          "its records 0-" + std::to_string(held->size - 1) +
          " do not hash to the checkpoint the witness cosigned: a split view");
    return Status::OK();
  };
  if (Status s = against_witness(n.tree); !s.ok()) return s;
  if (target.size < n.tree.size())
    return Status::Corruption("its checkpoint has " + std::to_string(target.size) +
                              " records, fewer than the " + std::to_string(n.tree.size()) +
                              " already verified: the log was rolled back");
  if (target.size == n.tree.size()) {
    if (target.root != n.tree.Root())
      return Status::Corruption("its checkpoint of size " + std::to_string(target.size) +
                                " has another root hash than the records verified: a split view");
    return Status::OK();
  }

  // 2. The records up to it, checked against its root hash.
  storage::StreamingTree tree = n.tree;
  std::map<std::string, DocRecord> latest;  // document -> its latest record
  while (tree.size() < target.size) {
    const uint64_t at = tree.size();
    storage::TileId tile{.entries = true, .index = at / storage::kTileWidth};
    tile.width =
        std::min<uint64_t>(storage::kTileWidth, target.size - tile.index * storage::kTileWidth);
    const std::string path = "/tlog/tile/" + storage::TilePath(tile);
    auto a = fetch(path, kMaxBundle, n.token);
    if (!a.ok()) return Status::IOError(base + path + ": " + a.status().message());
    if (a->status != 200)
      return Status::IOError(base + path + " answered " + std::to_string(a->status) +
                             (a->status == 401 || a->status == 403
                                  ? " (is [node." + n.name + "] token_file an inspector's token?)"
                                  : ""));
    const std::string& b = a->body;
    size_t pos = 0;
    for (uint64_t i = tile.index * storage::kTileWidth;
         i < tile.index * storage::kTileWidth + tile.width; ++i) {
      if (b.size() - pos < 2) return Status::Corruption(path + ": the bundle ends early");
      const size_t len = (static_cast<size_t>(static_cast<uint8_t>(b[pos])) << 8) |
                         static_cast<uint8_t>(b[pos + 1]);
      pos += 2;
      if (b.size() - pos < len) return Status::Corruption(path + ": the bundle ends early");
      const std::string record = b.substr(pos, len);
      pos += len;
      if (i < at) continue;  // verified by an earlier sync
      tree.Append(storage::LeafHash(record));
      if (Status s = against_witness(tree); !s.ok()) return s;
      auto r = ParseDocRecord(record, i);
      if (!r.ok()) return Status::Corruption(path + ": " + r.status().message());
      if (*r) latest[(*r)->doc] = std::move(**r);
    }
    if (pos != b.size()) return Status::Corruption(path + ": bytes after the last entry");
  }
  if (tree.Root() != target.root)
    return Status::Corruption("its records 0-" + std::to_string(target.size - 1) +
                              " do not hash to its checkpoint's root: a split view");

  // 3. The documents they touch: every removal first, then the documents
  // to fetch. Everything written is verified, so the writer may commit on
  // the way (every kBatch documents) with the old tree state: a sync cut off
  // midway leaves verified changes, and the next sync does them again. What
  // a failed sync wrote since its last commit is dropped, so that the next
  // sync of another node in the shard does not commit it. (The shard's
  // watermark is not used: each node's tree is its own metadata.)
  indexer::IndexWriter& writer = *n.shard->writer;
  if (Status s = writer.Begin(); !s.ok()) return s;
  Status applied = [&]() -> Status {
    std::vector<const DocRecord*> wanted;
    uint64_t indexed = 0, removed = 0;
    for (const auto& [id, r] : latest) {
      if (r.event == EventKind::kWithdraw || !r.public_) {
        if (Status s = writer.Remove(EntryId(n.name, id)); !s.ok()) return s;
        ++removed;
      } else if (r.approved) {
        wanted.push_back(&r);
      }  // else a pending version: the node shows the approved one, which the shard has
    }
    const int64_t old_size = static_cast<int64_t>(n.tree.size());
    for (size_t i = 0; i < wanted.size(); ++i) {
      auto done = MirrorDocument(*wanted[i], n.name, base, fetch, workers_, writer);
      if (!done.ok()) return done.status();
      ++(*done ? indexed : removed);
      if ((i + 1) % kBatch == 0) {
        if (Status s = writer.Commit(0); !s.ok()) return s;
        if (Status s = writer.Begin(); !s.ok()) return s;
      }
    }

    // 4. The tree, with the last documents, in one commit.
    if (Status s = writer.SetMetadata(kTreeKeyPrefix + n.name, tree.State()); !s.ok()) return s;
    if (Status s = writer.Commit(0); !s.ok()) return s;
    n.tree = tree;
    log::Info("mirror " + n.name + ": verified records " + std::to_string(old_size) + "-" +
              std::to_string(tree.size() - 1) + "; " + std::to_string(indexed) +
              " document(s) fetched, " + std::to_string(removed) + " removed");
    return Status::OK();
  }();
  if (!applied.ok()) (void)writer.Cancel();  // a writer that cannot cancel has failed already
  return applied;
}

namespace {

// The current year, as the nodes count their annual reports (local time).
int ThisYear() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  return local.tm_year + 1900;
}

}  // namespace

void Mirror::Inspect(Node& n) {
  if (n.token.empty()) {  // the node's reports need its token: nothing to read
    std::lock_guard lock(state_mu_);
    n.status.inspection.problem = "no [node." + n.name + "] token_file";
    return;
  }
  Inspection got;
  got.year = ThisYear();
  auto read = [&](const std::string& path) -> Result<JsonObject> {
    auto a = daemon::Fetch({.url = n.config->url + path,
                            .bearer = n.token,
                            .max_body = kMaxSmallAnswer * 16,
                            .timeout = std::chrono::seconds(60),
                            .ca_file = config_.ca_file});
    if (!a.ok()) return Status::IOError(path + ": " + a.status().message());
    if (a->status != 200) return Status::IOError(path + " answered " + std::to_string(a->status));
    auto o = ParseObject(a->body);
    if (!o.ok()) return Status::Corruption(path + ": " + o.status().message());
    return o;
  };
  Status s = [&]() -> Status {
    auto status = read("/api/v1/status");
    if (!status.ok()) return status.status();
    if (JsonObject r = (*status)->getObject("requests"))
      for (const char* key : {"open", "paused", "closed", "overdue", "due_soon"})
        got.requests[key] = std::max<int64_t>(0, Int(r, key));
    auto fresh = read("/api/v1/reports/freshness");
    if (!fresh.ok()) return fresh.status();
    if (auto entries = (*fresh)->getArray("entries"))
      for (unsigned i = 0; i < entries->size(); ++i) {
        JsonObject e = entries->getObject(i);
        if (!e || !Str(e, "category").empty()) continue;  // the share's own line only
        got.offices.push_back(
            {Str(e, "share"), Str(e, "office"), Str(e, "last_version"), Int(e, "days_since"),
             e->has("overdue") && e->get("overdue").isBoolean() && e->getValue<bool>("overdue")});
      }
    auto annual = read("/api/v1/reports/annual?year=" + std::to_string(got.year));
    if (!annual.ok()) return annual.status();
    if (JsonObject t = (*annual)->getObject("table3"))
      for (const std::string& row : t->getNames())
        if (JsonObject cells = t->getObject(row))
          for (const std::string& col : cells->getNames())
            got.table3[row][col] = std::max<int64_t>(0, Int(cells, col));
    return Status::OK();
  }();
  std::lock_guard lock(state_mu_);
  if (s.ok()) {
    got.fetched = PosixNow();
    n.status.inspection = std::move(got);
  } else {
    if (n.status.inspection.problem != s.message())
      log::Warning("mirror " + n.name + ": cannot read its reports: " + s.message());
    n.status.inspection.problem = s.message();  // the last complete read stays
  }
}

Result<indexer::SearchResult> Mirror::Search(const indexer::SearchQuery& query) {
  if (!searcher_) return indexer::SearchResult{};
  auto result = searcher_->Search(query);
  if (result.ok()) UseNodeIds(&*result);
  return result;
}

void UseNodeIds(indexer::SearchResult* result) {
  for (indexer::SearchHit& h : result->hits)  // "NAME/DOC": the node's own id
    h.doc.id.erase(0, std::min(h.doc.id.size(), h.doc.origin.size() + 1));
}

std::vector<MirrorStatus> Mirror::Statuses() const {
  std::lock_guard lock(state_mu_);
  std::vector<MirrorStatus> out;
  for (const auto& n : nodes_) out.push_back(n->status);
  return out;
}

}  // namespace gongkai::hub
