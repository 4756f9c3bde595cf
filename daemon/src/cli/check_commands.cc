// Checking: the archive and its index (verify), an exported bag (verify-bag)
// and a configuration file (config check).
#include <thread>

#include "cli/cli.h"
#include "cli/output.h"
#include "gongkai/storage/bag.h"
#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/env.h"
#include "gongkai/storage/verify.h"
#include "index_check.h"
#include "progress.h"

namespace gongkai::cli {
namespace {

template <typename Problem>  // storage::VerifyProblem, storage::BagProblem
std::vector<Record> ProblemRecords(const std::vector<Problem>& problems) {
  std::vector<Record> out;
  out.reserve(problems.size());
  for (const auto& p : problems) out.push_back(Record().Add("where", p.where).Add("what", p.what));
  return out;
}

// One progress reporter per stage of VerifyArchive: records and documents
// (items), then blobs (bytes).
class StageProgress {
 public:
  explicit StageProgress(const Args& args) : args_(args) {}
  void Update(const std::string& now, uint64_t done, uint64_t total) {
    if (args_.json) return;
    if (now != stage_) {
      if (progress_) progress_->Finish();
      stage_ = now;
      progress_ = ProgressFor(args_, "verify " + stage_, stage_ == "blobs" ? "" : stage_);
    }
    if (stage_ == "blobs")
      progress_->Update(0, 0, done, total);
    else
      progress_->Update(done, total);
  }
  void Finish() {
    if (progress_) progress_->Finish();
  }

