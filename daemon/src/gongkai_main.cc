// gongkai --config FILE COMMAND ...: the admin and inspector CLI.
//
// Read-only commands (status, search, history) open the catalog and index
// directly (SQLite WAL and Xapian allow readers beside the running daemon);
// reindex needs the daemon stopped. export and backup read one catalog
// snapshot beside the running daemon (storage/bag.h, storage/backup.h);
// verify-bag and config check touch no archive and need no --config.
//
// Output: text, or with --json exactly one JSON object on stdout when the
// command produced a result (exit 0, or 1 for problems found). Errors are
// one "gongkai: ..." line on stderr with nothing on stdout, --json or not.
// Progress of long jobs goes to stderr (progress.h), and not with --json.
// Run by root on a data folder another user owns, the CLI first becomes
// that user (privileges.h) unless --no-drop is given.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "gongkai/ledger/ledger.h"
#include "gongkai/config.h"
#include "gongkai/daemon/layout.h"
#include "gongkai/indexer/index.h"
#include "gongkai/log.h"
#include "gongkai/storage/backup.h"
#include "gongkai/storage/bag.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"
#include "gongkai/storage/env.h"
#include "gongkai/storage/keys.h"
#include "gongkai/storage/verify.h"
#include "auth.h"
#include "freshness.h"
#include "index_check.h"
#include "index_feeder.h"
#include "json_writer.h"
#include "privileges.h"
#include "progress.h"

#ifndef GONGKAI_VERSION
#define GONGKAI_VERSION "unknown"
#endif

