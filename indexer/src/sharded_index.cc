#include "gongkai/indexer/sharded_index.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "gongkai/thread_name.h"

namespace gongkai::indexer {
namespace fs = std::filesystem;

namespace {

const char* const kStub = "XAPIANDB";  // Xapian opens a folder holding this file as the stub

// Changes queued on a shard at most; more wait (Shard::Push). A change is
// mostly a prepared document (all its terms and positions), and a document
// one or two changes. 32 keeps the shards as busy as 128 did, with 40 MB
// less peak memory at 20,000 pages (bench/README.md, the index writer).
constexpr size_t kMaxQueued = 32;

std::string ShardName(size_t k) { return "shard-" + std::to_string(k); }

// Writes the stub naming `shards` shards (relative paths: the index folder can move).
Status WriteStub(const std::string& dir, size_t shards) {
  const std::string tmp = dir + "/" + kStub + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (size_t k = 0; k < shards; ++k) out << "auto " << ShardName(k) << "\n";
    out.flush();
    if (!out) return Status::IOError("index: cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, dir + "/" + kStub, ec);
  if (ec) return Status::IOError("index: cannot write " + dir + "/" + kStub + ": " + ec.message());
  return Status::OK();
}

}  // namespace

size_t ShardOf(const std::string& id, size_t shards) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : id) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<size_t>(h % std::max<size_t>(1, shards));
}

std::vector<std::string> ShardDirs(const std::string& dir) {
  std::ifstream in(dir + "/" + kStub);
  std::vector<std::string> dirs;
  std::string line;
  while (std::getline(in, line)) {
    if (line != "auto " + ShardName(dirs.size())) return {};  // not ours: rebuilt
    dirs.push_back(dir + "/" + ShardName(dirs.size()));
  }
  return dirs;
}

size_t ResolveShards(const std::string& dir, size_t configured) {
  if (configured > 0) return configured;
  if (const size_t existing = ShardDirs(dir).size(); existing > 0) return existing;
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, kMaxAutoShards);
}

// One shard: its writer, and the thread that alone uses it, applying the
// changes queued for it in order, at most kMaxQueued waiting.
class ShardedWriter::Shard {
 public:
  using Task = std::function<Status(Shard&)>;
  Shard(std::string folder, std::unique_ptr<IndexWriter> opened)
      : dir(std::move(folder)),
        writer(std::move(opened)),
        // index-shard-0, ...
        thread_(NamedThread("index-" + dir.substr(dir.rfind('/') + 1), [this] { Loop(); })) {}
  ~Shard() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  // Applies `task` later, unless an earlier change failed (then Check() says so).
  void Post(Task task) { Push({std::move(task), nullptr, false}); }
  // Applies `task` after what is queued: its status, or the first failure
  // since the last Reset() unless `always`.
  std::future<Status> Call(Task task, bool always = false) {
    auto done = std::make_shared<std::promise<Status>>();
    std::future<Status> f = done->get_future();
    Push({std::move(task), std::move(done), always});
    return f;
  }
  // Drops what is not committed and forgets failures (on this thread).
  Status Reset() {
    Status s = writer->Cancel();
    if (s.ok()) s = writer->Begin();
    failed_ = s;  // a shard that cannot begin again takes no more changes
    return s;
  }

  const std::string dir;
  std::unique_ptr<IndexWriter> writer;

 private:
  struct Item {
    Task task;
    std::shared_ptr<std::promise<Status>> done;  // nullptr: posted
    bool always;
  };
  void Push(Item item) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      room_cv_.wait(lock, [&] { return queue_.size() < kMaxQueued; });
      queue_.push_back(std::move(item));
    }
    cv_.notify_one();
  }
  void Loop() {
    for (;;) {
      Item item;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      room_cv_.notify_one();
      if (!writer && failed_.ok()) failed_ = Status::IOError("index: " + dir + " is not open");
      if (!item.done) {
        if (failed_.ok()) failed_ = item.task(*this);
      } else {
        item.done->set_value(failed_.ok() || (item.always && writer) ? item.task(*this) : failed_);
      }
    }
  }

  Status failed_;  // the first change that failed since the last Reset(); its thread's only
  std::mutex mu_;
  std::condition_variable cv_;       // to the thread: queued, or stopping
  std::condition_variable room_cv_;  // to Push(): the queue has room
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

