// Fault injection: the archiver and storage layer under failing writes and
// power cuts (tests/support/fault_injection.h).
//
// Each loop ingests the same few dozen files into a fresh archive with a
// failure injected at write-side operation 1, 2, 3, ... until a run completes
// without reaching the injection point; then a disclosure request is
// registered and taken through its events on the same ledger. After every
// run: no acknowledged version or request event is lost, each file is
// archived exactly once with its right hash, every catalog row has its blob,
// and `verify` finds nothing wrong.
#include <unistd.h>
#include <catch2/catch.hpp>
#include <cerrno>
#include <map>
#include <set>

#include "gongkai/ledger/requests.h"
#include "gongkai/storage/verify.h"
#include "support/calendar.h"
#include "support/fault_injection.h"
#include "support/in_process_archive.h"
#include "support/temp_dir.h"

using namespace gongkai;
using namespace gongkai::test;
using namespace std::chrono_literals;

namespace {

constexpr int kFiles = 30;

// The share: plain and nested files, Chinese names, two with identical
// content (one blob), a sidecar.
void FillShare(const std::string& dir) {
  for (int i = 0; i < kFiles; ++i) {
    std::string name =
        i % 3 == 0 ? "通知/第" + std::to_string(i) + "號.txt" : "doc" + std::to_string(i) + ".txt";
    std::string body = "公告第" + std::to_string(i) + "號：" +
                       std::string(static_cast<size_t>(200 + i * 37), 'x') + "\n";
    if (i == 7) body = "相同內容\n";
    if (i == 8) body = "相同內容\n";
    WriteFile(dir + "/" + name, body);
  }
  WriteFile(dir + "/doc1.txt.meta.json", R"({"category":"預算"})");
}

std::string Sha256Hex(const std::string& data) {
  storage::Sha256 h;
  h.Update(data.data(), data.size());
  return storage::Hex(h.Finish());
}

// The scratch area: tmpfs when there is one (fsync is free there, and the
// injector models durability itself), else the normal temp folder.
std::string ScratchBase() {
  const char* shm = "/dev/shm";
  return ::access(shm, W_OK) == 0 ? std::string(shm)
                                  : std::filesystem::temp_directory_path().string();
}

// The in-process archive, recording what each commit acknowledged.
struct Archive : InProcessArchive {
  // Versions whose commit was acknowledged: "path v1" -> sha256.
  std::map<std::string, std::string> acknowledged;
  // Request events whose commit was acknowledged: code -> how many.
  std::map<std::string, size_t> request_events;

  explicit Archive(const std::string& root) : InProcessArchive(root) {}

  Status Open(storage::Env* env) {
    return InProcessArchive::Open(env, [this](int64_t) { RecordAcknowledged(); });
  }

  void RecordAcknowledged() {
    auto docs = catalog->AllDocuments();
    REQUIRE(docs.ok());
    for (const auto& d : *docs) {
      auto versions = catalog->Versions(d.id);
      REQUIRE(versions.ok());
      for (const auto& v : *versions)
        acknowledged[d.path + " v" + std::to_string(v.version)] = v.sha256;
    }
  }