namespace gongkai {
namespace {

const char kUsage[] =
    "usage: gongkai --config FILE COMMAND [ARGS] [--json] [--no-drop]\n"
    "       gongkai verify-bag FILE [--json]     (no config needed)\n"
    "       gongkai config check FILE [--json]\n"
    "commands:\n"
    "  status [--json]                    documents, versions, queue and failures\n"
    "  search QUERY [--share S] [--limit N] [--json]\n"
    "                                     full-text search (sees everything)\n"
    "  show|history PATH|SHARE:PATH|ID [--json]\n"
    "                                     one document: metadata and every version\n"
    "  verify [--checkpoint FILE] [--json] check blobs, records, signatures, the Merkle log,\n"
    "                                     checkpoints and the index; exit 1 on any problem\n"
    "  export --out FILE.tar|FILE.zip [--share S] [--since YYYY-MM-DD] [--json]\n"
    "                                     a BagIt bag of every archived version in scope, with\n"
    "                                     signed records, keys, checkpoint and inclusion proofs\n"
    "  verify-bag FILE [--json]           check a bag offline; exit 1 on any problem\n"
    "  backup DIR [--json]                consistent copy of the live archive (catalog, blobs,\n"
    "                                     keys) into the empty or new folder DIR\n"
    "  config check [FILE] [--json]       validate a config (FILE or --config FILE); exit 2 if bad\n"
    "  approve ID [--json]                approve the document's latest pending version\n"
    "  classify ID public|restricted [--json]\n"
    "                                     change a document's classification\n"
    "  keys [list|rotate] [--json]        signing keys; rotate makes a new active key\n"
    "  token add --role inspector|admin --name NAME [--json]\n"
    "                                     prints a new token once, stores its hash\n"
    "  token list [--json] | token revoke NAME|HASH-PREFIX [--json]\n"
    "  report freshness [--as-of YYYY-MM-DD] [--json|--csv]\n"
    "                                     last update per share and category; overdue ones\n"
    "  reindex [--json]                   rebuild the search index from the archive\n"
    "                                     (stop the daemon first)\n"
    "  --version\n"
    "  COMMAND --help                     that command's usage\n"
    "options:\n"
    "    --json      one JSON object on stdout; errors stay one line on stderr, stdout empty\n"
    "    --no-drop   as root, do not become the owner of the data folder first\n"
    "exit codes: 0 ok\n"
    "    1 the command ran and the answer is no: verify, verify-bag: problems found;\n"
    "      show, history, approve, classify: no such document; approve: nothing pending;\n"
    "      token revoke: no such token; export: nothing in scope; export, backup: a\n"
    "      damaged blob; reindex: a document could not be indexed\n"
    "    2 usage error, a config that does not load (config check too), the daemon\n"
    "      running (reindex), or an archive, file or folder that cannot be read or written\n";

// The part of kUsage after the commands: options and exit codes.
std::string UsageTrailer() {
  const std::string usage = kUsage;
  return usage.substr(usage.find("options:\n"));
}

int Usage(const std::string& error) {
  std::cerr << "gongkai: " << error << "\n" << kUsage;
  return 2;
}

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // --share S, --limit N; --csv as "csv" = ""
  bool json = false;
  bool no_drop = false;
};

struct Context {
  std::string config_file;  // --config, "" if not given
  Config config;
  daemon::DataLayout layout{""};
  std::unique_ptr<storage::Catalog> catalog;
};

// Loads the config; then, for a root caller, becomes the data folder's
// owner (unless --no-drop), before anything in the folder is opened.
Result<Context> LoadContext(const std::string& config_file, const Args& args) {
  auto config = LoadConfig(config_file);
  if (!config.ok()) return config.status();
  Context ctx;
  ctx.config_file = config_file;
  ctx.config = std::move(*config);
  ctx.layout = daemon::DataLayout(ctx.config.data_dir);
  if (args.no_drop) return ctx;
  auto dropped = daemon::DropRootToOwnerOf(ctx.config.data_dir);
  if (!dropped.ok()) return dropped.status();
  if (*dropped)
    std::cerr << "gongkai: running as " << (*dropped)->user << " (uid " << (*dropped)->uid << ", gid "
              << (*dropped)->gid << "), the owner of " << ctx.config.data_dir << "; --no-drop to stay root\n";
  return ctx;
}

Status OpenCatalog(Context& ctx) {
  if (::access(ctx.layout.catalog().c_str(), F_OK) != 0)
    return Status::NotFound("no archive in " + ctx.config.data_dir + " yet (has gongkaid run?)");
  auto catalog = storage::OpenSqliteCatalog(ctx.layout.catalog(), storage::Env::Default());
  if (!catalog.ok()) return catalog.status();
  ctx.catalog = std::move(*catalog);
  return Status::OK();
}

void PrintJson(const daemon::JsonWriter& w) { std::cout << w.str() << "\n"; }

int Fail(const Status& s) {
  std::cerr << "gongkai: " << s.ToString() << "\n";
  return 2;
}

int CmdStatus(Context& ctx, const Args& args) {
  if (!args.positional.empty()) return Usage("status takes no arguments");
  auto counts = ctx.catalog->Counts();
  if (!counts.ok()) return Fail(counts.status());
  const bool running = daemon::DataDirLocked(ctx.layout.lock_file());
  // The running daemon publishes its queue and failures in run/status.json.
  int64_t queued = 0, failed = 0;
  if (running) {
    try {
      auto text = storage::ReadFile(ctx.layout.status_file());
      if (text.ok()) {
        auto live = Poco::JSON::Parser().parse(*text).extract<Poco::JSON::Object::Ptr>();
        queued = live->optValue<Poco::Int64>("queued", 0);
        failed = live->optValue<Poco::Int64>("failed", 0);
      }
    } catch (const Poco::Exception&) {
      // Damaged (it is replaced atomically, never half-written): report what the catalog knows.
    }
  }
  if (args.json) {
    daemon::JsonWriter w;
    w.BeginObject()
        .Field("documents", counts->documents)
        .Field("active", counts->active)
        .Field("versions", counts->versions)
        .Field("records", counts->records)
        .Field("queued", queued)
        .Field("failed", failed)
        .Field("daemon", running ? "running" : "stopped")
        .EndObject();
    PrintJson(w);
  } else {
    std::cout << "daemon:     " << (running ? "running" : "stopped") << "\n"
              << "documents:  " << counts->documents << " (" << counts->active << " active)\n"
              << "versions:   " << counts->versions << "\n"
              << "log records:" << " " << counts->records << "\n"
              << "queued:     " << queued << "\n"
              << "failed:     " << failed << "\n";
  }
  return 0;
}

int CmdSearch(Context& ctx, const Args& args) {
  if (args.positional.size() != 1) return Usage("search takes one QUERY (quote it)");
  indexer::Searcher searcher(ctx.layout.index());
  indexer::SearchQuery q;
  q.q = args.positional[0];
  q.anonymous = false;
  q.status = "all";
  if (args.options.count("share")) q.share = args.options.at("share");
  if (args.options.count("limit")) {
    const std::string& limit = args.options.at("limit");
    if (limit.empty() || limit.size() > 4 || limit.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(limit) < 1)
      return Usage("--limit takes a number from 1 to 9999");
    q.limit = std::stoi(limit);
  }
  auto r = searcher.Search(q);
  if (!r.ok()) return Fail(r.status());
  if (args.json) {
    daemon::JsonWriter w;
    w.BeginObject().Field("total", r->total).Key("results").BeginArray();
    for (const auto& h : r->hits)
      w.BeginObject()
          .Field("id", h.doc.id)
          .Field("share", h.doc.share)
          .Field("path", h.doc.path)
          .Field("title", h.doc.title)
          .Field("version", h.doc.version)
          .Field("status", h.doc.status)
          .Field("snippet", h.snippet)
          .EndObject();
    w.EndArray().EndObject();
    PrintJson(w);
    return 0;
  }
  std::cout << r->total << " documents match\n";
  for (const auto& h : r->hits) {
    // Names and titles come from shares: printed without raw control characters.
    std::cout << h.doc.id << "  " << h.doc.share << ":" << log::Printable(h.doc.path) << "  v" << h.doc.version
              << (h.doc.status == "withdrawn" ? "  (withdrawn)" : "") << "\n    " << log::Printable(h.doc.title)
              << "\n";
  }
  return 0;
}

int CmdHistory(Context& ctx, const Args& args) {
  if (args.positional.size() != 1) return Usage("history takes one PATH, SHARE:PATH or ID");
  const std::string& what = args.positional[0];
  std::optional<storage::DocumentRow> doc;
  if (auto r = ctx.catalog->GetDocument(what); r.ok() && r->has_value()) doc = **r;
  if (!doc) {
    size_t colon = what.find(':');
    if (colon != std::string::npos) {
      if (auto r = ctx.catalog->FindByPath(what.substr(0, colon), what.substr(colon + 1)); r.ok() && r->has_value())
        doc = **r;
    }
  }
  if (!doc) {
    for (const ShareConfig& s : ctx.config.shares) {
      std::string rel = what;
      if (rel.rfind(s.path + "/", 0) == 0) rel = rel.substr(s.path.size() + 1);  // absolute path
      if (auto r = ctx.catalog->FindByPath(s.name, rel); r.ok() && r->has_value()) {
        doc = **r;
        break;
      }
    }
  }
  if (!doc) {
    std::cerr << "gongkai: no document " << what << "\n";
    return 1;
  }
  auto versions = ctx.catalog->Versions(doc->id);
  if (!versions.ok()) return Fail(versions.status());
  // What extraction said about the current version (why it has no text, or
  // an archive's summary: members indexed and skipped), from its index entry.
  std::string text_note;
  if (auto indexed = indexer::Searcher(ctx.layout.index()).Get(doc->id); indexed.ok())
    text_note = indexed->text_note;
  if (args.json) {
    daemon::JsonWriter w;
    w.BeginObject()
        .Field("id", doc->id)
        .Field("share", doc->share)
        .Field("path", doc->path)
        .Field("status", doc->status)
        .Field("classification", doc->classification)
        .Field("created", doc->created)
        .Field("updated", doc->updated)
        .Field("text_note", text_note);
    w.Key("meta").Raw(versions->empty() || versions->back().meta.empty() ? "{}" : versions->back().meta);
    w.Key("versions").BeginArray();
    for (const auto& v : *versions) daemon::WriteVersion(w, v);
    w.EndArray().EndObject();
    PrintJson(w);
    return 0;
  }
  std::cout << doc->share << ":" << log::Printable(doc->path) << "  id " << doc->id << "  " << doc->status << ", "
            << doc->classification << "\n";
  if (!versions->empty() && versions->back().meta != "{}" && !versions->back().meta.empty())
    std::cout << "  metadata " << log::Printable(versions->back().meta) << "\n";
  for (const auto& v : *versions)
    std::cout << "  v" << v.version << "  " << v.archived << "  " << v.sha256 << "  " << v.size
              << " bytes  log " << v.log_index << (v.review == "pending" ? "  (pending review)" : "") << "\n";
  if (!text_note.empty()) std::cout << "  text: " << log::Printable(text_note) << "\n";
  return 0;
}

// A reporter on stderr for a long job, or none with --json (stdout is the
// result; scripts want no progress noise on stderr either).
std::unique_ptr<daemon::ProgressReporter> ProgressFor(const Args& args, const std::string& job,
                                                      const std::string& items) {
  if (args.json) return nullptr;
  return std::make_unique<daemon::ProgressReporter>(std::cerr, job, items,
                                                    daemon::ProgressReporter::For(STDERR_FILENO));
}

int CmdVerify(Context& ctx, const Args& args) {
  if (!args.positional.empty()) return Usage("verify takes no arguments (--checkpoint FILE)");
  storage::VerifyOptions options;
  options.origin = ctx.config.origin;
  if (args.options.count("checkpoint")) {
    auto text = storage::ReadFile(args.options.at("checkpoint"));
    if (!text.ok()) return Fail(text.status());
    options.external_checkpoint = *text;
  }
  // One reporter per stage: records, documents (items), then blobs (bytes).
  std::string stage;
  std::unique_ptr<daemon::ProgressReporter> progress;
  options.progress = [&](const std::string& now, uint64_t done, uint64_t total) {
    if (args.json) return;
    if (now != stage) {
      if (progress) progress->Finish();
      stage = now;
      progress = ProgressFor(args, "verify " + stage, stage == "blobs" ? "" : stage);
    }
    if (stage == "blobs") progress->Update(0, 0, done, total);
    else progress->Update(done, total);
  };
  auto blobs = storage::BlobStore::Open(storage::Env::Default(), ctx.layout.blobs(), ctx.layout.tmp());
  if (!blobs.ok()) return Fail(blobs.status());
  // The index check on a second connection and thread, beside the archive
  // check: most of that is serial (records, documents) between its parallel
  // signature and hashing phases, so the second core is free for it.
  auto index_catalog = storage::OpenSqliteCatalog(ctx.layout.catalog(), storage::Env::Default());
  if (!index_catalog.ok()) return Fail(index_catalog.status());
  storage::VerifyReport index_report;
  std::thread index_check([&] {
    try {
      daemon::VerifyIndex(ctx.config, index_catalog->get(), **blobs, ctx.layout.index(), index_report);
    } catch (const std::exception& e) {  // e.g. bad_alloc: a thread must not let it escape
      index_report.problems.push_back({"index", std::string("check failed: ") + e.what()});
    }
  });
  auto report = storage::VerifyArchive(ctx.catalog.get(), **blobs, ctx.layout.blobs(), options);
  index_check.join();
  if (!report.ok()) return Fail(report.status());
  if (progress) progress->Finish();
  for (auto& p : index_report.problems) report->problems.push_back(std::move(p));
  for (auto& w : index_report.warnings) report->warnings.push_back(std::move(w));
  if (args.json) {
    daemon::JsonWriter w;
    w.BeginObject()
        .Field("ok", report->problems.empty())
        .Field("records", static_cast<int64_t>(report->records))
        .Field("documents", static_cast<int64_t>(report->documents))
        .Field("versions", static_cast<int64_t>(report->versions))
        .Field("blobs", static_cast<int64_t>(report->blobs))
        .Field("blob_bytes", static_cast<int64_t>(report->blob_bytes))
        .Field("checkpoints", static_cast<int64_t>(report->checkpoints));
    for (auto* list : {&report->problems, &report->warnings}) {
      w.Key(list == &report->problems ? "problems" : "warnings").BeginArray();
      for (const auto& p : *list) w.BeginObject().Field("where", p.where).Field("what", p.what).EndObject();
      w.EndArray();
    }
    w.EndObject();
    PrintJson(w);
  } else {
    for (const auto& p : report->problems) std::cout << "PROBLEM " << p.where << ": " << p.what << "\n";
    for (const auto& p : report->warnings) std::cout << "warning " << p.where << ": " << p.what << "\n";
    std::cout << (report->problems.empty() ? "verify: OK" : "verify: FAILED") << " — " << report->records
              << " records, " << report->documents << " documents, " << report->versions << " versions, "
              << report->blobs << " blobs (" << report->blob_bytes << " bytes), "
              << report->checkpoints << " checkpoints; " << report->problems.size() << " problems, "
              << report->warnings.size() << " warnings\n";
  }
  return report->problems.empty() ? 0 : 1;
}

struct Reload {
  const char* daemon;   // "signalled", "stopped" or "unreachable": the "daemon" field of --json output
  std::string message;  // a line for the user
};

// Sends SIGHUP to the running daemon (its pid is in the data folder's lock
// file) so it re-reads tokens and keys.
Reload ReloadDaemon(const Context& ctx) {
  if (!daemon::DataDirLocked(ctx.layout.lock_file()))
    return {"stopped", "gongkaid is not running; it reads the change at start"};
  auto pid = storage::ReadFile(ctx.layout.lock_file());
  const long n = pid.ok() ? std::atol(pid->c_str()) : 0;
  if (n > 1 && ::kill(static_cast<pid_t>(n), SIGHUP) == 0)
    return {"signalled", "sent SIGHUP to gongkaid (pid " + std::to_string(n) + ")"};
  return {"unreachable", "could not signal gongkaid; run: systemctl reload gongkaid"};
}

int CmdToken(Context& ctx, const Args& args) {
  const std::string sub = args.positional.empty() ? "list" : args.positional[0];
  const std::string& file = ctx.config.tokens_file;
  if (file.empty()) {
    std::cerr << "gongkai: no [auth] tokens_file in " << ctx.config.file << "\n";
    return 2;
  }
  std::string text;
  if (auto t = storage::ReadFile(file); t.ok()) text = *t;
  else if (sub != "add") return Fail(t.status());
  auto tokens = daemon::ParseTokens(text, file);
  if (!tokens.ok()) return Fail(tokens.status());
  if (sub == "list") {
    if (args.positional.size() != 1) return Usage("token list takes no arguments");
    daemon::JsonWriter w;
    w.BeginObject().Key("tokens").BeginArray();
    for (const auto& t : *tokens) {
      w.BeginObject().Field("role", daemon::ToString(t.role)).Field("sha256", t.sha256_hex).Field("name", t.name).EndObject();
      if (!args.json) std::cout << daemon::ToString(t.role) << "  " << t.sha256_hex.substr(0, 12) << "  " << t.name << "\n";
    }
    if (args.json) PrintJson(w.EndArray().EndObject());
    return 0;
  }
  if (sub == "add") {
    const std::string role = args.options.count("role") ? args.options.at("role") : "";
    const std::string name = args.options.count("name") ? args.options.at("name") : "";
    if (role != "inspector" && role != "admin") return Usage("token add needs --role inspector|admin");
    if (name.empty() || name.find_first_of("\n\r") != std::string::npos) return Usage("token add needs --name NAME");
    if (args.positional.size() != 1) return Usage("token add takes no arguments besides --role and --name");
    const std::string raw = storage::RandomBytes(24);
    std::string token = "gk_" + storage::Hex(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
    if (!text.empty() && text.back() != '\n') text += '\n';
    const std::string hash = storage::Hex(storage::Sha256Of(token));
    text += role + " " + hash + " " + name + "\n";
    if (Status s = storage::WriteFileAtomically(storage::Env::Default(), file, text, 0600); !s.ok()) return Fail(s);
    const Reload reload = ReloadDaemon(ctx);
    if (args.json) {
      daemon::JsonWriter w;
      PrintJson(w.BeginObject()
                    .Field("token", token)
                    .Field("role", role)
                    .Field("name", name)
                    .Field("sha256", hash)
                    .Field("daemon", reload.daemon)
                    .EndObject());
      return 0;
    }
    std::cout << token << "\n";
    std::cerr << "added " << role << " token '" << name << "' (shown once; only its hash is stored); "
              << reload.message << "\n";
    return 0;
  }
  if (sub == "revoke") {
    if (args.positional.size() != 2) return Usage("token revoke NAME|HASH-PREFIX");
    const std::string& what = args.positional[1];
    std::string kept;
    size_t removed = 0;
    std::istringstream in(text);
    std::string line;
    for (auto it = tokens->begin(); std::getline(in, line);) {
      // Keep comments and blank lines; drop the matching token lines.
      size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') {
        kept += line + "\n";
        continue;
      }
      const bool match = it->name == what || (what.size() >= 8 && it->sha256_hex.rfind(what, 0) == 0);
      ++it;
      if (match) ++removed;
      else kept += line + "\n";
    }
    if (removed == 0) {
      std::cerr << "gongkai: no token named or starting with '" << what << "'\n";
      return 1;
    }
    if (Status s = storage::WriteFileAtomically(storage::Env::Default(), file, kept, 0600); !s.ok()) return Fail(s);
    const Reload reload = ReloadDaemon(ctx);
    if (args.json) {
      daemon::JsonWriter w;
      PrintJson(w.BeginObject().Field("revoked", static_cast<int64_t>(removed)).Field("daemon", reload.daemon).EndObject());
    } else {
      std::cout << "revoked " << removed << " token(s); " << reload.message << "\n";
    }
    return 0;
  }
  return Usage("token takes add, list or revoke");
}

int CmdReport(Context& ctx, const Args& args) {
  if (args.positional.size() != 1 || args.positional[0] != "freshness") return Usage("report takes: freshness");
  const std::string as_of = args.options.count("as-of") ? args.options.at("as-of") : daemon::TodayUtc();
  auto lines = daemon::Freshness(ctx.config, ctx.catalog.get(), as_of);
  if (!lines.ok()) return Usage(lines.status().message());
  if (args.json) {
    std::cout << daemon::FreshnessJson(as_of, *lines) << "\n";
  } else if (args.options.count("csv")) {
    std::cout << daemon::FreshnessCsv(*lines);
  } else {
    std::cout << "freshness as of " << as_of << "\n";
    for (const auto& l : *lines)
      std::cout << (l.overdue ? "OVERDUE " : "ok      ") << l.share << (l.category.empty() ? "" : " / " + l.category)
                << " (" << l.office << "): "
                << (l.last_version.empty() ? "nothing published" : "last " + l.last_version + ", " +
                                                                        std::to_string(l.days_since) + " days ago")
                << ", expected every " << l.update_every_days << " days\n";
  }
  return 0;
}

// approve ID / classify ID public|restricted: a signed record, written to the
// catalog directly (SQLite serialises this writer with the daemon's); a
// running daemon indexes it within seconds, and we wait for that so that,
// when this returns, searches already reflect the change.
int CmdChange(Context& ctx, const Args& args, ledger::Change::Kind kind) {
  const bool approve = kind == ledger::Change::Kind::kApprove;
  if (args.positional.size() != (approve ? 1u : 2u))
    return Usage(approve ? "approve takes a document ID" : "classify takes a document ID and public|restricted");
  ledger::Change change;
  change.kind = kind;
  change.doc_id = args.positional[0];
  if (!approve) {
    change.classification = args.positional[1];
    if (change.classification != "public" && change.classification != "restricted")
      return Usage("classification must be public or restricted");
  }
  auto doc = ctx.catalog->GetDocument(change.doc_id);
  if (!doc.ok()) return Fail(doc.status());
  if (!doc->has_value()) {
    std::cerr << "gongkai: no document " << change.doc_id << "\n";
    return 1;
  }
  // The JSON result: the document, and what happened to it.
  auto result = [&](bool changed) {
    daemon::JsonWriter w;
    w.BeginObject()
        .Field("id", change.doc_id)
        .Field("share", (*doc)->share)
        .Field("path", (*doc)->path)
        .Field("classification", approve ? (*doc)->classification : change.classification)
        .Field("changed", changed);
    return w;
  };
  if (!approve && (*doc)->classification == change.classification) {
    if (args.json) PrintJson(result(false).EndObject());
    else std::cout << change.doc_id << " is already " << change.classification << "\n";
    return 0;
  }
  auto key = storage::LoadActiveSigningKey(ctx.layout.keys());
  if (!key.ok()) return Fail(key.status());
  auto writer = storage::OpenSqliteCatalog(ctx.layout.catalog(), storage::Env::Default());
  if (!writer.ok()) return Fail(writer.status());
  ledger::Ledger ledger(writer->get(), storage::Env::Default(), ctx.config.origin);
  std::vector<ledger::Change> changes{change};
  if (Status s = ledger.Apply(changes, **key); !s.ok()) {
    std::cerr << "gongkai: " << s.message() << "\n";
    return s.code() == Status::Code::kInvalid || s.code() == Status::Code::kNotFound ? 1 : 2;  // refused : failed
  }
  const int64_t seq = changes[0].record.seq;
  if (!args.json)
    std::cout << (approve ? "approved " : "classified ") << (*doc)->share << ":" << log::Printable((*doc)->path) << " v"
              << changes[0].version << (approve ? "" : " as " + change.classification) << ", log " << seq << "\n";
  // Whether searches already show the change (a stopped daemon indexes it when it starts).
  bool indexed = false;
  const bool running = daemon::DataDirLocked(ctx.layout.lock_file());
  if (running) {
    indexer::Searcher searcher(ctx.layout.index());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      searcher.Invalidate();
      auto mark = searcher.Watermark();
      if (mark.ok() && *mark >= seq) {
        indexed = true;
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        std::cerr << "gongkai: the daemon has not indexed the change yet; searches will reflect it shortly\n";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  } else if (!args.json) {
    std::cout << "gongkaid is not running; it indexes the change when it starts\n";
  }
  if (args.json)
    PrintJson(result(true).Field("version", changes[0].version).Field("log_index", seq)
                  .Field("daemon", running ? "running" : "stopped")
                  .Field("indexed", indexed)
                  .EndObject());
  return 0;
}

int CmdApprove(Context& ctx, const Args& args) { return CmdChange(ctx, args, ledger::Change::Kind::kApprove); }
int CmdClassify(Context& ctx, const Args& args) { return CmdChange(ctx, args, ledger::Change::Kind::kClassify); }

int CmdKeys(Context& ctx, const Args& args) {
  const std::string sub = args.positional.empty() ? "list" : args.positional[0];
  if (args.positional.size() > 1) return Usage("keys takes list or rotate");
  if (sub == "rotate") {
    auto key = storage::RotateSigningKey(storage::Env::Default(), ctx.layout.keys(), ctx.catalog.get());
    if (!key.ok()) return Fail(key.status());
    const Reload reload = ReloadDaemon(ctx);
    if (args.json) {
      daemon::JsonWriter w;
      PrintJson(w.BeginObject().Field("key_id", (*key)->KeyId()).Field("daemon", reload.daemon).EndObject());
    } else {
      std::cout << "new signing key " << (*key)->KeyId() << "; older keys are retired and stay listed\n"
                << reload.message << "\n";
    }
    return 0;
  }
  if (sub != "list") return Usage("keys takes list or rotate");
  auto keys = ctx.catalog->Keys();
  if (!keys.ok()) return Fail(keys.status());
  if (args.json) {
    daemon::JsonWriter w;
    w.BeginObject().Key("keys").BeginArray();
    for (const auto& k : *keys)
      w.BeginObject().Field("key_id", k.key_id).Field("created", k.created).Field("retired", k.retired).EndObject();
    w.EndArray().EndObject();
    PrintJson(w);
  } else {
    for (const auto& k : *keys)
      std::cout << k.key_id << "  created " << k.created << (k.retired.empty() ? "  (active)" : "  retired " + k.retired) << "\n";
  }
  return 0;
}

int CmdReindex(Context& ctx, const Args& args) {
  if (!args.positional.empty()) return Usage("reindex takes no arguments");
  std::string error;
  int lock = daemon::LockDataDir(ctx.layout.lock_file(), &error);
  if (lock < 0) {
    std::cerr << "gongkai: " << error << "; stop the daemon first (systemctl stop gongkaid)\n";
    return 2;
  }
  auto blobs = storage::BlobStore::Open(storage::Env::Default(), ctx.layout.blobs(), ctx.layout.tmp());
  if (!blobs.ok()) return Fail(blobs.status());
  auto writer = indexer::IndexWriter::Open(ctx.layout.index());
  if (!writer.ok()) return Fail(writer.status());
  auto counts = ctx.catalog->Counts();
  if (!counts.ok()) return Fail(counts.status());
  auto docs = ctx.catalog->AllDocuments();
  if (!docs.ok()) return Fail(docs.status());
  if (Status s = (*writer)->Clear(); !s.ok()) return Fail(s);
  auto progress = ProgressFor(args, "reindex", "documents");
  size_t done = 0, errors = 0;
  for (const auto& doc : *docs) {
    auto state = ledger::LoadDocument(*ctx.catalog, doc.id);
    Result<std::vector<indexer::IndexDoc>> views = Status::NotFound("document " + doc.id + " disappeared");
    if (!state.ok()) views = state.status();
    else if (state->has_value()) views = daemon::BuildIndexDocs(ctx.config, **blobs, **state);
    Status s = views.ok() ? Status::OK() : views.status();
    if (views.ok())
      for (const auto& v : *views)
        if (s.ok()) s = (*writer)->Replace(v);
    if (!s.ok()) {
      ++errors;
      const std::string what =
          "gongkai: document " + doc.id + " (" + doc.share + ":" + doc.path + "): " + s.ToString();
      if (progress) progress->Message(what);
      else std::cerr << what << "\n";
    }
    if (progress) progress->Update(++done, docs->size());
    else ++done;
  }
  if (Status s = (*writer)->Commit(counts->records - 1); !s.ok()) return Fail(s);
  if (progress) progress->Finish();
  if (args.json) {
    daemon::JsonWriter w;
    PrintJson(w.BeginObject()
                  .Field("documents", done)
                  .Field("errors", errors)
                  .Field("watermark", counts->records - 1)
                  .EndObject());
  } else {
    std::cout << "reindexed " << done << " documents (" << errors << " errors), watermark " << counts->records - 1
              << "\n";
  }
  ::close(lock);
  return errors ? 1 : 0;
}

int CmdExport(Context& ctx, const Args& args) {
  if (!args.positional.empty() || !args.options.count("out"))
    return Usage("export takes --out FILE.tar|FILE.zip [--share S] [--since YYYY-MM-DD]");
  storage::BagExportOptions options;
  if (args.options.count("share")) options.share = args.options.at("share");
  if (args.options.count("since")) options.since = args.options.at("since");
  options.origin = ctx.config.origin;
  options.software = "gongkai " GONGKAI_VERSION;
  auto progress = ProgressFor(args, "export", "files");
  if (progress) options.progress = [&](uint64_t f, uint64_t ft, uint64_t b, uint64_t bt) { progress->Update(f, ft, b, bt); };
  auto blobs = storage::BlobStore::Open(storage::Env::Default(), ctx.layout.blobs(), ctx.layout.tmp());
  if (!blobs.ok()) return Fail(blobs.status());
  const std::string& out = args.options.at("out");
  auto r = storage::ExportBag(ctx.catalog.get(), **blobs, out, options);
  if (!r.ok()) {
    progress.reset();
    std::cerr << "gongkai: " << r.status().message() << "\n";
    const auto code = r.status().code();
    return code == Status::Code::kNotFound || code == Status::Code::kCorruption ? 1 : 2;
  }
  if (progress) progress->Finish();
  if (args.json) {
    daemon::JsonWriter w;
    w.BeginObject()
        .Field("out", out)
        .Field("bag", r->bag_name)
        .Field("documents", r->documents)
        .Field("files", r->files)
        .Field("bytes", r->bytes)
        .Field("records", r->records)
        .Field("log_size", r->log_size)
        .EndObject();
    PrintJson(w);
  } else {
    std::cout << "exported " << r->files << " versions of " << r->documents << " documents (" << r->bytes
              << " bytes) and " << r->records << " signed records with inclusion proofs against the checkpoint of size "
              << r->log_size << " to " << out << " (bag " << r->bag_name << "/)\n";
  }
  return 0;
}

int CmdVerifyBag(Context&, const Args& args) {
  if (args.positional.size() != 1) return Usage("verify-bag takes one FILE (.tar or .zip)");
  auto progress = ProgressFor(args, "verify-bag", "");
  std::function<void(uint64_t, uint64_t)> on_read;
  if (progress) on_read = [&](uint64_t read, uint64_t size) { progress->Update(0, 0, read, size); };
  auto r = storage::CheckBag(args.positional[0], on_read);
  if (!r.ok()) {
    progress.reset();
    return Fail(r.status());
  }
  if (progress) progress->Finish();
  if (args.json) {
    daemon::JsonWriter w;
    w.BeginObject()
        .Field("ok", r->problems.empty())
        .Field("bag", r->bag_name)
        .Field("payload_files", r->payload_files)
        .Field("payload_bytes", r->payload_bytes)
        .Field("records", r->records)
        .Field("proofs", r->proofs)
        .Field("keys", r->keys)
        .Field("log_size", r->log_size)
        .Key("problems")
        .BeginArray();
    for (const auto& p : r->problems) w.BeginObject().Field("where", p.where).Field("what", p.what).EndObject();
    w.EndArray().EndObject();
    PrintJson(w);
  } else {
    for (const auto& p : r->problems) std::cout << "PROBLEM " << p.where << ": " << p.what << "\n";
    std::cout << (r->problems.empty() ? "verify-bag: OK" : "verify-bag: FAILED") << " — " << r->payload_files
              << " payload files (" << r->payload_bytes << " bytes), " << r->records << " signed records, "
              << r->proofs << " inclusion proofs against the checkpoint of size " << r->log_size << ", " << r->keys
              << " keys; " << r->problems.size() << " problems\n";
  }
  return r->problems.empty() ? 0 : 1;
}

storage::ArchivePaths PathsOf(const daemon::DataLayout& layout) {
  return {layout.catalog(), layout.blobs(), layout.tmp(), layout.keys()};
}

int CmdBackup(Context& ctx, const Args& args) {
  if (args.positional.size() != 1) return Usage("backup takes one DIR (new or empty)");
  const std::string dir = args.positional[0];
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec))
    return Usage("backup: " + dir + " is not empty");
  auto progress = ProgressFor(args, "backup", "blobs");
  auto r = storage::BackupArchive(storage::Env::Default(), PathsOf(ctx.layout), PathsOf(daemon::DataLayout(dir)),
                                  [&](uint64_t f, uint64_t ft, uint64_t b, uint64_t bt) {
                                    if (progress) progress->Update(f, ft, b, bt);
                                  });
  if (!r.ok()) {
    progress.reset();
    std::cerr << "gongkai: " << r.status().message() << "\n";
    return r.status().code() == Status::Code::kCorruption ? 1 : 2;
  }
  if (progress) progress->Finish();
  if (args.json) {
    daemon::JsonWriter w;
    w.BeginObject()
        .Field("dir", dir)
        .Field("records", r->records)
        .Field("versions", r->versions)
        .Field("blobs", r->blobs)
        .Field("bytes", r->bytes)
        .Field("keys", r->keys)
        .EndObject();
    PrintJson(w);
    return 0;
  }
  std::cout << "backed up " << r->records << " records, " << r->versions << " versions, " << r->blobs << " blobs ("
            << r->bytes << " bytes) and " << r->keys << " key files to " << dir
            << "\nto restore: use it as data_dir, run gongkai reindex (or start gongkaid), then gongkai verify\n";
  return 0;
}

