#include "gongkai/storage/verify.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"

namespace gongkai::storage {
namespace {

constexpr int64_t kChunk = 2000;

struct VersionEvent {  // what a `version` record says
  int64_t seq;
  std::string sha256;
  int64_t size;
  std::string meta;  // hex SHA-256 of the metadata JSON, "" in records that predate it
};

// Whether `date` (YYYY-MM-DD, a local date) is the UTC date of `time`
// (RFC 3339 UTC) or the day before or after: any time zone's date then.
bool NearDate(const std::string& date, const std::string& time) {
  const auto day = [](const std::string& s) -> int64_t {
    std::tm tm{};
    if (s.size() < 10 || !strptime(s.substr(0, 10).c_str(), "%Y-%m-%d", &tm)) return INT64_MIN / 2;
    return static_cast<int64_t>(timegm(&tm)) / 86400;
  };
  const int64_t d = day(date) - day(time);
  return d >= -1 && d <= 1;
}

struct RequestRecord {  // what a request's record says
  std::string request, event, date, outcome, reply_document, details_sha256, note_sha256;
  int64_t days = 0;
  std::string channel, applicant_type;  // request.received only
};

// Runs fn(0..n-1) on all cores; fn must be thread-safe.
void ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  const size_t threads =
      std::max<size_t>(1, std::min<size_t>(n / 8 + 1, std::thread::hardware_concurrency()));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

// Hashes a blob file; returns its hex SHA-256 and size, or an error.
Result<std::pair<std::string, uint64_t>> HashFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open " + path);
  Sha256 h;
  std::string buf(1 << 20, '\0');
  uint64_t size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    h.Update(buf.data(), static_cast<size_t>(n));
    size += static_cast<uint64_t>(n);
  }
  if (in.bad()) return Status::IOError("read error in " + path);
  return std::make_pair(Hex(h.Finish()), size);
}

class Verifier {
 public:
  Verifier(Catalog* c, const BlobStore& b, std::string root, const VerifyOptions& o)
      : catalog_(c), blobs_(b), blobs_root_(std::move(root)), opt_(o) {}

  Result<VerifyReport> Run() {
    if (Status s = catalog_->BeginSnapshot(); !s.ok()) return s;
    Status s = RunInSnapshot();
    catalog_->EndSnapshot();
    if (!s.ok()) return s;
    return report_;
  }

 private:
  void Problem(std::string where, std::string what) {
    report_.problems.push_back({std::move(where), std::move(what)});
  }
  void Progress(const std::string& stage, uint64_t done, uint64_t total) {
    if (opt_.progress) opt_.progress(stage, done, total);
  }

  Status RunInSnapshot() {
    auto integrity = catalog_->IntegrityCheck();
    if (!integrity.ok()) return integrity.status();
    if (*integrity != "ok") Problem("catalog", "integrity check: " + *integrity);

    if (Status s = LoadKeys(); !s.ok()) return s;
    auto checkpoints = catalog_->Checkpoints();
    if (!checkpoints.ok()) return checkpoints.status();
    report_.checkpoints = checkpoints->size();
    std::set<uint64_t> wanted_roots;
    for (const auto& c : *checkpoints) wanted_roots.insert(static_cast<uint64_t>(c.size));
    Result<Checkpoint> external = Status::NotFound("");
    if (!opt_.external_checkpoint.empty()) {
      external = CheckSignedCheckpoint(opt_.external_checkpoint, "given checkpoint");
      if (external.ok()) wanted_roots.insert(external->size);
    }
    if (Status s = CheckRecords(wanted_roots); !s.ok()) return s;
    for (const auto& c : *checkpoints) {
      const std::string where = "checkpoint " + std::to_string(c.size);
      auto cp = CheckSignedCheckpoint(c.text, where);
      if (!cp.ok()) continue;
      if (cp->size != static_cast<uint64_t>(c.size))
        Problem(where, "body says tree size " + std::to_string(cp->size));
      CheckRoot(where, *cp);
    }
    if (external.ok()) CheckRoot("given checkpoint", *external);
    if (Status s = CheckDocuments(); !s.ok()) return s;
    if (Status s = CheckRequests(); !s.ok()) return s;
    if (Status s = CheckReportFigures(); !s.ok()) return s;
    return CheckBlobs();
  }