  // Registers a request and takes it through three events on the ledger the
  // archiver uses (the daemon runs these on the archiver's thread, between
  // batches). A step that fails is tried once more; `stop()` ends it.
  void Requests(const std::function<bool()>& stop) {
    const auto& calendar = ShippedCalendar();
    const disclosure::Date received = disclosure::LocalToday() - std::chrono::days(10);
    auto step = [&](const std::function<Result<ledger::RequestState>()>& make) {
      for (int attempt = 0; attempt < 2 && !stop(); ++attempt)
        if (auto st = make(); st.ok()) {
          request_events[st->row.code] = st->events.size();
          return st->row.code;
        }
      return std::string();
    };
    ledger::NewRequest r;
    r.channel = "post";
    r.received = received;
    r.applicant = {"person", "故障测试", "", "13800138000", ""};
    r.description = "请公开预算";
    const std::string code = step([&] { return ledger->Register(r, calendar, *key); });
    if (code.empty()) return;
    for (auto [event, days] : {std::pair{disclosure::RequestEvent::kSupplementRequested, 8},
                               {disclosure::RequestEvent::kSupplemented, 5},
                               {disclosure::RequestEvent::kExtended, 2}}) {
      ledger::RequestChange c;
      c.code = code;
      c.in.event = event;
      c.in.date = disclosure::LocalToday() - std::chrono::days(days);
      c.in.days = 5;
      c.in.approved_by = "局长";
      const size_t before = request_events[code];
      step([&]() -> Result<ledger::RequestState> {
        // A retry after a commit whose answer was lost would be refused:
        // the event is there already.
        auto now = ledger::LoadRequest(*catalog, calendar, code);
        if (now.ok() && now->events.size() > before) return now;
        return ledger->AddRequestEvent(c, calendar, *key);
      });
      if (request_events[code] == before) return;
    }
  }
};

// Reopens `root` without faults, finishes the ingest and checks everything.
void CheckRecovered(const std::string& root, const std::map<std::string, std::string>& acknowledged,
                    const std::map<std::string, size_t>& requests, const std::string& context) {
  INFO(context);
  InstallFaultVfs(nullptr);
  Archive a(root);
  Status s = a.Open(storage::Env::Default());
  REQUIRE(s.ok());
  a.Run(20);
  REQUIRE(a.queue->size() == 0);
  CHECK(a.archiver->failures().empty());

  auto docs = a.catalog->AllDocuments();
  REQUIRE(docs.ok());
  std::map<std::string, std::string> now;  // "path v1" -> sha256
  std::set<std::string> active;
  for (const auto& d : *docs) {
    auto versions = a.catalog->Versions(d.id);
    REQUIRE(versions.ok());
    for (const auto& v : *versions) now[d.path + " v" + std::to_string(v.version)] = v.sha256;
    if (d.status == gongkai::DocumentStatus::kActive) active.insert(d.path);
    // Exactly once: the content never changed, so one version each.
    CHECK(versions->size() == 1);
  }
  for (const auto& [what, sha] : acknowledged) {
    INFO("acknowledged " << what);
    CHECK(now.count(what) == 1);
    CHECK(now[what] == sha);
  }
  // Every file in the share is archived, once, with the bytes on disk.
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(a.config.shares[0].path)) {
    if (!e.is_regular_file() || e.path().string().ends_with(".meta.json")) continue;
    ++files;
    std::string rel = e.path().string().substr(a.config.shares[0].path.size() + 1);
    INFO("file " << rel);
    CHECK(active.count(rel) == 1);
    CHECK(now[rel + " v1"] == Sha256Hex(Slurp(e.path().string())));
  }
  CHECK(files == kFiles);
  CHECK(docs->size() == files);

  storage::VerifyOptions options;
  options.origin = a.config.origin;
  auto report = storage::VerifyArchive(a.catalog.get(), *a.blobs, a.layout.blobs(), options);
  REQUIRE(report.ok());
  for (const auto& p : report->problems) FAIL_CHECK(p.where << ": " << p.what);
  CHECK(report->documents == static_cast<uint64_t>(kFiles));
  CHECK(report->requests == a.catalog->AllRequests()->size());
  for (const auto& [code, events] : requests) {
    INFO("acknowledged request " << code);
    CHECK(a.catalog->RequestEvents(code)->size() >= events);
  }
}

struct LoopStats {
  uint64_t runs = 0, faults = 0, failed_starts = 0;
};