// config check [FILE]: parses and validates a config without starting anything.
int CmdConfig(Context& ctx, const Args& args) {
  if (args.positional.empty() || args.positional[0] != "check" || args.positional.size() > 2)
    return Usage("config takes: check [FILE]");
  const std::string file = args.positional.size() == 2 ? args.positional[1] : ctx.config_file;
  if (file.empty()) return Usage("config check needs FILE (or --config FILE)");
  auto config = LoadConfig(file);
  if (!config.ok()) {
    std::cerr << "gongkai: " << config.status().message() << "\n";
    return 2;
  }
  if (args.json) {
    daemon::JsonWriter w;
    w.BeginObject()
        .Field("ok", true)
        .Field("file", config->file)
        .Field("data_dir", config->data_dir)
        .Field("listen", config->listen_host + ":" + std::to_string(config->listen_port))
        .Field("origin", config->origin)
        .Key("shares")
        .BeginArray();
    for (const ShareConfig& s : config->shares)
      w.BeginObject()
          .Field("name", s.name)
          .Field("path", s.path)
          .Field("office", s.office)
          .Field("classification", ToString(s.classification))
          .Field("review", ToString(s.review))
          .Field("watch", ToString(s.watch))
          .EndObject();
    w.EndArray().EndObject();
    PrintJson(w);
    return 0;
  }
  std::cout << "ok: " << config->file << "\n"
            << "  data_dir " << config->data_dir << ", listen " << config->listen_host << ":" << config->listen_port
            << ", origin " << config->origin << "\n"
            << "  " << config->shares.size() << (config->shares.size() == 1 ? " share" : " shares") << "\n";
  for (const ShareConfig& s : config->shares)
    std::cout << "    " << s.name << "  " << s.path << "  (" << s.office << "; " << ToString(s.classification) << ", review "
              << ToString(s.review) << ", watch " << ToString(s.watch) << ")\n";
  return 0;
}

