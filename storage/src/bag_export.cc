// Writing a bag: gongkai export (see bag.h).
#include "gongkai/storage/bag.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "bag_internal.h"
#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"

namespace gongkai::storage {
namespace {

using bag_internal::EndsWith;
using bag_internal::kBufferSize;
using bag_internal::ScopedLocale;

constexpr int64_t kRecordChunk = 2000;

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::time_t ParseRfc3339(const std::string& s) {
  struct tm tm {};
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return ::timegm(&tm);
}

bool IsDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

// A libarchive writer for one bag; every entry name gets the "<bag>/" prefix.
// Not thread-safe. "fd" must stay open while the writer is in use.
class ArchiveOut {
 public:
  ArchiveOut() : a_(archive_write_new()) {}
  ~ArchiveOut() { archive_write_free(a_); }
  ArchiveOut(const ArchiveOut&) = delete;
  ArchiveOut& operator=(const ArchiveOut&) = delete;

  Status Open(int fd, bool zip, std::string prefix) {
    prefix_ = std::move(prefix);
    const int r =
        zip ? archive_write_set_format_zip(a_) : archive_write_set_format_pax_restricted(a_);
    if (r != ARCHIVE_OK) return Error("format");
    // The zip's "names are UTF-8" flag (bit 11), so unzip tools do not read them as CP437.
    if (zip && archive_write_set_options(a_, "zip:hdrcharset=UTF-8") != ARCHIVE_OK)
      return Error("zip options");
    if (archive_write_open_fd(a_, fd) != ARCHIVE_OK) return Error("open");
    return Status::OK();
  }
  Status Begin(const std::string& name, uint64_t size, std::time_t mtime) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, (prefix_ + name).c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    archive_entry_set_mtime(e, mtime, 0);
    const int r = archive_write_header(a_, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK) return Error(name);
    return Status::OK();
  }
  Status Data(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const la_ssize_t w = archive_write_data(a_, p, n);
      if (w <= 0) return Error("write");
      p += w;
      n -= static_cast<size_t>(w);
    }
    return Status::OK();
  }
  Status File(const std::string& name, const std::string& data, std::time_t mtime) {
    if (Status s = Begin(name, data.size(), mtime); !s.ok()) return s;
    return Data(data.data(), data.size());
  }
  Status Close() {
    if (archive_write_close(a_) != ARCHIVE_OK) return Error("close");
    return Status::OK();
  }

 private:
  Status Error(const std::string& what) {
    const char* msg = archive_error_string(a_);
    return Status::IOError("bag: " + what + ": " + (msg ? msg : "libarchive error"));
  }
  archive* a_;
  std::string prefix_;
};

// A tag file too large to hold in memory, built line by line in an anonymous
// temporary file (O_TMPFILE: gone when closed) in `dir`, the bag's folder,
// which needs room for the bag anyway; hashed as it grows.
class Spool {
 public:
  explicit Spool(const std::string& dir) : file_(OpenAnonymous(dir)) {}
  ~Spool() {
    if (file_) std::fclose(file_);
  }
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  Status Add(const std::string& line) {
    if (!file_)
      return Status::IOError("bag: cannot create a temporary file: " +
                             std::string(std::strerror(errno)));
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size())
      return Status::FromErrno(errno, "bag: temporary file");
    hash_.Update(line.data(), line.size());
    size_ += line.size();
    return Status::OK();
  }
  const std::string& Sha256Hex() {
    if (sha_.empty()) sha_ = Hex(hash_.Finish());
    return sha_;
  }
  Status CopyTo(ArchiveOut& out, const std::string& name, std::time_t mtime) {
    if (!file_) return Add("");
    if (std::fflush(file_) != 0 || std::fseek(file_, 0, SEEK_SET) != 0)
      return Status::FromErrno(errno, "bag: temporary file");
    if (Status s = out.Begin(name, size_, mtime); !s.ok()) return s;
    std::string buf(kBufferSize, '\0');
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), file_)) > 0)
      if (Status s = out.Data(buf.data(), n); !s.ok()) return s;
    if (std::ferror(file_)) return Status::IOError("bag: read error in a temporary file");
    return Status::OK();
  }

 private:
  static std::FILE* OpenAnonymous(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) {
      if (std::FILE* f = ::fdopen(fd, "w+")) return f;
      ::close(fd);
    }
    return std::tmpfile();  // a file system without O_TMPFILE
  }
  std::FILE* file_;
  Sha256 hash_;
  std::string sha_;
  uint64_t size_ = 0;
};

struct ExportItem {
  std::string doc, share, path, sha256, modified;
  int64_t version = 0, size = 0, seq = 0;
  std::string file;  // bag-relative name under data/
};