  Status LoadKeys() {
    auto keys = catalog_->Keys();
    if (!keys.ok()) return keys.status();
    for (const auto& k : *keys) {
      auto raw = RawPublicFromPem(k.public_pem);
      if (!raw.ok()) {
        Problem("key " + k.key_id, raw.status().message());
        continue;
      }
      if (Hex(Sha256Of(*raw)) != k.key_id)
        Problem("key " + k.key_id, "key_id is not the SHA-256 of its public key");
      keys_[k.key_id] = *raw;
    }
    if (keys_.empty()) Problem("keys", "no signing keys registered");
    return Status::OK();
  }

  Result<Checkpoint> CheckSignedCheckpoint(const std::string& text, const std::string& where) {
    for (const auto& [id, raw] : keys_) {
      auto cp = VerifyCheckpoint(text, opt_.origin, raw);
      if (cp.ok()) return cp;
    }
    auto body = ParseCheckpointBody(text);
    std::string why =
        body.ok() ? (body->origin != opt_.origin
                         ? "origin '" + body->origin + "' is not this log's '" + opt_.origin + "'"
                         : "no valid signature by any of the archive's keys")
                  : body.status().message();
    Problem(where, why);
    return Status::Corruption(why);
  }

  void CheckRoot(const std::string& where, const Checkpoint& cp) {
    if (cp.size > records_seen_) {
      Problem(where, "covers " + std::to_string(cp.size) + " records but the log has only " +
                         std::to_string(records_seen_) + " (rolled back or truncated?)");
      return;
    }
    auto it = roots_.find(cp.size);
    if (it == roots_.end() || it->second != cp.root)
      Problem(where, "root hash does not match the records (the log was rewritten)");
  }

  Status CheckRecords(const std::set<uint64_t>& wanted_roots) {
    StreamingTree tree;
    if (wanted_roots.count(0)) roots_[0] = tree.Root();
    auto counts = catalog_->Counts();
    if (!counts.ok()) return counts.status();
    const uint64_t total = static_cast<uint64_t>(counts->records);
    int64_t expected_seq = 0;
    for (int64_t first = 0;; first += kChunk) {
      auto rows = catalog_->Records(first, kChunk);
      if (!rows.ok()) return rows.status();
      // Signatures are the costly part and independent: check them on all cores.
      std::vector<char> signed_ok(rows->size());
      ParallelFor(rows->size(), [&](size_t i) {
        const RecordRow& r = (*rows)[i];
        auto key = keys_.find(r.key_id);
        auto sig = Base64Decode(r.signature);
        signed_ok[i] = key != keys_.end() && sig.ok() && VerifyEd25519(key->second, r.record, *sig);
      });
      for (size_t i = 0; i < rows->size(); ++i)
        CheckRecord((*rows)[i], signed_ok[i] != 0, expected_seq, tree, wanted_roots);
      Progress("records", static_cast<uint64_t>(expected_seq), total);
      if (static_cast<int64_t>(rows->size()) < kChunk) break;
    }
    records_seen_ = static_cast<uint64_t>(expected_seq);
    report_.records = records_seen_;
    for (const auto& [year, serials] : index_serials_)
      if (static_cast<size_t>(*serials.rbegin()) != serials.size())
        Problem("index numbers of " + std::to_string(year),
                std::to_string(serials.size()) + " given but the highest serial is " +
                    std::to_string(*serials.rbegin()) + " (a gap)");
    return Status::OK();
  }

