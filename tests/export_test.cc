// End-to-end: `gongkai export` (BagIt bags in tar and zip), `gongkai
// verify-bag`, `gongkai backup` and `gongkai config check`, against the real
// daemon on a real share, unpacked with the standard tools.
#include <Poco/JSON/Parser.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <thread>

#include "gongkai/storage/bag.h"
#include "gongkai/storage/crypto.h"
#include "support/daemon_process.h"

using gongkai::test::CommandResult;
using gongkai::test::DaemonProcess;
using gongkai::test::Quote;
using gongkai::test::RunCommand;
using gongkai::test::Slurp;
using gongkai::test::TempDir;
using gongkai::test::WriteFile;

namespace {

const std::string kNfdName =
    "e\xcc\x81t\xc3\xa9.txt";  // "été" with a decomposed first é, kept as is

CommandResult VerifyBag(const std::string& bag, const std::string& extra = "") {
  return RunCommand(std::string(GONGKAI_PATH) + " verify-bag " + Quote(bag) + " " + extra);
}

Poco::JSON::Object::Ptr Json(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

// Counts from `gongkai status --json` (the catalog, whatever the index says).
int64_t StatusField(DaemonProcess& d, const std::string& field) {
  auto r = d.Cli("status --json");
  return r.exit_code == 0 ? Json(r.out)->getValue<int64_t>(field) : -1;
}

// Replaces the first `from` in `file` with `to` (same length: archive offsets stay valid).
void Tamper(const std::string& file, const std::string& from, const std::string& to) {
  REQUIRE(from.size() == to.size());
  std::string data = Slurp(file);
  const size_t at = data.find(from);
  REQUIRE(at != std::string::npos);
  data.replace(at, from.size(), to);
  WriteFile(file, data);
}

std::string Sha(const std::string& s) {
  return gongkai::storage::Hex(gongkai::storage::Sha256Of(s));
}

// Every regular file below `root`, as raw path bytes relative to it, with its content.
std::map<std::string, std::string> FilesBelow(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.is_regular_file())
      out[e.path().string().substr(root.size() + 1)] = Slurp(e.path().string());
  return out;
}

// A share with a Chinese folder and name, a decomposed (NFD) name, a
// percent sign, a document with two versions and a withdrawn one.
struct Fixture {
  DaemonProcess d;
  std::map<std::string, std::string> payload;  // bag path under data/ -> content
  Fixture() {
    WriteFile(d.FilePath("pub", "公開資料/預算報告.txt"), "預算報告內容：道路養護經費。\n");
    WriteFile(d.FilePath("pub", kNfdName), "decomposed name\n");
    WriteFile(d.FilePath("pub", "100%.txt"), "percent\n");
    WriteFile(d.FilePath("pub", "two.txt"), "two, first version\n");
    WriteFile(d.FilePath("pub", "gone.txt"), "to be withdrawn\n");
    d.Start();
    d.WaitIdle(5);
    WriteFile(d.FilePath("pub", "two.txt"), "two, second version\n");
    std::filesystem::remove(d.FilePath("pub", "gone.txt"));
    REQUIRE(DaemonProcess::Eventually(
        [&] { return StatusField(d, "versions") == 6 && StatusField(d, "active") == 4; }));
    d.WaitIdle(5);
    payload = {{"data/pub/公開資料/預算報告.txt/v1/預算報告.txt", "預算報告內容：道路養護經費。\n"},
               {"data/pub/" + kNfdName + "/v1/" + kNfdName, "decomposed name\n"},
               {"data/pub/100%.txt/v1/100%.txt", "percent\n"},
               {"data/pub/two.txt/v1/two.txt", "two, first version\n"},
               {"data/pub/two.txt/v2/two.txt", "two, second version\n"},
               {"data/pub/gone.txt/v1/gone.txt", "to be withdrawn\n"}};
  }
};

}  // namespace