class Exporter {
 public:
  Exporter(Catalog* catalog, const BlobStore& blobs, const std::string& out,
           const BagExportOptions& options)
      : catalog_(catalog),
        blobs_(blobs),
        out_(out),
        spool_dir_(out.find('/') == std::string::npos ? "." : out.substr(0, out.rfind('/') + 1)),
        opt_(options) {}

  Result<BagExportReport> Run() {
    const bool zip = EndsWith(out_, ".zip");
    if (!zip && !EndsWith(out_, ".tar"))
      return Status::Invalid("export: --out must end in .tar or .zip: " + out_);
    if (!opt_.since.empty() && !IsDate(opt_.since))
      return Status::Invalid("export: --since must be a date YYYY-MM-DD, not '" + opt_.since + "'");
    const std::string base = Basename(out_);
    report_.bag_name = base.substr(0, base.size() - 4);
    if (report_.bag_name.empty()) report_.bag_name = "bag";

    // Everything the bag says about the log is read in one snapshot; the
    // payload comes from blobs, which never change, so the snapshot (which
    // keeps the daemon's WAL from being checkpointed) ends before it.
    if (Status s = catalog_->BeginSnapshot(); !s.ok()) return s;
    Status s = ReadInSnapshot();
    catalog_->EndSnapshot();
    const std::string partial = out_ + ".partial";
    if (s.ok()) s = WriteArchive(partial, zip);
    if (!s.ok()) {
      ::unlink(partial.c_str());
      return s;
    }
    if (::rename(partial.c_str(), out_.c_str()) != 0) {
      const int err = errno;
      ::unlink(partial.c_str());
      return Status::FromErrno(err, "export: rename to " + out_);
    }
    return report_;
  }

 private:
  Status ReadInSnapshot() {
    auto latest = catalog_->LatestCheckpoint();
    if (!latest.ok()) return latest.status();
    if (!latest->has_value())
      return Status::NotFound("export: the archive has no checkpoint yet (nothing archived)");
    checkpoint_text_ = (*latest)->text;
    auto cp = ParseCheckpointBody(checkpoint_text_);
    if (!cp.ok()) return cp.status();
    checkpoint_ = *cp;
    report_.log_size = checkpoint_.size;

    if (Status s = Collect(); !s.ok()) return s;
    if (items_.empty())
      return Status::NotFound("export: nothing to export" +
                              std::string(opt_.share.empty() ? "" : " in share " + opt_.share) +
                              (opt_.since.empty() ? "" : " since " + opt_.since));
    if (Status s = SpoolRecords(); !s.ok()) return s;
    auto keys = catalog_->Keys();
    if (!keys.ok()) return keys.status();
    keys_ = std::move(*keys);
    return Status::OK();
  }

  Status WriteArchive(const std::string& partial, bool zip) {
    const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno(errno, "export: " + partial);
    Status s = WriteBag(fd, zip);
    if (s.ok() && ::fsync(fd) != 0) s = Status::FromErrno(errno, "export: fsync " + partial);
    if (::close(fd) != 0 && s.ok()) s = Status::FromErrno(errno, "export: close " + partial);
    return s;
  }

  // The versions in scope, in document order, and their payload names.
  // Reply letters to disclosure requests are left out: each is addressed to
  // one applicant, and a bag goes to archives and libraries.
  Status Collect() {
    auto docs = catalog_->AllDocuments();
    if (!docs.ok()) return docs.status();
    std::vector<std::string> ids;
    for (const DocumentRow& d : *docs) ids.push_back(d.id);
    auto letters = catalog_->ReplyLetters(ids);
    if (!letters.ok()) return letters.status();
    std::set<std::string> names;
    for (const DocumentRow& d : *docs) {
      if (!opt_.share.empty() && d.share != opt_.share) continue;
      if (letters->count(d.id)) continue;
      auto versions = catalog_->Versions(d.id);
      if (!versions.ok()) return versions.status();
      bool any = false;
      for (const VersionRow& v : *versions) {
        if (!opt_.since.empty() && v.archived.substr(0, 10) < opt_.since) continue;
        if (static_cast<uint64_t>(v.log_index) >= checkpoint_.size)
          continue;  // not yet under a checkpoint
        ExportItem item{d.id,      d.share, d.path,      v.sha256, v.modified,
                        v.version, v.size,  v.log_index, ""};
        const std::string folder =
            "data/" + d.share + "/" + d.path + "/v" + std::to_string(v.version);
        item.file = folder + "/" + Basename(d.path);
        // Two documents can have held one path (a withdrawn one and a later
        // one moved there); the document id keeps their files apart.
        if (!names.insert(item.file).second) {
          item.file = folder + "-" + d.id + "/" + Basename(d.path);
          names.insert(item.file);
        }
        report_.bytes += static_cast<uint64_t>(v.size);
        items_.push_back(std::move(item));
        any = true;
      }
      if (any) docs_.insert(d.id);
    }
    report_.documents = docs_.size();
    return Status::OK();
  }