Result<std::unique_ptr<ShardedWriter>> ShardedWriter::Open(const std::string& dir,
                                                           size_t configured) {
  const size_t count = ResolveShards(dir, configured);
  std::unique_ptr<ShardedWriter> w(new ShardedWriter);
  w->dir_ = dir;
  std::vector<std::string> dirs = ShardDirs(dir);
  if (dirs.size() != count) {
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
      w->rebuilt_ = dirs.empty() ? dir + " is not a sharded index (an index of an earlier version)"
                                 : dir + " has " + std::to_string(dirs.size()) +
                                       " shards, and [index] shards is " + std::to_string(count);
    fs::remove_all(dir, ec);
    if (ec) return Status::IOError("index: cannot remove " + dir + ": " + ec.message());
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("index: cannot create " + dir + ": " + ec.message());
    dirs.clear();
    for (size_t k = 0; k < count; ++k) dirs.push_back(dir + "/" + ShardName(k));
  }
  std::vector<std::unique_ptr<IndexWriter>> writers;
  for (const std::string& d : dirs) {
    auto writer = IndexWriter::Open(d);
    if (!writer.ok()) return writer.status();
    if (Status s = (*writer)->Begin(); !s.ok()) return s;
    writers.push_back(std::move(*writer));
  }
  if (!w->rebuilt_.empty() || !fs::exists(dir + "/" + kStub))
    if (Status s = WriteStub(dir, count); !s.ok()) return s;  // after the shards it names
  w->watermark_ = writers.front()->watermark();
  for (size_t k = 0; k < count; ++k) {
    w->watermark_ = std::min(w->watermark_, writers[k]->watermark());
    w->shards_.push_back(std::make_unique<Shard>(dirs[k], std::move(writers[k])));
  }
  return w;
}

ShardedWriter::~ShardedWriter() {
  // Cancel first: a WritableDatabase closed outside a transaction commits.
  (void)OnAll([](Shard& s) { return s.writer->Cancel(); }, true);
}

size_t ShardedWriter::shards() const { return shards_.size(); }

Status ShardedWriter::Queue(const std::string& id, std::function<Status(IndexWriter&)> change) {
  shards_[ShardOf(id, shards_.size())]->Post(
      [change = std::move(change)](Shard& s) { return change(*s.writer); });
  return Status::OK();
}

Status ShardedWriter::Replace(PreparedDoc doc) {
  const std::string id = doc.doc_id_;
  auto shared = std::make_shared<PreparedDoc>(std::move(doc));  // std::function copies
  return Queue(id, [shared](IndexWriter& w) { return w.Replace(std::move(*shared)); });
}

Status ShardedWriter::Remove(const std::string& id) {
  return Queue(id, [id](IndexWriter& w) { return w.Remove(id); });
}

Status ShardedWriter::RemoveSecondaryEntries(const std::string& id) {
  return Queue(id, [id](IndexWriter& w) { return w.RemoveSecondaryEntries(id); });
}

Status ShardedWriter::OnAll(const std::function<Status(Shard&)>& f, bool always) {
  std::vector<std::future<Status>> pending;
  for (auto& shard : shards_) pending.push_back(shard->Call(f, always));
  Status first;
  for (auto& p : pending)
    if (Status s = p.get(); !s.ok() && first.ok()) first = s;
  return first;
}

Status ShardedWriter::Discard() {
  return OnAll([](Shard& s) { return s.Reset(); }, true);
}

Status ShardedWriter::Commit(int64_t watermark) {
  CommitLater(watermark);
  return Settle(/*wait=*/true);
}

void ShardedWriter::CommitLater(int64_t watermark) {
  Pending commit{watermark, {}};
  for (auto& shard : shards_)
    commit.done.push_back(shard->Call([watermark](Shard& s) {
      Status c = s.writer->Commit(watermark);
      return c.ok() ? s.writer->Begin() : c;
    }));
  pending_.push_back(std::move(commit));
}

int64_t ShardedWriter::queued_watermark() const {
  return pending_.empty() ? watermark_ : pending_.back().watermark;
}

Status ShardedWriter::Settle(bool wait) {
  for (; !pending_.empty(); pending_.pop_front()) {
    Pending& commit = pending_.front();
    if (!wait)
      for (std::future<Status>& f : commit.done)
        if (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return Status::OK();
    Status first;
    for (std::future<Status>& f : commit.done)
      if (Status s = f.get(); !s.ok() && first.ok()) first = s;
    if (!first.ok()) {
      // Some shards may have committed this or later watermarks; what every
      // shard holds is replayed from watermark_, which stays where it was.
      pending_.clear();
      (void)Discard();
      return first;
    }
    watermark_ = commit.watermark;
  }
  return Status::OK();
}

Status ShardedWriter::Clear() {
  (void)Settle(/*wait=*/true);  // what it committed goes too
  Status s = OnAll(
      [](Shard& shard) -> Status {
        (void)shard.writer->Cancel();
        shard.writer.reset();
        std::error_code ec;
        fs::remove_all(shard.dir, ec);
        if (ec) return Status::IOError("index: cannot remove " + shard.dir + ": " + ec.message());
        auto writer = IndexWriter::Open(shard.dir);
        if (!writer.ok()) return writer.status();
        shard.writer = std::move(*writer);
        return shard.Reset();
      },
      true);
  if (s.ok()) watermark_ = -1;
  return s;
}

uint64_t ShardedWriter::doc_count() {
  std::atomic<uint64_t> total{0};
  (void)OnAll(
      [&total](Shard& s) {
        total += s.writer->doc_count();
        return Status::OK();
      },
      true);
  return total;
}

}  // namespace gongkai::indexer