  void CheckRecord(const RecordRow& r, bool signature_ok, int64_t& expected_seq,
                   StreamingTree& tree, const std::set<uint64_t>& wanted_roots) {
    const std::string where = "record " + std::to_string(r.seq);
    if (r.seq != expected_seq) {
      Problem(where, "sequence gap: expected record " + std::to_string(expected_seq));
      expected_seq = r.seq;
    }
    ++expected_seq;
    const Digest leaf = LeafHash(r.record);
    if (Hex(leaf) != r.leaf) Problem(where, "stored leaf hash does not match the record bytes");
    for (const TreeNode& node : tree.Append(leaf)) {
      auto stored = catalog_->TreeNode(node.level, node.index);
      if (!stored.ok() || *stored != node.hash)
        Problem(where, "Merkle node (" + std::to_string(node.level) + ", " +
                           std::to_string(node.index) + ") " +
                           (stored.ok() ? "differs from the recomputed hash" : "is missing"));
    }
    if (wanted_roots.count(tree.size())) roots_[tree.size()] = tree.Root();

    if (!keys_.count(r.key_id))
      Problem(where, "signed by unknown key " + r.key_id);
    else if (!signature_ok)
      Problem(where, "signature does not verify");

    Poco::JSON::Object::Ptr o;
    try {
      o = Poco::JSON::Parser().parse(r.record).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception&) {
      Problem(where, "record is not a JSON object");
      return;
    }
    auto str = [&](const char* k) { return o->optValue<std::string>(k, ""); };
    if (o->optValue<Poco::Int64>("seq", -1) != r.seq)
      Problem(where, "record's seq field is not its log index");
    if (str("doc") != r.doc) Problem(where, "record's doc field differs from the catalog row");
    if (str("key") != r.key_id)
      Problem(where, "record's key field differs from the signing key id");
    const std::string event = str("event");
    const std::string chain = ChainOf(r.doc, str("request"));
    const std::string& prev = last_leaf_[chain];
    if (str("prev") != prev)
      Problem(where, "prev does not chain to " + chain + "'s previous record");
    last_leaf_[chain] = r.leaf;
    if (event.rfind("request.", 0) == 0) {
      if (!r.doc.empty() || str("request").empty())
        Problem(where, "request record without a request code, or with a document");
      request_records_[r.seq] =
          RequestRecord{str("request"),        event.substr(8),
                        str("date"),           str("outcome"),
                        str("reply_document"), str("details_sha256"),
                        str("note_sha256"),    o->optValue<Poco::Int64>("days", 0),
                        str("channel"),        str("applicant_type")};
      return;
    }
    if (event == "report.figures") {
      if (!r.doc.empty()) Problem(where, "report figures record with a document");
      // Log order: the last one of a year is the one in force.
      report_records_[o->optValue<Poco::Int64>("year", 0)] = {r.seq, str("figures"), r.leaf};
      return;
    }
    const std::optional<EventKind> kind = ParseEventKind(event);
    if (!kind) Problem(where, "unknown event '" + event + "'");
    CheckIndexNo(where, r.doc, *o, kind);
    if (kind == EventKind::kVersion) {
      const int64_t version = o->optValue<Poco::Int64>("version", 0);
      auto [it, fresh] = version_events_.emplace(
          std::make_pair(r.doc, version),
          VersionEvent{r.seq, str("sha256"), o->optValue<Poco::Int64>("size", -1), str("meta")});
      if (!fresh)
        Problem(where,
                "second version record for document " + r.doc + " v" + std::to_string(version));
    }
  }