 private:
  const Args& args_;
  std::string stage_;
  std::unique_ptr<daemon::ProgressReporter> progress_;
};

// The index check on a second connection and thread, beside the archive
// check: most of that is serial (records, documents) between its parallel
// signature and hashing phases, so the second core is free for it.
Result<storage::VerifyReport> VerifyAll(Context& ctx, const storage::BlobStore& blobs,
                                        const storage::VerifyOptions& options) {
  auto index_catalog = storage::OpenCatalog(ctx.config.catalog_postgres, ctx.layout.catalog(),
                                            storage::Env::Default());
  if (!index_catalog.ok()) return index_catalog.status();
  storage::VerifyReport index_report;
  std::thread index_check([&] {
    try {
      daemon::VerifyIndex(ctx.config, index_catalog->get(), blobs, ctx.layout.index(),
                          index_report);
    } catch (const std::exception& e) {  // e.g. bad_alloc: a thread must not let it escape
      index_report.problems.push_back({"index", std::string("check failed: ") + e.what()});
    }
  });
  auto report = storage::VerifyArchive(ctx.catalog.get(), blobs, ctx.layout.blobs(), options);
  index_check.join();
  if (!report.ok()) return report;
  for (auto& p : index_report.problems) report->problems.push_back(std::move(p));
  for (auto& w : index_report.warnings) report->warnings.push_back(std::move(w));
  return report;
}

std::string VerifyText(const storage::VerifyReport& r) {
  std::string out;
  for (const auto& p : r.problems) out += "PROBLEM " + p.where + ": " + p.what + "\n";
  for (const auto& p : r.warnings) out += "warning " + p.where + ": " + p.what + "\n";
  return out + (r.problems.empty() ? "verify: OK" : "verify: FAILED") + " — " +
         std::to_string(r.records) + " records, " + std::to_string(r.documents) + " documents, " +
         std::to_string(r.versions) + " versions, " + std::to_string(r.blobs) + " blobs (" +
         std::to_string(r.blob_bytes) + " bytes), " + std::to_string(r.requests) + " requests, " +
         std::to_string(r.checkpoints) + " checkpoints; " + std::to_string(r.problems.size()) +
         " problems, " + std::to_string(r.warnings.size()) + " warnings\n";
}

std::string BagText(const storage::BagCheckReport& r) {
  std::string out;
  for (const auto& p : r.problems) out += "PROBLEM " + p.where + ": " + p.what + "\n";
  return out + (r.problems.empty() ? "verify-bag: OK" : "verify-bag: FAILED") + " — " +
         std::to_string(r.payload_files) + " payload files (" + std::to_string(r.payload_bytes) +
         " bytes), " + std::to_string(r.records) + " signed records, " + std::to_string(r.proofs) +
         " inclusion proofs against the checkpoint of size " + std::to_string(r.log_size) + ", " +
         std::to_string(r.keys) + " keys; " + std::to_string(r.problems.size()) + " problems\n";
}

std::string ConfigText(const Config& config) {
  std::string out = "ok: " + config.file + "\n  data_dir " + config.data_dir + ", listen " +
                    config.listen_host + ":" + std::to_string(config.listen_port) + ", origin " +
                    config.origin + "\n  " + std::to_string(config.shares.size()) +
                    (config.shares.size() == 1 ? " share" : " shares") + "\n";
  for (const ShareConfig& s : config.shares)
    out += "    " + s.name + "  " + s.path + "  (" + s.office + "; " + ToString(s.classification) +
           ", review " + ToString(s.review) + ", watch " + ToString(s.watch) + ")\n";
  return out;
}

}  // namespace

int CmdVerify(Context& ctx, const Args& args) {
  storage::VerifyOptions options;
  options.origin = ctx.config.origin;
  if (args.Has("checkpoint")) {
    auto text = storage::ReadFile(args.Option("checkpoint"));
    if (!text.ok()) return Fail(text.status());
    options.external_checkpoint = *text;
  }
  StageProgress progress(args);
  options.progress = [&](const std::string& stage, uint64_t done, uint64_t total) {
    progress.Update(stage, done, total);
  };
  auto blobs =
      storage::BlobStore::Open(storage::Env::Default(), ctx.layout.blobs(), ctx.layout.tmp());
  if (!blobs.ok()) return Fail(blobs.status());
  auto report = VerifyAll(ctx, **blobs, options);
  if (!report.ok()) return Fail(report.status());
  progress.Finish();
  Record r;
  r.Add("ok", report->problems.empty())
      .Add("records", report->records)
      .Add("documents", report->documents);
  r.Add("versions", report->versions)
      .Add("blobs", report->blobs)
      .Add("blob_bytes", report->blob_bytes);
  r.Add("requests", report->requests);
  r.Add("checkpoints", report->checkpoints).Add("problems", ProblemRecords(report->problems));
  r.Add("warnings", ProblemRecords(report->warnings));
  return Print(args, r, VerifyText(*report), report->problems.empty() ? 0 : 1);
}

int CmdVerifyBag(Context&, const Args& args) {
  auto progress = ProgressFor(args, "verify-bag", "");
  std::function<void(uint64_t, uint64_t)> on_read;
  if (progress) on_read = [&](uint64_t read, uint64_t size) { progress->Update(0, 0, read, size); };
  auto bag = storage::CheckBag(args.positional[0], on_read);
  if (!bag.ok()) {
    progress.reset();
    return Fail(bag.status());
  }
  if (progress) progress->Finish();
  Record r;
  r.Add("ok", bag->problems.empty())
      .Add("bag", bag->bag_name)
      .Add("payload_files", bag->payload_files);
  r.Add("payload_bytes", bag->payload_bytes)
      .Add("records", bag->records)
      .Add("proofs", bag->proofs);
  r.Add("keys", bag->keys)
      .Add("log_size", bag->log_size)
      .Add("problems", ProblemRecords(bag->problems));
  return Print(args, r, BagText(*bag), bag->problems.empty() ? 0 : 1);
}

int CmdConfigCheck(Context& ctx, const Args& args) {
  const std::string file = args.positional.empty() ? ctx.config_file : args.positional[0];
  auto config = LoadConfig(file);
  if (!config.ok()) return Error(config.status().message());
  std::vector<Record> shares;
  for (const ShareConfig& s : config->shares)
    shares.push_back(Record()
                         .Add("name", s.name)
                         .Add("path", s.path)
                         .Add("office", s.office)
                         .Add("classification", ToString(s.classification))
                         .Add("review", ToString(s.review))
                         .Add("watch", ToString(s.watch)));
  Record r;
  r.Add("ok", true).Add("file", config->file).Add("data_dir", config->data_dir);
  r.Add("listen", config->listen_host + ":" + std::to_string(config->listen_port))
      .Add("origin", config->origin);
  return Print(args, r.Add("shares", std::move(shares)), ConfigText(*config));
}

}  // namespace gongkai::cli
