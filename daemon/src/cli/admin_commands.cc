// Administrative changes (approve, classify, keys rotate, token add and
// revoke), made through the running daemon or, when it is stopped, here under
// the data folder's lock (admin_client.h); and the lists of keys and tokens.
#include <iostream>

#include "cli/admin_client.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "gongkai/log.h"
#include "gongkai/storage/env.h"

namespace gongkai::cli {
namespace {

using daemon::AdminRequest;

// NotFound (no such document or token) and Invalid (the ledger refuses:
// nothing pending) are answers, exit 1; anything else is an error, exit 2.
int ChangeFailed(const Status& s) {
  if (s.code() == Status::Code::kNotFound || s.code() == Status::Code::kInvalid)
    return Error(s.message(), 1);
  return Fail(s);
}

// Who made the change and whether it is in effect, for the user.
std::string WhereNote(const ChangeMade& made) {
  if (made.daemon_pid == 0) return "gongkaid is not running; it reads the change at start";
  return "made by gongkaid (pid " + std::to_string(made.daemon_pid) + "), in effect now";
}
// The same for --json: "signalled" (the running daemon has it) or "stopped".
const char* DaemonField(const ChangeMade& made) {
  return made.daemon_pid ? "signalled" : "stopped";
}

// approve and classify: the document, what happened to it, and whether searches show it.
int ChangeDocument(Context& ctx, const Args& args, const AdminRequest& request) {
  auto made = MakeChange(ctx, request);
  if (!made.ok()) return ChangeFailed(made.status());
  const daemon::AdminAnswer& a = made->answer;
  Record r;
  r.Add("id", a.doc_id)
      .Add("share", a.share)
      .Add("path", a.path)
      .Add("classification", a.classification);
  r.Add("changed", a.changed);
  if (!a.changed)
    return Print(args, r, a.doc_id + " is already " + ToString(a.classification) + "\n");
  const bool running = made->daemon_pid != 0;
  if (running && !a.indexed)
    std::cerr
        << "gongkai: the daemon has not indexed the change yet; searches will reflect it shortly\n";
  r.Add("version", a.version)
      .Add("log_index", a.log_index)
      .Add("daemon", running ? "running" : "stopped");
  r.Add("indexed", a.indexed);
  const bool approve = request.kind == AdminRequest::Kind::kApprove;
  return Print(
      args, r,
      (approve ? "approved " : "classified ") + a.share + ":" + log::Printable(a.path) + " v" +
          std::to_string(a.version) +
          (approve ? "" : std::string(" as ") + ToString(a.classification)) + ", log " +
          std::to_string(a.log_index) + "\n" +
          (running ? "" : "gongkaid is not running; it indexes the change when it starts\n"));
}

// Whether the configuration names a tokens file; says so when it does not.
bool HasTokensFile(const Context& ctx) {
  if (!ctx.config.tokens_file.empty()) return true;
  Error("no [auth] tokens_file in " + ctx.config.file);
  return false;
}

}  // namespace

int CmdApprove(Context& ctx, const Args& args) {
  AdminRequest request;
  request.kind = AdminRequest::Kind::kApprove;
  request.doc_id = args.positional[0];
  return ChangeDocument(ctx, args, request);
}

int CmdClassify(Context& ctx, const Args& args) {
  AdminRequest request;
  request.kind = AdminRequest::Kind::kClassify;
  request.doc_id = args.positional[0];
  const std::optional<Classification> classification = ParseClassification(args.positional[1]);
  if (!classification) return UsageError("classify", "classification must be public or restricted");
  request.classification = *classification;
  return ChangeDocument(ctx, args, request);
}

int CmdKeysList(Context& ctx, const Args& args) {
  auto keys = ctx.catalog->Keys();
  if (!keys.ok()) return Fail(keys.status());
  std::vector<Record> list;
  std::string text;
  for (const auto& k : *keys) {
    list.push_back(
        Record().Add("key_id", k.key_id).Add("created", k.created).Add("retired", k.retired));
    text += k.key_id + "  created " + k.created +
            (k.retired.empty() ? "  (active)" : "  retired " + k.retired) + "\n";
  }
  return Print(args, Record().Add("keys", std::move(list)), text);
}

int CmdKeysRotate(Context& ctx, const Args& args) {
  AdminRequest request;
  request.kind = AdminRequest::Kind::kRotateKey;
  auto made = MakeChange(ctx, request);
  if (!made.ok()) return Fail(made.status());
  return Print(args, Record().Add("key_id", made->answer.key_id).Add("daemon", DaemonField(*made)),
               "new signing key " + made->answer.key_id +
                   "; older keys are retired and stay listed\n" + WhereNote(*made) + "\n");
}

int CmdTokenAdd(Context& ctx, const Args& args) {
  const std::string role = args.Option("role"), name = args.Option("name");
  const auto parsed = ledger::ParseTokenRole(role);
  if (!parsed) return UsageError("token add", "token add needs --role inspector|admin|hub");
  if (name.empty() || name.find_first_of("\n\r") != std::string::npos)
    return UsageError("token add", "token add needs --name NAME");
  if (!HasTokensFile(ctx)) return 2;
  AdminRequest request;
  request.kind = AdminRequest::Kind::kAddToken;
  request.role = *parsed;
  request.name = name;
  auto made = MakeChange(ctx, request);
  if (!made.ok()) return Fail(made.status());
  if (!made->answer.token) return Fail(Status::IOError("gongkaid answered without the token"));
  const daemon::NewToken& t = *made->answer.token;
  Record r;
  r.Add("token", t.token).Add("role", role).Add("name", name).Add("sha256", t.entry.sha256_hex);
  const int code = Print(args, r.Add("daemon", DaemonField(*made)), t.token + "\n");
  Note(args, "added " + role + " token '" + name + "' (shown once; only its hash is stored); " +
                 WhereNote(*made));
  return code;
}

int CmdTokenList(Context& ctx, const Args& args) {
  if (!HasTokensFile(ctx)) return 2;
  auto text = storage::ReadFile(ctx.config.tokens_file);
  if (!text.ok()) return Fail(text.status());
  auto tokens = daemon::ParseTokens(*text, ctx.config.tokens_file);
  if (!tokens.ok()) return Fail(tokens.status());
  std::vector<Record> list;
  std::string lines;
  for (const auto& t : *tokens) {
    list.push_back(Record()
                       .Add("role", daemon::ToString(t.role))
                       .Add("sha256", t.sha256_hex)
                       .Add("name", t.name));
    lines += std::string(daemon::ToString(t.role)) + "  " + t.sha256_hex.substr(0, 12) + "  " +
             t.name + "\n";
  }
  return Print(args, Record().Add("tokens", std::move(list)), lines);
}

int CmdTokenRevoke(Context& ctx, const Args& args) {
  if (!HasTokensFile(ctx)) return 2;
  AdminRequest request;
  request.kind = AdminRequest::Kind::kRevokeTokens;
  request.match = args.positional[0];
  auto made = MakeChange(ctx, request);
  if (!made.ok())
    return made.status().IsNotFound() ? Error(made.status().message(), 1) : Fail(made.status());
  return Print(
      args, Record().Add("revoked", made->answer.revoked).Add("daemon", DaemonField(*made)),
      "revoked " + std::to_string(made->answer.revoked) + " token(s); " + WhereNote(*made) + "\n");
}

}  // namespace gongkai::cli
