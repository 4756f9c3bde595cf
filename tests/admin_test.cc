// The admin channel's parts without a daemon: requests and answers survive
// the wire, RunAdmin's rules over a fake target, and the socket itself.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "admin.h"
#include "admin_socket.h"
#include "support/temp_dir.h"

using namespace gongkai;
using daemon::AdminAnswer;
using daemon::AdminRequest;
using gongkai::test::TempDir;

TEST_CASE("admin: requests and answers survive the wire, errors keep their code", "[cli][admin]") {
  AdminRequest request;
  request.kind = AdminRequest::Kind::kAddToken;
  request.role = daemon::Role::kAdmin;
  request.name = "審計室 \"two\"";
  auto decoded = daemon::DecodeRequest(daemon::EncodeRequest(request));
  REQUIRE(decoded.ok());
  CHECK(decoded->kind == AdminRequest::Kind::kAddToken);
  CHECK(decoded->role == daemon::Role::kAdmin);
  CHECK(decoded->name == request.name);
  CHECK_FALSE(daemon::DecodeRequest("{\"kind\":\"rm -rf\"}").ok());
  request = AdminRequest{};
  request.kind = AdminRequest::Kind::kClassify;
  request.doc_id = "d1";
  request.classification = Classification::kRestricted;
  decoded = daemon::DecodeRequest(daemon::EncodeRequest(request));
  REQUIRE(decoded.ok());
  CHECK(decoded->classification == Classification::kRestricted);
  auto secret = daemon::DecodeRequest(R"({"kind":"classify","id":"d1","classification":"secret"})");
  CHECK(secret.status().code() == Status::Code::kInvalid);
  CHECK(secret.status().message() == "classification must be public or restricted");
  // An approve request's classification means nothing (older clients sent "").
  CHECK(daemon::DecodeRequest(R"({"kind":"approve","id":"d1","classification":""})").ok());
  CHECK_FALSE(daemon::DecodeRequest("not json").ok());

  AdminAnswer answer;
  answer.doc_id = "d1";
  answer.path = "公告/a.txt";
  answer.changed = true;
  answer.log_index = 7;
  answer.token = daemon::NewToken{"gk_x", {daemon::Role::kInspector, std::string(64, 'a'), "n"}};
  auto back = daemon::DecodeAnswer(daemon::EncodeAnswer(answer));
  REQUIRE(back.ok());
  CHECK(back->path == answer.path);
  CHECK(back->log_index == 7);
  REQUIRE(back->token);
  CHECK(back->token->token == "gk_x");
  for (const Status& s : {Status::NotFound("no document x"), Status::Invalid("nothing pending"),
                          Status::Busy("b"), Status::IOError("disk")}) {
    auto error = daemon::DecodeAnswer(daemon::EncodeAnswer(Result<AdminAnswer>(s)));
    REQUIRE_FALSE(error.ok());
    CHECK(error.status().code() == s.code());
    CHECK(error.status().message() == s.message());
  }
}

TEST_CASE("admin: RunAdmin looks the document up, skips what is so already, reloads tokens",
          "[cli][admin]") {
  TempDir dir;
  int applied = 0, reloaded = 0;
  daemon::AdminTarget target;
  target.find_document = [](const std::string& id) -> Result<std::optional<storage::DocumentRow>> {
    if (id != "d1") return std::optional<storage::DocumentRow>();
    storage::DocumentRow row;
    row.id = "d1", row.share = "pub", row.path = "a.txt",
    row.classification = gongkai::Classification::kPublic;
    return std::optional<storage::DocumentRow>(row);
  };
  target.apply = [&](ledger::Change c) -> Result<ledger::Change> {
    ++applied;
    c.version = 2;
    c.record.seq = 9;
    return c;
  };
  target.tokens_file = dir / "tokens";
  target.reload_tokens = [&] { return ++reloaded, Status::OK(); };

  AdminRequest request;
  request.kind = AdminRequest::Kind::kApprove;
  request.doc_id = "nope";
  CHECK(daemon::RunAdmin(request, target).status().IsNotFound());
  request.kind = AdminRequest::Kind::kClassify;
  request.doc_id = "d1";
  request.classification = gongkai::Classification::kPublic;
  auto same = daemon::RunAdmin(request, target);
  REQUIRE(same.ok());
  CHECK_FALSE(same->changed);
  CHECK(applied == 0);
  request.classification = gongkai::Classification::kRestricted;
  auto changed = daemon::RunAdmin(request, target);
  REQUIRE(changed.ok());
  CHECK(changed->changed);
  CHECK(changed->log_index == 9);
  CHECK_FALSE(changed->indexed);  // nothing feeds an index here
  CHECK(applied == 1);

  request.kind = AdminRequest::Kind::kAddToken;
  request.name = "x";
  REQUIRE(daemon::RunAdmin(request, target).ok());
  CHECK(reloaded == 1);
  target.tokens_file = "";
  CHECK_FALSE(daemon::RunAdmin(request, target).ok());
}

TEST_CASE("admin socket: mode 0600, one answer per request, the caller's pid, gone after Stop",
          "[cli][admin]") {
  TempDir dir;
  const std::string path = dir / "admin.sock";
  daemon::AdminSocket server(path);
  REQUIRE(server.Listen().ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);
  server.Serve([](const AdminRequest& r) -> Result<AdminAnswer> {
    if (r.kind != AdminRequest::Kind::kRotateKey)
      return Status::NotFound("no document " + r.doc_id);
    AdminAnswer a;
    a.key_id = "k2";
    return a;
  });
  for (int i = 0; i < 2; ++i) {
    auto connection = daemon::ConnectAdminSocket(path);
    REQUIRE(connection.ok());
    AdminRequest request;
    request.kind = i == 0 ? AdminRequest::Kind::kRotateKey : AdminRequest::Kind::kApprove;
    request.doc_id = "d9";
    pid_t pid = 0;
    auto answer = daemon::CallAdmin(std::move(*connection), request, std::chrono::seconds(5), &pid);
    CHECK(pid == ::getpid());
    if (i == 0) CHECK(answer.ok());
    if (i == 0 && answer.ok()) CHECK(answer->key_id == "k2");
    if (i == 1) CHECK(answer.status().message() == "no document d9");
  }
  server.Stop();
  CHECK(::access(path.c_str(), F_OK) != 0);
  CHECK(daemon::ConnectAdminSocket(path).status().IsNotFound());
}