// The usage lines of one command (its line in kUsage and the indented
// continuation lines below it) and the options and exit codes, or the whole
// text for an unknown one.
int Help(const std::string& command) {
  std::istringstream in(kUsage);
  std::string line, out;
  bool in_command = false;
  while (std::getline(in, line)) {
    if (line.rfind("  ", 0) == 0 && line.size() > 2 && line[2] != ' ') {
      const std::string head = line.substr(2, line.find(' ', 2) - 2);
      in_command = head == command || head.find(command + "|") == 0 || head.find("|" + command) != std::string::npos;
    } else if (line.rfind("  ", 0) != 0) {
      in_command = false;
    }
    if (in_command) out += line + "\n";
  }
  std::cout << (out.empty() ? std::string(kUsage) : "usage: gongkai [--config FILE]\n" + out + UsageTrailer());
  return 0;
}

struct Command {
  int (*run)(Context&, const Args&);
  enum class Needs { kNothing, kConfig, kCatalog } needs;
  std::set<std::string> options;  // the --options it takes besides --json and --no-drop
};

const std::map<std::string, Command>& Commands() {
  using N = Command::Needs;
  static const std::map<std::string, Command> kCommands = {
      {"status", {CmdStatus, N::kCatalog, {}}},
      {"search", {CmdSearch, N::kCatalog, {"share", "limit"}}},
      {"show", {CmdHistory, N::kCatalog, {}}},
      {"history", {CmdHistory, N::kCatalog, {}}},
      {"verify", {CmdVerify, N::kCatalog, {"checkpoint"}}},
      {"export", {CmdExport, N::kCatalog, {"out", "share", "since"}}},
      {"verify-bag", {CmdVerifyBag, N::kNothing, {}}},
      {"backup", {CmdBackup, N::kCatalog, {}}},
      {"config", {CmdConfig, N::kNothing, {}}},
      {"approve", {CmdApprove, N::kCatalog, {}}},
      {"classify", {CmdClassify, N::kCatalog, {}}},
      {"keys", {CmdKeys, N::kCatalog, {}}},
      {"token", {CmdToken, N::kConfig, {"role", "name"}}},
      {"report", {CmdReport, N::kCatalog, {"as-of", "csv"}}},
      {"reindex", {CmdReindex, N::kCatalog, {}}}};
  return kCommands;
}

}  // namespace
}  // namespace gongkai