  // Every record of the exported documents, and every request's record
  // (nothing personal is in one), with its signature and inclusion proof.
  Status SpoolRecords() {
    const NodeReader nodes = catalog_->Nodes();
    for (int64_t first = 0; static_cast<uint64_t>(first) < checkpoint_.size;
         first += kRecordChunk) {
      auto rows = catalog_->Records(first, kRecordChunk);
      if (!rows.ok()) return rows.status();
      for (const RecordRow& r : *rows) {
        if (static_cast<uint64_t>(r.seq) >= checkpoint_.size) continue;
        if (!r.doc.empty() ? !docs_.count(r.doc) : !opt_.share.empty()) continue;
        if (r.record.find('\n') != std::string::npos)
          return Status::Corruption("export: record " + std::to_string(r.seq) + " spans lines");
        auto path = InclusionProof(static_cast<uint64_t>(r.seq), checkpoint_.size, nodes);
        if (!path.ok()) return path.status();
        const std::string seq = std::to_string(r.seq);
        std::string proof = "{\"seq\":" + seq + ",\"leaf\":\"" + Hex(LeafHash(r.record)) +
                            "\",\"tree_size\":" + std::to_string(checkpoint_.size) +
                            ",\"inclusion\":[";
        for (size_t i = 0; i < path->size(); ++i)
          proof += (i ? ",\"" : "\"") + Hex((*path)[i]) + "\"";
        proof += "]}\n";
        Status s = records_.Add(r.record + "\n");
        if (s.ok())
          s = signatures_.Add("{\"seq\":" + seq + ",\"key_id\":" + JsonQuote(r.key_id) +
                              ",\"signature\":" + JsonQuote(r.signature) + "}\n");
        if (s.ok()) s = proofs_.Add(proof);
        if (!s.ok()) return s;
        ++report_.records;
      }
      if (static_cast<int64_t>(rows->size()) < kRecordChunk) break;
    }
    return Status::OK();
  }

  Status WriteBag(int fd, bool zip) {
    ScopedLocale utf8("C.UTF-8");
    if (!utf8.ok()) return Status::IOError("export: the C.UTF-8 locale is not available");
    ArchiveOut out;
    if (Status s = out.Open(fd, zip, report_.bag_name + "/"); !s.ok()) return s;
    const std::time_t now = std::time(nullptr);
    std::vector<std::pair<std::string, std::string>> tags;  // name, sha256
    auto tag = [&](const std::string& name, const std::string& data) {
      tags.emplace_back(name, Hex(Sha256Of(data)));
      return out.File(name, data, now);
    };
    if (Status s = tag("bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n");
        !s.ok())
      return s;

    Spool manifest(spool_dir_), versions(spool_dir_);
    std::string buf(kBufferSize, '\0');
    for (const ExportItem& item : items_) {
      if (Status s = WritePayload(out, item, buf); !s.ok()) return s;
      Status s = manifest.Add(item.sha256 + "  " + EncodeManifestPath(item.file) + "\n");
      if (s.ok())
        s = versions.Add("{\"file\":" + JsonQuote(item.file) + ",\"doc\":" + JsonQuote(item.doc) +
                         ",\"version\":" + std::to_string(item.version) + ",\"seq\":" +
                         std::to_string(item.seq) + ",\"sha256\":" + JsonQuote(item.sha256) +
                         ",\"size\":" + std::to_string(item.size) + "}\n");
      if (!s.ok()) return s;
    }

    auto spooled = [&](Spool& spool, const std::string& name) {
      tags.emplace_back(name, spool.Sha256Hex());
      return spool.CopyTo(out, name, now);
    };
    if (Status s = spooled(manifest, "manifest-sha256.txt"); !s.ok()) return s;
    if (Status s = tag("bag-info.txt", BagInfo(now)); !s.ok()) return s;
    if (Status s = tag("gongkai/checkpoint", checkpoint_text_); !s.ok()) return s;
    for (const KeyRow& k : keys_)
      if (Status s = tag("gongkai/keys/" + k.key_id + ".pub", k.public_pem); !s.ok()) return s;
    if (Status s = spooled(records_, "gongkai/records.jsonl"); !s.ok()) return s;
    if (Status s = spooled(signatures_, "gongkai/signatures.jsonl"); !s.ok()) return s;
    if (Status s = spooled(proofs_, "gongkai/proofs.jsonl"); !s.ok()) return s;
    if (Status s = spooled(versions, "gongkai/versions.jsonl"); !s.ok()) return s;
    std::string tagmanifest;
    for (const auto& [name, sha] : tags)
      tagmanifest += sha + "  " + EncodeManifestPath(name) + "\n";
    if (Status s = out.File("tagmanifest-sha256.txt", tagmanifest, now); !s.ok()) return s;
    return out.Close();
  }