TEST_CASE(
    "export: tar and zip bags verify, and unpack with standard tools to byte-identical UTF-8 names",
    "[e2e][export]") {
  Fixture f;
  DaemonProcess& d = f.d;
  TempDir out;
  for (const std::string ext : {".tar", ".zip"}) {
    INFO(ext);
    const std::string bag = out / ("transfer" + ext);
    auto r = d.Cli("export --out " + Quote(bag) + " --json");
    REQUIRE(r.exit_code == 0);
    auto summary = Json(r.out);
    CHECK(summary->getValue<int64_t>("files") == 6);
    CHECK(summary->getValue<int64_t>("documents") == 5);
    CHECK(summary->getValue<std::string>("bag") == "transfer");
    CHECK_FALSE(std::filesystem::exists(bag + ".partial"));

    auto v = VerifyBag(bag);
    INFO(v.out);
    CHECK(v.exit_code == 0);
    CHECK(v.out.find("verify-bag: OK") != std::string::npos);
    auto vj = Json(VerifyBag(bag, "--json").out);
    CHECK(vj->getValue<bool>("ok"));
    CHECK(vj->getValue<int64_t>("payload_files") == 6);
    CHECK(vj->getValue<int64_t>("records") >= 7);  // 6 versions and 1 withdrawal
    CHECK(vj->getValue<int64_t>("proofs") == vj->getValue<int64_t>("records"));

    // Unpacked by someone else's tool: names byte for byte, content intact.
    const std::string dir = out / ("unpacked" + ext);
    std::filesystem::create_directories(dir);
    const std::string unpack =
        ext == ".tar"
            ? "LC_ALL=C.UTF-8 tar -xf " + Quote(bag) + " -C " + Quote(dir)
            : "python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); "
              "assert all(i.flag_bits & 0x800 for i in z.infolist() if not i.filename.isascii()); "
              "z.extractall(sys.argv[2])' " +
                  Quote(bag) + " " + Quote(dir);
    REQUIRE(RunCommand(unpack).exit_code == 0);
    auto files = FilesBelow(dir + "/transfer");
    for (const auto& [name, content] : f.payload) {
      INFO(name);
      REQUIRE(files.count(name));
      CHECK(files[name] == content);
    }
    size_t data_files = 0;
    for (const auto& [name, content] : files) data_files += name.rfind("data/", 0) == 0;
    CHECK(data_files == f.payload.size());
    for (const char* tag :
         {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt",
          "gongkai/checkpoint", "gongkai/records.jsonl", "gongkai/signatures.jsonl",
          "gongkai/proofs.jsonl", "gongkai/versions.jsonl"})
      CHECK(files.count(tag));
    // RFC 8493: % in a manifest path is percent-encoded.
    CHECK(files["manifest-sha256.txt"].find(
              Sha("percent\n") + "  data/pub/100%25.txt/v1/100%25.txt\n") != std::string::npos);
    const std::string& info = files["bag-info.txt"];
    CHECK(info.find("Source-Organization: e2e.gongkai.test\n") != std::string::npos);
    CHECK(info.find("Payload-Oxum: ") != std::string::npos);
    CHECK(info.find("Bag-Software-Agent: gongkai ") != std::string::npos);
    // The standard checks on the unpacked bag (no % in the other names).
    auto sums = RunCommand(
        "cd " + Quote(dir + "/transfer") +
        " && grep -v %25 manifest-sha256.txt | sha256sum -c --quiet - && sha256sum -c --quiet "
        "tagmanifest-sha256.txt && echo SUMS-OK");
    CHECK(sums.out.find("SUMS-OK") != std::string::npos);
  }
  CHECK(d.Stop() == 0);
}

TEST_CASE("export: verify-bag names a changed payload byte, manifest line and record",
          "[e2e][export]") {
  Fixture f;
  TempDir out;
  const std::string bag = out / "bag.tar";
  REQUIRE(f.d.Cli("export --out " + Quote(bag)).exit_code == 0);
  REQUIRE(VerifyBag(bag).exit_code == 0);

  SECTION("one payload byte") {
    Tamper(bag, "道路養護", "道路养護");  // 養 -> 养: one character, same length in UTF-8
    auto r = VerifyBag(bag);
    INFO(r.out);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("PROBLEM manifest-sha256.txt line") != std::string::npos);
    CHECK(r.out.find("data/pub/公開資料/預算報告.txt/v1/預算報告.txt") != std::string::npos);
    CHECK(r.out.find("signed record") !=
          std::string::npos);  // the content no longer matches its record
  }
  SECTION("one manifest line") {
    const std::string sha = Sha("two, first version\n");
    Tamper(bag, sha + "  data/",
           std::string(1, sha[0] == '0' ? '1' : '0') + sha.substr(1) + "  data/");
    auto r = VerifyBag(bag);
    INFO(r.out);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("manifest-sha256.txt line") != std::string::npos);
    CHECK(r.out.find("data/pub/two.txt/v1/two.txt") != std::string::npos);
    CHECK(r.out.find("tagmanifest-sha256.txt line") !=
          std::string::npos);  // the manifest itself changed
  }
  SECTION("one signed record") {
    Tamper(bag, "\"event\":\"withdraw\"", "\"event\":\"withdrew\"");
    auto r = VerifyBag(bag, "--json");
    INFO(r.out);
    CHECK(r.exit_code == 1);
    auto problems = Json(r.out)->getArray("problems");
    bool signature = false;
    for (size_t i = 0; i < problems->size(); ++i) {
      auto p = problems->getObject(static_cast<unsigned>(i));
      signature =
          signature ||
          (p->getValue<std::string>("where").rfind("record ", 0) == 0 &&
           p->getValue<std::string>("what").find("signature does not verify") != std::string::npos);
    }
    CHECK(signature);
  }
  SECTION("a zip whose payload changed fails its CRC, named") {
    const std::string zip = out / "bag.zip";
    REQUIRE(f.d.Cli("export --out " + Quote(zip)).exit_code == 0);
    REQUIRE(VerifyBag(zip).exit_code == 0);
    // The entries are deflated: flip the first byte of the entry's data, found
    // through its local header (30 bytes, then the name and the extra field).
    std::string data = Slurp(zip);
    const std::string entry = "bag/data/pub/two.txt/v2/two.txt";
    const size_t name = data.find(entry);
    REQUIRE(name >= 30);
    const size_t extra = static_cast<unsigned char>(data[name - 2]) |
                         static_cast<unsigned char>(data[name - 1]) << 8;
    data[name + entry.size() + extra] ^= 0x01;
    WriteFile(zip, data);
    auto r = VerifyBag(zip);
    INFO(r.out);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("two.txt/v2/two.txt") != std::string::npos);
  }
  SECTION("not a bag, or no file: usage and I/O errors exit 2") {
    CHECK(VerifyBag(out / "missing.tar").exit_code == 2);
    CHECK(VerifyBag(f.d.config()).exit_code == 2);
    CHECK(RunCommand(std::string(GONGKAI_PATH) + " verify-bag").exit_code == 2);
  }
}

