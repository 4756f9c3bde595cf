// Copies of the archive beside the running daemon: a BagIt bag (export) and
// a restorable backup (backup).
#include <filesystem>

#include "cli/cli.h"
#include "cli/output.h"
#include "gongkai/storage/backup.h"
#include "gongkai/storage/bag.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/env.h"
#include "progress.h"

#ifndef GONGKAI_VERSION
#define GONGKAI_VERSION "unknown"
#endif

namespace gongkai::cli {
namespace {

storage::ArchivePaths PathsOf(const daemon::DataLayout& layout) {
  return {layout.catalog(), layout.blobs(), layout.tmp(), layout.keys()};
}

// Nothing in scope and a damaged blob are answers (1); the rest errors (2).
int CopyFailed(const Status& s, bool nothing_is_an_answer) {
  const bool answer = s.code() == Status::Code::kCorruption ||
                      (nothing_is_an_answer && s.code() == Status::Code::kNotFound);
  return Error(s.message(), answer ? 1 : 2);
}

}  // namespace

int CmdExport(Context& ctx, const Args& args) {
  if (!args.Has("out")) return UsageError("export", "export takes --out FILE.tar|FILE.zip");
  storage::BagExportOptions options;
  if (args.Has("share")) options.share = args.Option("share");
  if (args.Has("since")) options.since = args.Option("since");
  options.origin = ctx.config.origin;
  options.software = "gongkai " GONGKAI_VERSION;
  auto progress = ProgressFor(args, "export", "files");
  if (progress)
    options.progress = [&](uint64_t f, uint64_t ft, uint64_t b, uint64_t bt) {
      progress->Update(f, ft, b, bt);
    };
  auto blobs =
      storage::BlobStore::Open(storage::Env::Default(), ctx.layout.blobs(), ctx.layout.tmp());
  if (!blobs.ok()) return Fail(blobs.status());
  const std::string out = args.Option("out");
  auto bag = storage::ExportBag(ctx.catalog.get(), **blobs, out, options);
  if (!bag.ok()) {
    progress.reset();
    return CopyFailed(bag.status(), /*nothing_is_an_answer=*/true);
  }
  if (progress) progress->Finish();
  Record r;
  r.Add("out", out)
      .Add("bag", bag->bag_name)
      .Add("documents", bag->documents)
      .Add("files", bag->files);
  r.Add("bytes", bag->bytes).Add("records", bag->records).Add("log_size", bag->log_size);
  return Print(args, r,
               "exported " + std::to_string(bag->files) + " versions of " +
                   std::to_string(bag->documents) + " documents (" + std::to_string(bag->bytes) +
                   " bytes) and " + std::to_string(bag->records) +
                   " signed records with inclusion proofs against the checkpoint of size " +
                   std::to_string(bag->log_size) + " to " + out + " (bag " + bag->bag_name +
                   "/)\n");
}

int CmdBackup(Context& ctx, const Args& args) {
  if (!ctx.config.catalog_postgres.empty())
    return Error(
        "backup copies an SQLite catalog; this one is in PostgreSQL: dump it with pg_dump, then"
        " copy the data folder's blobs/ and keys/ (see gongkai(1), backup)");
  const std::string dir = args.positional[0];
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec))
    return UsageError("backup", "backup: " + dir + " is not empty");
  auto progress = ProgressFor(args, "backup", "blobs");
  auto copied = storage::BackupArchive(storage::Env::Default(), PathsOf(ctx.layout),
                                       PathsOf(daemon::DataLayout(dir)),
                                       [&](uint64_t f, uint64_t ft, uint64_t b, uint64_t bt) {
                                         if (progress) progress->Update(f, ft, b, bt);
                                       });
  if (!copied.ok()) {
    progress.reset();
    return CopyFailed(copied.status(), /*nothing_is_an_answer=*/false);
  }
  if (progress) progress->Finish();
  Record r;
  r.Add("dir", dir)
      .Add("records", copied->records)
      .Add("versions", copied->versions)
      .Add("blobs", copied->blobs);
  r.Add("bytes", copied->bytes).Add("keys", copied->keys);
  return Print(args, r,
               "backed up " + std::to_string(copied->records) + " records, " +
                   std::to_string(copied->versions) + " versions, " +
                   std::to_string(copied->blobs) + " blobs (" + std::to_string(copied->bytes) +
                   " bytes) and " + std::to_string(copied->keys) + " key files to " + dir +
                   "\nto restore: use it as data_dir, run gongkai reindex (or start gongkaid), "
                   "then gongkai verify\n");
}

}  // namespace gongkai::cli