  // 索引号 (CONTRACT.md section 9): only in the record of the event after
  // which its document is first public, active and approved; one per
  // document; never given twice; serial 1, 2, 3, ... within each year. From
  // the first record that carries one on (older logs predate them), every
  // document that becomes public and approved must get one.
  void CheckIndexNo(const std::string& where, const std::string& doc, const Poco::JSON::Object& o,
                    std::optional<EventKind> kind) {
    IndexState& s = index_state_[doc];
    const std::string review = o.optValue<std::string>("review", "");
    if (kind == EventKind::kWithdraw) s.withdrawn = true;
    if (kind == EventKind::kVersion) s.withdrawn = false;
    if ((kind == EventKind::kVersion || kind == EventKind::kApprove) && review == "approved")
      s.approved = true;
    const bool now_public =
        !s.withdrawn && s.approved && o.optValue<std::string>("classification", "") == "public";
    const std::string index_no = o.optValue<std::string>("index_no", "");
    if (index_no.empty()) {
      if (now_public && s.index_no.empty() && index_numbers_seen_)
        Problem(where, "document " + doc + " became public without an index_no");
      return;
    }
    index_numbers_seen_ = true;
    if (!s.index_no.empty())
      Problem(where, "second index_no for document " + doc + " (it has " + s.index_no + ")");
    else if (!now_public)
      Problem(where, "index_no on an event that leaves document " + doc + " not public");
    s.index_no = index_no;
    s.time = o.optValue<std::string>("time", "");
    const size_t slash = index_no.rfind('/');
    int year = 0;
    long long serial = 0;
    if (slash == std::string::npos ||
        std::sscanf(index_no.c_str() + slash + 1, "%4d-%lld", &year, &serial) != 2 || serial < 1) {
      Problem(where, "index_no '" + index_no + "' is not CODE/YYYY-NNNNN");
      return;
    }
    if (!index_serials_[year].insert(serial).second)
      Problem(where, "index_no " + index_no + " was given before");
    // Its year is that of the record's own time, give or take the time zone.
    const std::string time = o.optValue<std::string>("time", "");
    const int recorded = std::atoi(time.substr(0, 4).c_str());
    const std::string day = time.size() >= 10 ? time.substr(5, 5) : "";
    if (year != recorded && !(year == recorded + 1 && day == "12-31") &&
        !(year == recorded - 1 && day == "01-01"))
      Problem(where, "index_no " + index_no + " is of another year than its record (" + time + ")");
  }

  // Each year's stored figures against the latest record of that year, and
  // the figures records' chain against the latest stored.
  Status CheckReportFigures() {
    auto rows = catalog_->AllReportFigures();
    if (!rows.ok()) return rows.status();
    std::string last_leaf;
    int64_t last_index = -1;
    for (const ReportFiguresRow& row : *rows) {
      const std::string where = "report figures of " + std::to_string(row.year);
      auto rec = report_records_.find(row.year);
      if (rec == report_records_.end()) {
        Problem(where, "have no signed record");
        continue;
      }
      if (rec->second.seq != row.log_index || rec->second.leaf != row.leaf)
        Problem(where,
                "are not those of its latest record (" + std::to_string(rec->second.seq) + ")");
      else if (rec->second.figures != row.figures)
        Problem(where, "differ from their signed record");
      if (row.log_index > last_index) last_index = row.log_index, last_leaf = row.leaf;
    }
    std::set<int64_t> stored;
    for (const ReportFiguresRow& row : *rows) stored.insert(row.year);
    for (const auto& [year, rec] : report_records_)
      if (!stored.count(year))
        Problem("record " + std::to_string(rec.seq),
                "report figures of " + std::to_string(year) + " are not in the catalog");
    if (last_leaf != last_leaf_[""])
      Problem("report figures", "the latest stored do not end the chain of their records");
    return Status::OK();
  }