TEST_CASE("export: --share and --since limit the payload", "[e2e][export]") {
  DaemonProcess d(std::vector<DaemonProcess::Share>{{"a", ""}, {"b", ""}});
  WriteFile(d.FilePath("a", "甲.txt"), "share a\n");
  WriteFile(d.FilePath("b", "乙.txt"), "share b\n");
  WriteFile(d.FilePath("b", "丙.txt"), "share b again\n");
  d.Start();
  d.WaitIdle(3);
  TempDir out;
  auto files_in = [&](const std::string& bag) {
    auto r = VerifyBag(bag, "--json");
    REQUIRE(r.exit_code == 0);
    return Json(r.out)->getValue<int64_t>("payload_files");
  };
  const std::string only_b = out / "b.tar";
  REQUIRE(d.Cli("export --share b --out " + Quote(only_b)).exit_code == 0);
  CHECK(files_in(only_b) == 2);
  auto listing = RunCommand("LC_ALL=C.UTF-8 tar -tf " + Quote(only_b));
  CHECK(listing.out.find("b/data/b/乙.txt/v1/乙.txt") != std::string::npos);
  CHECK(listing.out.find("data/a/") == std::string::npos);
  CHECK(RunCommand("LC_ALL=C.UTF-8 tar -xOf " + Quote(only_b) + " b/bag-info.txt")
            .out.find("Gongkai-Share: b\n") != std::string::npos);

  // Archived today: a date in the past takes everything, tomorrow nothing.
  const std::time_t now = std::time(nullptr);
  char today[16], tomorrow[16];
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(today, sizeof today, "%Y-%m-%d", &tm);
  const std::time_t next = now + 86400;
  ::gmtime_r(&next, &tm);
  std::strftime(tomorrow, sizeof tomorrow, "%Y-%m-%d", &tm);
  const std::string since_past = out / "past.zip";
  REQUIRE(d.Cli("export --since 2000-01-01 --out " + Quote(since_past)).exit_code == 0);
  CHECK(files_in(since_past) == 3);
  const std::string since_today = out / "today.tar";
  auto r = d.Cli("export --since " + std::string(today) + " --share a --out " + Quote(since_today));
  // The daemon may have archived just before midnight UTC; then "today" is empty.
  if (r.exit_code == 0) CHECK(files_in(since_today) == 1);
  const std::string since_tomorrow = out / "tomorrow.tar";
  CHECK(d.Cli("export --since " + std::string(tomorrow) + " --out " + Quote(since_tomorrow))
            .exit_code == 1);
  CHECK_FALSE(std::filesystem::exists(since_tomorrow));
  CHECK_FALSE(std::filesystem::exists(since_tomorrow + ".partial"));
  CHECK(d.Cli("export --share nosuch --out " + Quote(out / "none.tar")).exit_code == 1);
  CHECK(d.Cli("export --since 28.11.2026 --out " + Quote(out / "x.tar")).exit_code == 2);
  CHECK(d.Cli("export --out " + Quote(out / "x.7z")).exit_code == 2);
  CHECK(d.Cli("export").exit_code == 2);
  CHECK(d.Stop() == 0);
}

