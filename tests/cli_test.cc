// End-to-end: the admin CLI as scripts use it. Every command's --json
// output parsed and checked, the exit codes of success, failure and usage
// errors, progress on stderr, and a root caller becoming the data folder's
// owner (only where the tests run as root).
#include <Poco/JSON/Parser.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "gongkai/storage/crypto.h"
#include "support/daemon_process.h"

using gongkai::test::DaemonProcess;
using gongkai::test::Quote;
using gongkai::test::RunCommand;
using gongkai::test::Slurp;
using gongkai::test::TempDir;
using gongkai::test::WriteFile;
using Poco::JSON::Object;

namespace {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs `gongkai ARGS` (with --config unless `with_config` is false), keeping stdout and stderr
// apart.
CliResult Run(DaemonProcess& d, const std::string& args, bool with_config = true) {
  TempDir tmp;
  const std::string err_file = tmp / "stderr";
  auto r = with_config
               ? d.Cli(args + " 2>" + Quote(err_file))
               : RunCommand(std::string(GONGKAI_PATH) + " " + args + " 2>" + Quote(err_file));
  return {r.exit_code, r.out, Slurp(err_file)};
}

Object::Ptr Json(const CliResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(!r.out.empty());
  REQUIRE(r.out.back() == '\n');
  REQUIRE(r.out.find('\n') == r.out.size() - 1);  // one line, one object
  return Poco::JSON::Parser().parse(r.out).extract<Object::Ptr>();
}

// `gongkai ARGS --json` succeeded: its object.
Object::Ptr JsonOk(DaemonProcess& d, const std::string& args) {
  CliResult r = Run(d, args + " --json");
  INFO(args << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return Json(r);
}

// The exit code of `gongkai ARGS --json` that must fail: an error is one
// "gongkai: " line on stderr and nothing on stdout, with --json too.
int ErrorCode(DaemonProcess& d, const std::string& args, bool with_config = true) {
  CliResult r = Run(d, args + " --json", with_config);
  INFO(args << "\nstdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("gongkai: ", 0) == 0);
  return r.exit_code;
}

std::string IdOf(DaemonProcess& d, const std::string& share_path) {
  return JsonOk(d, "show " + Quote(share_path))->getValue<std::string>("id");
}

std::string Sha(const std::string& s) {
  return gongkai::storage::Hex(gongkai::storage::Sha256Of(s));
}

// pub/a.txt and pub/b.txt, and rev/c.txt in a share whose versions need approval.
struct Archive {
  DaemonProcess d{{{"pub", ""}, {"rev", "review = required"}}};
  TempDir out;
  Archive() {
    WriteFile(d.FilePath("pub", "a.txt"), "甲文件 alpha 道路養護\n");
    WriteFile(d.FilePath("pub", "b.txt"), "乙文件 beta\n");
    WriteFile(d.FilePath("rev", "c.txt"), "丙文件 gamma, awaiting review\n");
  }
};

}  // namespace

TEST_CASE("cli: every command prints one JSON object with --json", "[e2e][cli]") {
  Archive a;
  DaemonProcess& d = a.d;
  d.Start();
  d.WaitIdle(3);

  auto status = JsonOk(d, "status");
  CHECK(status->getValue<int64_t>("documents") == 3);
  CHECK(status->getValue<int64_t>("versions") == 3);
  CHECK(status->getValue<int64_t>("queued") == 0);
  CHECK(status->getValue<int64_t>("failed") == 0);
  CHECK(status->getValue<std::string>("daemon") == "running");

  auto search = JsonOk(d, "search alpha");
  CHECK(search->getValue<int64_t>("total") == 1);
  auto hit = search->getArray("results")->getObject(0);
  CHECK(hit->getValue<std::string>("path") == "a.txt");
  const std::string id_a = hit->getValue<std::string>("id");
  CHECK(JsonOk(d, "search alpha --share rev --limit 5")->getValue<int64_t>("total") == 0);

  for (const std::string& how : {"show " + id_a, std::string("history pub:a.txt"),
                                 "show " + Quote(d.FilePath("pub", "a.txt"))}) {
    auto doc = JsonOk(d, how);
    CHECK(doc->getValue<std::string>("id") == id_a);
    CHECK(doc->getValue<std::string>("share") == "pub");
    CHECK(doc->getValue<std::string>("status") == "active");
    auto versions = doc->getArray("versions");
    REQUIRE(versions->size() == 1);
    CHECK(versions->getObject(0)->getValue<std::string>("sha256") ==
          Sha("甲文件 alpha 道路養護\n"));
  }

  auto approved = JsonOk(d, "approve " + IdOf(d, "rev:c.txt"));
  CHECK(approved->getValue<bool>("changed"));
  CHECK(approved->getValue<int64_t>("version") == 1);
  CHECK(approved->getValue<int64_t>("log_index") == 3);
  CHECK(approved->getValue<std::string>("daemon") == "running");
  CHECK(approved->getValue<bool>("indexed"));
  CHECK(d.SearchPaths("gamma") == std::vector<std::string>{"rev:c.txt"});

  auto classified = JsonOk(d, "classify " + id_a + " restricted");
  CHECK(classified->getValue<bool>("changed"));
  CHECK(classified->getValue<std::string>("classification") == "restricted");
  CHECK(classified->getValue<int64_t>("log_index") == 4);
  CHECK_FALSE(JsonOk(d, "classify " + id_a + " restricted")->getValue<bool>("changed"));

  CHECK(JsonOk(d, "keys")->getArray("keys")->size() == 1);
  auto rotated = JsonOk(d, "keys rotate");
  CHECK(rotated->getValue<std::string>("key_id").size() == 64);
  CHECK(rotated->getValue<std::string>("daemon") == "signalled");
  auto keys = JsonOk(d, "keys list")->getArray("keys");
  REQUIRE(keys->size() == 2);
  int active = 0;
  for (unsigned i = 0; i < keys->size(); ++i)
    if (keys->getObject(i)->getValue<std::string>("retired").empty()) {
      ++active;
      CHECK(keys->getObject(i)->getValue<std::string>("key_id") ==
            rotated->getValue<std::string>("key_id"));
    }
  CHECK(active == 1);

  auto added = JsonOk(d, "token add --role inspector --name 審計室");
  const std::string token = added->getValue<std::string>("token");
  CHECK(token.rfind("gk_", 0) == 0);
  CHECK(added->getValue<std::string>("sha256") == Sha(token));
  CHECK(added->getValue<std::string>("role") == "inspector");
  CHECK(added->getValue<std::string>("daemon") == "signalled");
  CHECK(DaemonProcess::Eventually([&] { return d.Get("/api/v1/status", token).status == 200; }));
  auto tokens = JsonOk(d, "token list")->getArray("tokens");
  REQUIRE(tokens->size() == 3);
  CHECK(tokens->getObject(2)->getValue<std::string>("name") == "審計室");
  CHECK(tokens->getObject(2)->getValue<std::string>("sha256") == Sha(token));
  CHECK(JsonOk(d, "token revoke 審計室")->getValue<int64_t>("revoked") == 1);

  auto fresh = JsonOk(d, "report freshness --as-of 2030-01-01");
  CHECK(fresh->getValue<std::string>("as_of") == "2030-01-01");
  CHECK(fresh->getArray("entries")->size() >= 2);

  d.WaitIdle(3);
  auto verified = JsonOk(d, "verify");
  CHECK(verified->getValue<bool>("ok"));
  CHECK(verified->getValue<int64_t>("versions") == 3);
  CHECK(verified->getArray("problems")->size() == 0);

  const std::string bag = a.out / "bag.tar";
  CHECK(JsonOk(d, "export --out " + Quote(bag))->getValue<int64_t>("files") == 3);
  auto checked = Json(Run(d, "verify-bag " + Quote(bag) + " --json", /*with_config=*/false));
  CHECK(checked->getValue<bool>("ok"));
  CHECK(checked->getValue<int64_t>("payload_files") == 3);
  CHECK(JsonOk(d, "backup " + Quote(a.out / "backup"))->getValue<int64_t>("versions") == 3);
  auto config = JsonOk(d, "config check");
  CHECK(config->getValue<bool>("ok"));
  CHECK(config->getArray("shares")->size() == 2);

  REQUIRE(d.Stop() == 0);
  auto reindexed = JsonOk(d, "reindex");
  CHECK(reindexed->getValue<int64_t>("documents") == 3);
  CHECK(reindexed->getValue<int64_t>("errors") == 0);
  CHECK(reindexed->getValue<int64_t>("watermark") == 4);
}

TEST_CASE("cli: exit 0 ok, 1 the answer is no, 2 usage or I/O error", "[e2e][cli]") {
  Archive a;
  DaemonProcess& d = a.d;
  // Before the daemon ever ran: no archive to open.
  CHECK(ErrorCode(d, "status") == 2);
  d.Start();
  d.WaitIdle(3);
  const std::string id_a = IdOf(d, "pub:a.txt");

  // Usage errors: 2.
  CHECK(ErrorCode(d, "") == 2);
  CHECK(ErrorCode(d, "frobnicate") == 2);
  CHECK(ErrorCode(d, "status --frobnicate") == 2);
  CHECK(ErrorCode(d, "status --out x.tar") == 2);  // an option of another command
  CHECK(ErrorCode(d, "status extra") == 2);
  CHECK(ErrorCode(d, "status", /*with_config=*/false) == 2);
  CHECK(ErrorCode(d, "search") == 2);
  CHECK(ErrorCode(d, "search alpha --limit ten") == 2);
  CHECK(ErrorCode(d, "search alpha --limit 0") == 2);
  CHECK(ErrorCode(d, "show") == 2);
  CHECK(ErrorCode(d, "verify now") == 2);
  CHECK(ErrorCode(d, "keys burn") == 2);
  CHECK(ErrorCode(d, "keys list extra") == 2);
  CHECK(ErrorCode(d, "classify " + id_a + " secret") == 2);
  CHECK(ErrorCode(d, "approve") == 2);
  CHECK(ErrorCode(d, "token add --role root --name x") == 2);
  CHECK(ErrorCode(d, "token add --role admin") == 2);
  CHECK(ErrorCode(d, "token list extra") == 2);
  CHECK(ErrorCode(d, "report") == 2);
  CHECK(ErrorCode(d, "report freshness weekly") == 2);
  CHECK(ErrorCode(d, "report freshness --as-of yesterday") == 2);
  CHECK(ErrorCode(d, "export") == 2);
  CHECK(ErrorCode(d, "export --out " + Quote(a.out / "x.7z")) == 2);
  CHECK(ErrorCode(d, "config") == 2);
  CHECK(ErrorCode(d, "verify-bag", /*with_config=*/false) == 2);
  WriteFile(a.out / "full/x", "x");
  CHECK(ErrorCode(d, "backup " + Quote(a.out / "full")) == 2);  // never over existing files
  CHECK(ErrorCode(d, "reindex") == 2);                          // the daemon runs
  // I/O errors: 2.
  CHECK(ErrorCode(d, "verify --checkpoint " + Quote(a.out / "missing")) == 2);
  CHECK(ErrorCode(d, "verify-bag " + Quote(a.out / "missing.tar"), /*with_config=*/false) == 2);
  CHECK(ErrorCode(d, "config check " + Quote(a.out / "missing.conf"), /*with_config=*/false) == 2);
  WriteFile(a.out / "bad.conf", "[daemon]\ndata_dir = d\nlisten = nowhere\n");
  CHECK(ErrorCode(d, "config check " + Quote(a.out / "bad.conf"), /*with_config=*/false) == 2);

  // The command ran and the answer is no: 1.
  CHECK(ErrorCode(d, "show no-such-document") == 1);
  CHECK(ErrorCode(d, "history pub:missing.txt") == 1);
  CHECK(ErrorCode(d, "approve no-such-document") == 1);
  CHECK(ErrorCode(d, "classify no-such-document public") == 1);
  CHECK(ErrorCode(d, "approve " + id_a) == 1);  // nothing pending: pub needs no review
  CHECK(ErrorCode(d, "token revoke nobody") == 1);
  CHECK(ErrorCode(d, "export --share nosuch --out " + Quote(a.out / "none.tar")) == 1);

  // Problems found: 1, and the JSON result names them.
  const std::string bag = a.out / "bag.tar";
  REQUIRE(Run(d, "export --out " + Quote(bag)).exit_code == 0);
  REQUIRE(d.Stop() == 0);
  std::string data = Slurp(bag);
  const size_t at = data.find("乙文件 beta");
  REQUIRE(at != std::string::npos);
  data[at + std::string("乙文件 ").size()] = 'B';
  WriteFile(bag, data);
  CliResult bad_bag = Run(d, "verify-bag " + Quote(bag) + " --json", /*with_config=*/false);
  CHECK(bad_bag.exit_code == 1);
  CHECK_FALSE(Json(bad_bag)->getValue<bool>("ok"));
  for (const auto& e : std::filesystem::recursive_directory_iterator(d.root() + "/data/blobs"))
    if (e.is_regular_file() && Slurp(e.path().string()) == "乙文件 beta\n") {
      std::filesystem::permissions(e.path(), std::filesystem::perms::owner_write,
                                   std::filesystem::perm_options::add);
      WriteFile(e.path().string(), "乙文件 BETA\n");
    }
  CliResult bad = Run(d, "verify --json");
  CHECK(bad.exit_code == 1);
  auto report = Json(bad);
  CHECK_FALSE(report->getValue<bool>("ok"));
  CHECK(report->getArray("problems")->size() >= 1);
  CHECK(Run(d, "verify").out.find("PROBLEM ") != std::string::npos);
}

TEST_CASE("cli: long jobs report progress on stderr and end with a summary line", "[e2e][cli]") {
  Archive a;
  DaemonProcess& d = a.d;
  d.Start();
  d.WaitIdle(3);
  const std::string bag = a.out / "bag.tar";
  // Not a terminal: plain lines, and one summary line each (".. in 0.1 s (...)").
  auto summary = [](const CliResult& r, const std::string& line) {
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find(line) != std::string::npos);
    CHECK(r.err.find('\r') == std::string::npos);
  };
  summary(Run(d, "export --out " + Quote(bag)), "export: 3 files, 0.0 MB in ");
  summary(Run(d, "verify-bag " + Quote(bag), /*with_config=*/false), "verify-bag: 0.0 MB in ");
  summary(Run(d, "backup " + Quote(a.out / "backup")), "backup: 3 blobs, 0.0 MB in ");
  CliResult verify = Run(d, "verify");
  summary(verify, "verify records: 3 records in ");
  summary(verify, "verify blobs: 0.0 MB in ");
  REQUIRE(d.Stop() == 0);
  summary(Run(d, "reindex"), "reindex: 3 records in ");
  // --json: the result only, no progress.
  CHECK(Run(d, "reindex --json").err.empty());
  CHECK(Run(d, "verify --json").err.empty());

  // A terminal (script(1) gives the command one): a redrawn line, then the summary.
  if (::access("/usr/bin/script", X_OK) == 0) {
    auto tty = RunCommand(
        "script -qec " +
        Quote(std::string(GONGKAI_PATH) + " --config " + Quote(d.config()) + " reindex") +
        " /dev/null");
    INFO(tty.out);
    CHECK(tty.exit_code == 0);
    CHECK(tty.out.find("\rreindex: 3 records in ") != std::string::npos);
    CHECK(tty.out.find("\x1b[K") != std::string::npos);
  }
}

TEST_CASE("cli: run as root, it becomes the data folder's owner and leaves nothing root-owned",
          "[e2e][cli][root]") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: not running as root; a non-root caller never changes user");
    return;
  }
  Archive a;
  DaemonProcess& d = a.d;
  // The tokens file inside the data folder, as the package installs it.
  std::string conf = Slurp(d.config());
  conf.replace(conf.find("tokens_file = tokens"), 20, "tokens_file = data/tokens");
  WriteFile(d.config(), conf);
  WriteFile(d.root() + "/data/tokens", Slurp(d.root() + "/tokens"));
  d.Start();
  d.WaitIdle(3);
  REQUIRE(d.Stop() == 0);
  // As after `chown -R gongkai: /var/lib/gongkai`, with nobody as the daemon's user.
  ::chmod(d.root().c_str(), 0755);
  REQUIRE(RunCommand("chown -R nobody:nogroup " + Quote(d.root() + "/data")).exit_code == 0);

  CliResult status = Run(d, "status");
  CHECK(status.exit_code == 0);
  CHECK(status.err.find("gongkai: running as nobody (uid 65534, gid 65534), the owner of ") == 0);
  for (const std::string& args :
       {std::string("token add --role admin --name ops"), std::string("keys rotate"),
        "approve " + IdOf(d, "rev:c.txt"), "classify " + IdOf(d, "pub:a.txt") + " restricted",
        std::string("search alpha"), std::string("verify"), std::string("reindex"),
        std::string("backup ") + Quote(d.root() + "/data/backup")}) {
    CliResult r = Run(d, args);
    INFO(args << "\n" << r.err);
    CHECK(r.exit_code == 0);
  }
  std::string not_nobody;  // "path uid:gid" lines
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(d.root() + "/data")) {
    struct stat st {};
    ++files;
    if (::lstat(e.path().c_str(), &st) == 0 && (st.st_uid != 65534 || st.st_gid != 65534))
      not_nobody += e.path().string() + " " + std::to_string(st.st_uid) + ":" +
                    std::to_string(st.st_gid) + "\n";
  }
  CHECK(files > 10);
  CHECK(not_nobody == "");

  // --no-drop stays root: the rewritten tokens file is root's now.
  CliResult kept = Run(d, "--no-drop token add --role admin --name root-made");
  CHECK(kept.exit_code == 0);
  CHECK(kept.err.find("running as") == std::string::npos);
  struct stat st {};
  REQUIRE(::stat((d.root() + "/data/tokens").c_str(), &st) == 0);
  CHECK(st.st_uid == 0);
}