  Status CheckDocuments() {
    auto docs = catalog_->AllDocuments();
    if (!docs.ok()) return docs.status();
    std::set<std::pair<std::string, int64_t>> seen;
    uint64_t done = 0;
    for (const DocumentRow& d : *docs) {
      auto versions = catalog_->Versions(d.id);
      if (!versions.ok()) return versions.status();
      const std::string doc_where = "document " + d.id + " (" + d.share + ":" + d.path + ")";
      if (versions->empty()) Problem(doc_where, "has no versions");
      if (!versions->empty() && versions->back().version != d.current_version)
        Problem(doc_where,
                "current version " + std::to_string(d.current_version) + " is not its latest");
      if (d.last_leaf != last_leaf_[d.id])
        Problem(doc_where, "last record link does not match the log");
      const IndexState& index = index_state_[d.id];
      if (d.index_no != index.index_no)
        Problem(doc_where, "index_no '" + d.index_no + "' differs from its signed record's '" +
                               index.index_no + "'");
      // The date of publication is that of the record that gave the number,
      // give or take the time zone.
      else if (!d.index_no.empty() && !NearDate(d.published, index.time))
        Problem(doc_where, "published " + d.published +
                               " is not the date of its index_no's record (" + index.time + ")");
      int64_t expect = 1;
      for (const VersionRow& v : *versions) {
        const std::string where = doc_where + " v" + std::to_string(v.version);
        if (v.version != expect) Problem(where, "version numbers are not 1, 2, 3, ...");
        expect = v.version + 1;
        seen.insert({d.id, v.version});
        auto ev = version_events_.find({d.id, v.version});
        if (ev == version_events_.end()) {
          Problem(where, "has no signed version record");
        } else {
          if (ev->second.seq != v.log_index)
            Problem(where, "log_index " + std::to_string(v.log_index) + " but its record is " +
                               std::to_string(ev->second.seq));
          if (ev->second.sha256 != v.sha256)
            Problem(where, "sha256 differs from its signed record");
          if (ev->second.size != v.size) Problem(where, "size differs from its signed record");
          if (!ev->second.meta.empty() && ev->second.meta != Hex(Sha256Of(v.meta)))
            Problem(where, "metadata differs from its signed record");
        }
        referenced_[v.sha256] = where;
        sizes_[v.sha256] = v.size;
        ++report_.versions;
      }
      ++report_.documents;
      Progress("documents", ++done, docs->size());
    }
    for (const auto& [key, ev] : version_events_)
      if (!seen.count(key))
        Problem("record " + std::to_string(ev.seq), "version record for document " + key.first +
                                                        " v" + std::to_string(key.second) +
                                                        " has no catalog version");
    return Status::OK();
  }

  // Every request's stored rows against its signed records: the events one
  // for one, the salted commitments to the stored details and notes, and
  // the chain's last link.
  Status CheckRequests() {
    auto requests = catalog_->AllRequests();
    if (!requests.ok()) return requests.status();
    auto events = catalog_->AllRequestEvents();
    if (!events.ok()) return events.status();
    std::map<std::string, const RequestRow*> by_code;
    for (const RequestRow& q : *requests) {
      by_code[q.code] = &q;
      const std::string where = "request " + q.code;
      if (q.last_leaf != last_leaf_[ChainOf("", q.code)])
        Problem(where, "last record link does not match the log");
      ++report_.requests;
    }
    std::set<int64_t> matched;
    for (const RequestEventRow& e : *events) {
      const std::string where = "request " + e.code + " event " + e.event + " (record " +
                                std::to_string(e.log_index) + ")";
      auto rec = request_records_.find(e.log_index);
      auto row = by_code.find(e.code);
      if (rec == request_records_.end()) {
        Problem(where, "has no signed request record");
        continue;
      }
      matched.insert(e.log_index);
      const RequestRecord& r = rec->second;
      if (r.request != e.code || r.event != e.event || r.date != e.date || r.outcome != e.outcome ||
          r.days != e.days || r.reply_document != e.reply_document)
        Problem(where, "differs from its signed record");
      if (row == by_code.end()) {
        Problem(where, "belongs to no stored request");
        continue;
      }
      const RequestRow& q = *row->second;
      if (e.event == "received" &&
          (r.channel != q.channel || r.date != q.received || r.applicant_type != q.applicant_type))
        Problem(where,
                "stored channel, date of receipt or applicant type differs from its "
                "signed record");
      if (r.details_sha256 != SaltedSha256(q.salt, q.details))
        Problem(where, "stored request details differ from what the record commits to");
      const std::string note = RequestNoteJson(e.note, e.approved_by);
      if (r.note_sha256 != (note.empty() ? "" : SaltedSha256(q.salt, note)))
        Problem(where, "stored note or approver differs from what the record commits to");
    }
    for (const auto& [seq, r] : request_records_)
      if (!matched.count(seq))
        Problem("record " + std::to_string(seq),
                "request record for " + r.request + " has no stored event");
    return Status::OK();
  }