TEST_CASE(
    "backup: a copy taken while the daemon archives restores into a fresh data folder that "
    "verifies",
    "[e2e][backup]") {
  DaemonProcess d;
  for (int i = 0; i < 20; ++i)
    WriteFile(d.FilePath("pub", "doc" + std::to_string(i) + ".txt"),
              "第" + std::to_string(i) + "份文件。\n");
  d.Start();
  d.WaitIdle(20);
  // Keep the daemon busy while the backup runs.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 20; i < 200 && !stop; ++i) {
      WriteFile(d.FilePath("pub", "more/doc" + std::to_string(i) + ".txt"),
                "追加文件 " + std::to_string(i) + "\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  // Back up once the daemon is committing the new files, not before.
  REQUIRE(DaemonProcess::Eventually([&] { return StatusField(d, "documents") >= 30; }));
  TempDir backups;
  const std::string dir = backups / "backup";
  auto r = d.Cli("backup " + Quote(dir) + " --json");
  const int64_t after = StatusField(d, "documents");
  stop = true;
  writer.join();
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  CHECK(Json(r.out)->getValue<int64_t>("blobs") >= 30);
  CHECK_FALSE(std::filesystem::exists(dir + "/index"));  // derived: rebuilt, not copied
  CHECK((std::filesystem::status(dir + "/keys").permissions() &
         std::filesystem::perms::group_all) == std::filesystem::perms::none);
  CHECK(d.Cli("backup " + Quote(dir)).exit_code == 2);  // never over an existing backup

  // Restore: the backup becomes the data folder of a fresh configuration.
  TempDir restored;
  REQUIRE(RunCommand("cp -a " + Quote(dir) + " " + Quote(restored / "data")).exit_code == 0);
  std::string conf = Slurp(d.config());
  conf.replace(conf.find("data_dir = data"), 15, "data_dir = " + restored / "data");
  WriteFile(restored / "gongkaid.conf", conf);
  const std::string cli =
      std::string(GONGKAI_PATH) + " --config " + Quote(restored / "gongkaid.conf") + " ";
  REQUIRE(RunCommand(cli + "reindex").exit_code == 0);
  auto verify = RunCommand(cli + "verify");
  INFO(verify.out);
  CHECK(verify.exit_code == 0);
  auto status = Json(RunCommand(cli + "status --json").out);
  CHECK(status->getValue<int64_t>("documents") >= 30);
  CHECK(status->getValue<int64_t>("documents") <= after);
  CHECK(d.Stop() == 0);
}

TEST_CASE("config check: a good config is summarised, a bad one named in one line",
          "[e2e][config]") {
  DaemonProcess d(std::vector<DaemonProcess::Share>{{"office-a", "classification = restricted"}});
  const std::string gk = GONGKAI_PATH;
  auto ok = RunCommand(gk + " config check " + Quote(d.config()));
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.rfind("ok: ", 0) == 0);
  CHECK(ok.out.find("office-a") != std::string::npos);
  CHECK(ok.out.find("restricted") != std::string::npos);
  CHECK(d.Cli("config check").exit_code == 0);
  auto json = Json(d.Cli("config check --json").out);
  CHECK(json->getArray("shares")->getObject(0)->getValue<std::string>("name") == "office-a");
  CHECK_FALSE(std::filesystem::exists(d.root() + "/data"));  // nothing started, nothing created

  TempDir t;
  WriteFile(t / "bad.conf", "[daemon]\ndata_dir = data\nlisten = 127.0.0.1:99999\n");
  auto bad = RunCommand(gk + " config check " + Quote(t / "bad.conf") + " 2>&1");
  CHECK(bad.exit_code == 2);
  CHECK(bad.out.find("listen") != std::string::npos);
  CHECK(std::count(bad.out.begin(), bad.out.end(), '\n') == 1);
  CHECK(RunCommand(gk + " config check " + Quote(t / "missing.conf")).exit_code == 2);
  CHECK(RunCommand(gk + " config check").exit_code == 2);
}

TEST_CASE("export: manifest paths percent-encode CR, LF and % only, and decode back", "[export]") {
  using gongkai::storage::DecodeManifestPath;
  using gongkai::storage::EncodeManifestPath;
  CHECK(EncodeManifestPath("data/a%b\nc\rd.txt") == "data/a%25b%0Ac%0Dd.txt");
  CHECK(EncodeManifestPath("data/公開 資料/" + kNfdName) == "data/公開 資料/" + kNfdName);
  for (const std::string p : {"data/100%.txt", "data/%25 literal", "data/%0A literal", "data/x\r\n",
                              "data/%", "data/50%%"})
    CHECK(DecodeManifestPath(EncodeManifestPath(p)) == p);
  CHECK(DecodeManifestPath("data/a%0ab%0dc") == "data/a\nb\rc");
  CHECK(DecodeManifestPath("data/%41%") == "data/%41%");  // only the three codes RFC 8493 uses
}