// Runs the ingest with operation n failing, for n = 1, 2, ... until a run
// never reaches n.
LoopStats FailAtEveryOperation(FaultMode mode, int err) {
  FaultInjector injector;
  FaultInjectionEnv env(&injector);
  LoopStats stats;
  for (uint64_t n = 1;; ++n) {
    TempDir dir(ScratchBase());
    const std::string& root = dir.path();
    FillShare(root + "/share");
    injector.ForgetTracking();
    injector.Arm(n, err, mode);
    InstallFaultVfs(&injector);
    std::map<std::string, std::string> acknowledged;
    std::map<std::string, size_t> requests;
    std::string context;
    {
      Archive a(root);
      Status opened = a.Open(&env);
      if (!opened.ok()) {
        ++stats.failed_starts;  // gongkaid would exit non-zero; systemd restarts it
      } else if (mode == FaultMode::kPowerCut) {
        a.Run(20, [&] { return injector.fired(); });
        a.Requests([&] { return injector.fired(); });
        if (!injector.fired()) CHECK(a.request_events.begin()->second == 4);  // the last run
      } else {
        a.Run(mode == FaultMode::kOnce ? 20 : 5);
        if (mode == FaultMode::kFromThenOn) {
          // Space comes back: the same archiver must finish by itself.
          injector.Disarm();
          a.Run(20);
        }
        // Without a restart, the daemon recovered: everything is archived.
        INFO("after a fault at operation " << n << " (" << injector.fired_at() << ")");
        CHECK(a.queue->size() == 0);
        CHECK(a.acknowledged.size() == static_cast<size_t>(kFiles));
        a.Requests([] { return false; });
        if (mode == FaultMode::kOnce) {  // one failure, one retry: all four made it
          REQUIRE(a.request_events.size() == 1);
          CHECK(a.request_events.begin()->second == 4);
        }
      }
      acknowledged = a.acknowledged;
      requests = a.request_events;
      context = "fault at operation " + std::to_string(n) + ": " + injector.fired_at();
      a.Close();
    }
    const bool fired = injector.fired();
    if (mode == FaultMode::kPowerCut) injector.DropUnsyncedData();
    injector.Disarm();
    ++stats.runs;
    if (fired) ++stats.faults;
    CheckRecovered(root, acknowledged, requests, context);
    if (!fired) break;  // the whole ingest took fewer than n operations
  }
  return stats;
}

}  // namespace

TEST_CASE("fault: every write-side operation failing once (EIO) loses nothing", "[fault]") {
  auto stats = FailAtEveryOperation(FaultMode::kOnce, EIO);
  WARN("EIO once: " << stats.faults << " injected faults, " << stats.failed_starts
                    << " failed starts");
  CHECK(stats.faults > 100);  // the loop really walked the whole ingest
}

TEST_CASE("fault: a disk that fills up (ENOSPC from then on) and frees again loses nothing",
          "[fault]") {
  auto stats = FailAtEveryOperation(FaultMode::kFromThenOn, ENOSPC);
  WARN("ENOSPC: " << stats.faults << " injected faults, " << stats.failed_starts
                  << " failed starts");
  CHECK(stats.faults > 100);
}

TEST_CASE("fault: a power cut at every operation keeps every acknowledged version", "[fault]") {
  auto stats = FailAtEveryOperation(FaultMode::kPowerCut, EIO);
  WARN("power cuts: " << stats.faults << " injected, " << stats.failed_starts
                      << " during start-up");
  CHECK(stats.faults > 100);
}

TEST_CASE("fault: the injector really drops unsynced data and undoes unsynced renames", "[fault]") {
  TempDir dir;
  FaultInjector injector;
  FaultInjectionEnv env(&injector);
  const std::string a = dir / "a", b = dir / "b", c = dir / "c";
  WriteFile(c, "old");
  {
    auto f = env.NewWritableFile(a, 0644);
    REQUIRE(f.ok());
    REQUIRE((*f)->Append("synced", 6).ok());
    REQUIRE((*f)->Sync().ok());
    REQUIRE((*f)->Append("-lost", 5).ok());
    REQUIRE((*f)->Close().ok());
  }
  {
    auto f = env.NewWritableFile(b, 0644);
    REQUIRE(f.ok());
    REQUIRE((*f)->Append("never synced", 12).ok());
  }
  REQUIRE(env.Rename(a, c).ok());  // the folder is never synced
  injector.DropUnsyncedData();
  CHECK(Slurp(a) == "synced");  // the rename is undone, the unsynced tail gone
  CHECK(Slurp(c) == "old");
  CHECK_FALSE(std::filesystem::exists(b));

  // With the folder synced, the rename stays.
  REQUIRE(env.Rename(a, c).ok());
  REQUIRE(env.SyncDir(dir.path()).ok());
  injector.DropUnsyncedData();
  CHECK(Slurp(c) == "synced");
  CHECK_FALSE(std::filesystem::exists(a));

  // Arming: operation 2 fails once with ENOSPC, the rest go through.
  injector.Arm(2, ENOSPC, FaultMode::kOnce);
  CHECK(env.CreateDirs(dir / "x", 0755).ok());
  Status s = env.CreateDirs(dir / "y", 0755);
  CHECK(s.code() == Status::Code::kNoSpace);
  CHECK(s.message().find("No space left") != std::string::npos);
  CHECK(env.CreateDirs(dir / "z", 0755).ok());
  CHECK(injector.fired_at() == "mkdir " + dir / "y");
}