int main(int argc, char** argv) {
  using namespace gongkai;
  std::string config_file, command;
  Args args;
  bool help = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--version") {
      std::cout << "gongkai " GONGKAI_VERSION "\n";
      return 0;
    } else if (a == "-h" || a == "--help") {
      help = true;
    } else if ((a == "--config" || a == "-c") && i + 1 < argc) {
      config_file = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_file = a.substr(9);
    } else if (a == "--json") {
      args.json = true;
    } else if (a == "--no-drop") {
      args.no_drop = true;
    } else if (a == "--csv") {
      args.options["csv"] = "";
    } else if ((a == "--share" || a == "--limit" || a == "--checkpoint" || a == "--role" || a == "--name" ||
                a == "--as-of" || a == "--out" || a == "--since") &&
               i + 1 < argc) {
      args.options[a.substr(2)] = argv[++i];
    } else if (a.rfind("--", 0) == 0) {
      return Usage("unknown option " + a);
    } else if (command.empty()) {
      command = a;
    } else {
      args.positional.push_back(a);
    }
  }
  if (help) return command.empty() ? (std::cout << kUsage, 0) : Help(command);
  if (command.empty()) return Usage("no command given");
  auto it = Commands().find(command);
  if (it == Commands().end()) return Usage("unknown command '" + command + "'");
  const Command& cmd = it->second;
  for (const auto& [option, value] : args.options)
    if (!cmd.options.count(option)) return Usage(command + " does not take --" + option);
  Context ctx;
  ctx.config_file = config_file;
  if (cmd.needs != Command::Needs::kNothing) {
    if (config_file.empty()) return Usage("--config FILE is required");
    auto loaded = LoadContext(config_file, args);
    Status s = loaded.ok() ? Status::OK() : loaded.status();
    if (s.ok()) {
      ctx = std::move(*loaded);
      if (cmd.needs == Command::Needs::kCatalog) s = OpenCatalog(ctx);
    }
    if (!s.ok()) {
      std::cerr << "gongkai: " << s.message() << "\n";
      return 2;
    }
  }
  return cmd.run(ctx, args);
}