  Status CheckBlobs() {
    uint64_t total_bytes = 0, done_bytes = 0;
    for (const auto& [sha, size] : sizes_) total_bytes += static_cast<uint64_t>(size);
    // Hash on all cores; report in a fixed order afterwards.
    std::vector<std::pair<std::string, std::string>> todo(referenced_.begin(), referenced_.end());
    std::vector<Result<std::pair<std::string, uint64_t>>> hashed(todo.size(), Status::NotFound(""));
    std::mutex progress_mutex;
    ParallelFor(todo.size(), [&](size_t i) {
      hashed[i] = HashFile(blobs_.PathOf(todo[i].first));
      std::lock_guard<std::mutex> lock(progress_mutex);
      if (hashed[i].ok()) done_bytes += hashed[i]->second;
      Progress("blobs", done_bytes, total_bytes);
    });
    for (size_t i = 0; i < todo.size(); ++i) {
      const auto& [sha, where] = todo[i];
      const std::string path = blobs_.PathOf(sha);
      const auto& h = hashed[i];
      if (!h.ok()) {
        Problem(where, "blob " + sha + " is missing (" + path + ")");
        continue;
      }
      if (h->first != sha)
        Problem(where, "blob " + path + " content hashes to " + h->first + ", not its name");
      else if (static_cast<int64_t>(h->second) != sizes_[sha])
        Problem(where, "blob size differs from the catalog");
      ++report_.blobs;
      report_.blob_bytes += h->second;
    }
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(blobs_root_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      const std::string name = it->path().filename().string();
      if (!IsSha256Hex(name) || blobs_.PathOf(name) != it->path().string()) {
        Problem("file " + it->path().string(), "unexpected file in the blob store");
      } else if (!referenced_.count(name)) {
        // A crash between a blob's write and its catalog commit leaves one;
        // it is harmless (never served), so it is reported, not failed.
        report_.warnings.push_back({"blob " + name, "not referenced by any version"});
      }
    }
    return Status::OK();
  }

  Catalog* catalog_;
  const BlobStore& blobs_;
  std::string blobs_root_;
  const VerifyOptions& opt_;
  VerifyReport report_;
  std::map<std::string, std::string> keys_;  // key_id -> raw public key
  std::map<std::string, std::string> last_leaf_;
  std::map<std::pair<std::string, int64_t>, VersionEvent> version_events_;
  std::map<int64_t, RequestRecord> request_records_;
  struct FiguresRecord {
    int64_t seq = 0;
    std::string figures, leaf;
  };
  std::map<int64_t, FiguresRecord> report_records_;  // the latest per year
  struct IndexState {                                // a document as its records so far leave it
    bool approved = false, withdrawn = false;
    std::string index_no;
    std::string time;  // of the record that gave it
  };
  std::map<std::string, IndexState> index_state_;
  std::map<int, std::set<long long>> index_serials_;  // by year
  bool index_numbers_seen_ = false;
  std::map<uint64_t, Digest> roots_;
  std::map<std::string, std::string> referenced_;  // sha -> first version using it
  std::map<std::string, int64_t> sizes_;
  uint64_t records_seen_ = 0;
};

}  // namespace

Result<VerifyReport> VerifyArchive(Catalog* catalog, const BlobStore& blobs,
                                   const std::string& blobs_root, const VerifyOptions& options) {
  try {
    return Verifier(catalog, blobs, blobs_root, options).Run();
  } catch (const std::exception& e) {
    return Status::IOError(std::string("verify: ") + e.what());
  }
}

}  // namespace gongkai::storage