  // Streams one blob into the archive, re-hashing it: a blob that changed
  // since it was archived must not leave in a bag that claims otherwise.
  Status WritePayload(ArchiveOut& out, const ExportItem& item, std::string& buf) {
    const std::string path = blobs_.PathOf(item.sha256);
    const std::string where = "export: " + item.share + ":" + item.path + " v" +
                              std::to_string(item.version) + " (blob " + path + ")";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno(errno, where);
    struct stat st {};
    Status s;
    if (::fstat(fd, &st) != 0)
      s = Status::FromErrno(errno, where);
    else if (st.st_size != item.size)
      s = Status::Corruption(where + ": " + std::to_string(st.st_size) +
                             " bytes, the catalog says " + std::to_string(item.size) +
                             " (run gongkai verify)");
    if (s.ok())
      s = out.Begin(item.file, static_cast<uint64_t>(item.size), ParseRfc3339(item.modified));
    Sha256 hash;
    uint64_t total = 0;
    while (s.ok()) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) s = Status::FromErrno(errno, where);
      if (n <= 0) break;
      total += static_cast<uint64_t>(n);
      if (total > static_cast<uint64_t>(item.size)) {
        s = Status::Corruption(where + ": grew while being exported");
        break;
      }
      hash.Update(buf.data(), static_cast<size_t>(n));
      s = out.Data(buf.data(), static_cast<size_t>(n));
    }
    ::close(fd);
    if (s.ok() && total != static_cast<uint64_t>(item.size))
      s = Status::Corruption(where + ": shrank while being exported");
    if (s.ok() && Hex(hash.Finish()) != item.sha256)
      s = Status::Corruption(where +
                             ": content no longer matches its SHA-256 (run gongkai verify)");
    if (!s.ok()) return s;
    bytes_done_ += static_cast<uint64_t>(item.size);
    ++report_.files;
    if (opt_.progress) opt_.progress(report_.files, items_.size(), bytes_done_, report_.bytes);
    return Status::OK();
  }

  std::string BagInfo(std::time_t now) const {
    struct tm tm {};
    ::gmtime_r(&now, &tm);
    char date[16];
    std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
    std::string scope = opt_.share.empty() ? "all shares" : "share " + opt_.share;
    if (!opt_.since.empty()) scope += ", versions archived since " + opt_.since;
    std::string info = "Source-Organization: " + opt_.origin + "\n";
    info += "Bagging-Date: " + std::string(date) + "\n";
    info += "Payload-Oxum: " + std::to_string(report_.bytes) + "." + std::to_string(report_.files) +
            "\n";
    info += "Bag-Software-Agent: " + opt_.software + "\n";
    info +=
        "External-Description: Documents archived by gongkai (" + scope +
        "): " + std::to_string(report_.files) + " versions of " +
        std::to_string(report_.documents) +
        " documents, with their signed records, signatures, public keys, the log checkpoint and an "
        "inclusion proof per record under gongkai/.\n";
    info += "Gongkai-Log-Origin: " + checkpoint_.origin + "\n";
    info += "Gongkai-Log-Size: " + std::to_string(checkpoint_.size) + "\n";
    info += "Gongkai-Log-Root: " + Hex(checkpoint_.root) + "\n";
    info += "Gongkai-Records: " + std::to_string(report_.records) + "\n";
    if (!opt_.share.empty()) info += "Gongkai-Share: " + opt_.share + "\n";
    if (!opt_.since.empty()) info += "Gongkai-Since: " + opt_.since + "\n";
    return info;
  }

  Catalog* catalog_;
  const BlobStore& blobs_;
  const std::string out_;
  const std::string spool_dir_;
  const BagExportOptions& opt_;
  BagExportReport report_;
  std::string checkpoint_text_;
  Checkpoint checkpoint_;
  std::vector<ExportItem> items_;
  std::vector<KeyRow> keys_;
  std::set<std::string> docs_;
  Spool records_{spool_dir_}, signatures_{spool_dir_}, proofs_{spool_dir_};
  uint64_t bytes_done_ = 0;
};

}  // namespace

std::string EncodeManifestPath(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '%')
      out += "%25";
    else if (c == '\n')
      out += "%0A";
    else if (c == '\r')
      out += "%0D";
    else
      out += c;
  }
  return out;
}

Result<BagExportReport> ExportBag(Catalog* catalog, const BlobStore& blobs,
                                  const std::string& out_path, const BagExportOptions& options) {
  try {
    return Exporter(catalog, blobs, out_path, options).Run();
  } catch (const std::exception& e) {
    ::unlink((out_path + ".partial").c_str());
    return Status::IOError(std::string("export: ") + e.what());
  }
}

}  // namespace gongkai::storage
