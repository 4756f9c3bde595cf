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

#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"

namespace gongkai::storage {
namespace {

constexpr size_t kBufferSize = 1 << 20;
constexpr int64_t kRecordChunk = 2000;
constexpr uint64_t kMaxTagFile = uint64_t{1} << 30;  // tag files are held in memory by CheckBag

// libarchive converts entry names through the calling thread's locale. In
// the "C" locale it cannot write a non-ASCII name at all; names set in
// UTF-8 form are NFC-normalised on their way to the archive. Names given in
// multibyte form under C.UTF-8 pass through byte for byte, so the writer
// and the tar reader switch the thread's locale for the duration
// (uselocale: this thread only).
class ScopedLocale {
 public:
  explicit ScopedLocale(const char* name)
      : locale_(::newlocale(LC_CTYPE_MASK, name, static_cast<locale_t>(0))) {
    if (locale_) previous_ = ::uselocale(locale_);
  }
  ~ScopedLocale() {
    if (!locale_) return;
    ::uselocale(previous_);
    ::freelocale(locale_);
  }
  ScopedLocale(const ScopedLocale&) = delete;
  ScopedLocale& operator=(const ScopedLocale&) = delete;
  bool ok() const { return locale_ != nullptr; }

 private:
  locale_t locale_;
  locale_t previous_ = LC_GLOBAL_LOCALE;
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

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

std::optional<Digest> DigestFromHex(const std::string& hex) {
  if (hex.size() != 64) return std::nullopt;
  Digest d{};
  for (size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    for (size_t j = 0; j < 2; ++j) {
      const char c = hex[2 * i + j];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<unsigned>(c - 'a' + 10);
      else
        return std::nullopt;
    }
    d[i] = static_cast<uint8_t>(v);
  }
  return d;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// ---------------------------------------------------------------- writing

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
  Status Collect() {
    auto docs = catalog_->AllDocuments();
    if (!docs.ok()) return docs.status();
    std::set<std::string> names;
    for (const DocumentRow& d : *docs) {
      if (!opt_.share.empty() && d.share != opt_.share) continue;
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

  // Every record of the exported documents with its signature and inclusion proof.
  Status SpoolRecords() {
    const NodeReader nodes = catalog_->Nodes();
    for (int64_t first = 0; static_cast<uint64_t>(first) < checkpoint_.size;
         first += kRecordChunk) {
      auto rows = catalog_->Records(first, kRecordChunk);
      if (!rows.ok()) return rows.status();
      for (const RecordRow& r : *rows) {
        if (static_cast<uint64_t>(r.seq) >= checkpoint_.size || !docs_.count(r.doc)) continue;
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

// ---------------------------------------------------------------- checking

// What libarchive's readers make of `names` when they are stored as UTF-8
// (the zip reader NFC-normalises every such name, and offers no way out):
// the same names run through the same conversion, so manifest paths can be
// matched with zip entries. ASCII names are left alone.
std::map<std::string, std::string> AsLibarchiveReadsUtf8(const std::set<std::string>& names) {
  std::map<std::string, std::string> out;
  std::vector<std::string> todo;
  for (const std::string& n : names) {
    bool ascii = true;
    for (unsigned char c : n) ascii = ascii && c < 0x80;
    if (ascii)
      out[n] = n;
    else
      todo.push_back(n);
  }
  if (todo.empty()) return out;
  std::string tar;
  {
    ScopedLocale utf8("C.UTF-8");
    archive* w = archive_write_new();
    archive_write_set_format_pax_restricted(w);
    archive_write_open(
        w, &tar, nullptr,
        [](archive*, void* self, const void* data, size_t n) -> la_ssize_t {
          static_cast<std::string*>(self)->append(static_cast<const char*>(data), n);
          return static_cast<la_ssize_t>(n);
        },
        nullptr);
    for (const std::string& n : todo) {
      archive_entry* e = archive_entry_new();
      archive_entry_copy_pathname(e, n.c_str());
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, 0);
      archive_write_header(w, e);
      archive_entry_free(e);
    }
    archive_write_close(w);
    archive_write_free(w);
  }
  ScopedLocale utf8("C.UTF-8");
  archive* r = archive_read_new();
  archive_read_support_format_tar(r);
  archive_read_open_memory(r, tar.data(), tar.size());
  archive_entry* e;
  for (size_t i = 0; i < todo.size() && archive_read_next_header(r, &e) >= ARCHIVE_WARN; ++i) {
    const char* name = archive_entry_pathname(e);
    out[todo[i]] = name ? name : todo[i];
  }
  archive_read_free(r);
  return out;
}

struct PayloadFile {
  std::string sha256;
  uint64_t size = 0;
  bool listed = false;
  bool vouched = false;
};

struct TagFile {
  std::string content;
  std::string sha256;
};

struct RecordInfo {
  std::string doc, event, sha256;
  int64_t version = -1, size = -1;
  Digest leaf{};
  bool proved = false;
};

class BagChecker {
 public:
  BagChecker(std::string path, std::function<void(uint64_t, uint64_t)> progress)
      : path_(std::move(path)), progress_(std::move(progress)) {}

  Result<BagCheckReport> Run() {
    if (Status s = Read(); !s.ok()) return s;
    CheckBagit();
    CheckManifest();
    CheckTagManifest();
    CheckBagInfo();
    LoadKeys();
    CheckCheckpoint();
    CheckRecords();
    CheckProofs();
    CheckVersions();
    report_.payload_files = payload_.size();
    for (const auto& [name, f] : payload_) report_.payload_bytes += f.size;
    return report_;
  }

 private:
  void Problem(std::string where, std::string what) {
    report_.problems.push_back({std::move(where), std::move(what)});
  }

  const TagFile* Tag(const std::string& name, bool required = true) {
    auto it = tags_.find(name);
    if (it != tags_.end()) return &it->second;
    if (required) Problem(name, "missing from the bag");
    return nullptr;
  }

  Status Read() {
    char magic[4] = {};
    {
      std::ifstream in(path_, std::ios::binary);
      if (!in) return Status::NotFound("verify-bag: cannot open " + path_);
      in.read(magic, 4);
      in.seekg(0, std::ios::end);
      file_size_ = static_cast<uint64_t>(std::max<std::streamoff>(0, in.tellg()));
    }
    zip_ = std::memcmp(magic, "PK\x03\x04", 4) == 0;
    // Tar names are read byte for byte in the C locale; zip names can only
    // be had NFC-normalised (see AsLibarchiveReadsUtf8).
    ScopedLocale locale(zip_ ? "C.UTF-8" : "C");
    archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_zip(a);
    Status s;
    if (archive_read_open_filename(a, path_.c_str(), kBufferSize) != ARCHIVE_OK) {
      s = Status::IOError("verify-bag: " + path_ + ": " + archive_error_string(a));
    } else {
      s = ReadEntries(a);
    }
    archive_read_free(a);
    return s;
  }

  Status ReadEntries(archive* a) {
    std::string buf(kBufferSize, '\0');
    archive_entry* e;
    size_t entries = 0;
    for (;;) {
      const int r = archive_read_next_header(a, &e);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) {
        const std::string why = archive_error_string(a) ? archive_error_string(a) : "read error";
        if (entries == 0)
          return Status::IOError("verify-bag: " + path_ + " is not a readable tar or zip: " + why);
        Problem(path_, "archive unreadable after entry " + std::to_string(entries) + ": " + why);
        break;
      }
      ++entries;
      const char* raw = archive_entry_pathname(e);
      if (!raw) raw = archive_entry_pathname_utf8(e);
      if (!raw) {
        Problem("entry " + std::to_string(entries), "its name cannot be read");
        continue;
      }
      std::string name = raw;
      if (archive_entry_filetype(e) == AE_IFDIR) continue;
      const size_t slash = name.find('/');
      const std::string top = slash == std::string::npos ? "" : name.substr(0, slash);
      if (report_.bag_name.empty()) report_.bag_name = top;
      if (top.empty() || top != report_.bag_name) {
        Problem(name, "outside the bag's top-level folder '" + report_.bag_name + "/'");
        continue;
      }
      const std::string rel = name.substr(slash + 1);
      if (archive_entry_filetype(e) != AE_IFREG) {
        Problem(rel, "not a regular file");
        continue;
      }
      if (payload_.count(rel) || tags_.count(rel)) {
        Problem(rel, "appears twice in the archive");
        continue;
      }
      const bool payload = rel.rfind("data/", 0) == 0;
      Sha256 hash;
      uint64_t size = 0;
      std::string content;
      la_ssize_t n;
      while ((n = archive_read_data(a, buf.data(), buf.size())) > 0) {
        hash.Update(buf.data(), static_cast<size_t>(n));
        size += static_cast<uint64_t>(n);
        if (!payload && size <= kMaxTagFile) content.append(buf.data(), static_cast<size_t>(n));
        if (progress_) progress_(static_cast<uint64_t>(archive_filter_bytes(a, -1)), file_size_);
      }
      if (n < 0) {
        Problem(rel, std::string("cannot be read: ") +
                         (archive_error_string(a) ? archive_error_string(a) : "error"));
        continue;
      }
      if (payload) {
        payload_[rel] = PayloadFile{Hex(hash.Finish()), size, false, false};
      } else if (size > kMaxTagFile) {
        Problem(rel, "tag file larger than " + std::to_string(kMaxTagFile) + " bytes; not checked");
      } else {
        tags_[rel] = TagFile{std::move(content), Hex(hash.Finish())};
      }
    }
    if (report_.bag_name.empty()) Problem(path_, "no files in the archive");
    return Status::OK();
  }

  // Looks up a payload file by the name a manifest gives it.
  PayloadFile* Payload(const std::string& name) {
    auto it = payload_.find(zip_ ? Canonical(name) : name);
    return it == payload_.end() ? nullptr : &it->second;
  }
  const std::string& Canonical(const std::string& name) {
    auto it = canonical_.find(name);
    if (it == canonical_.end())
      it = canonical_.emplace(name, AsLibarchiveReadsUtf8({name})[name]).first;
    return it->second;
  }
  // Batches the zip name conversions of every name the manifests use.
  void PrepareCanonical(const std::set<std::string>& names) {
    if (!zip_) return;
    for (auto& [from, to] : AsLibarchiveReadsUtf8(names)) canonical_[from] = to;
  }

  void CheckBagit() {
    const TagFile* t = Tag("bagit.txt");
    if (!t) return;
    const auto lines = Lines(t->content);
    bool version = false, encoding = false;
    for (std::string l : lines) {
      if (!l.empty() && l.back() == '\r') l.pop_back();
      version = version || l == "BagIt-Version: 1.0" || l == "BagIt-Version: 0.97";
      encoding = encoding || l == "Tag-File-Character-Encoding: UTF-8";
    }
    if (!version) Problem("bagit.txt", "no 'BagIt-Version: 1.0' line");
    if (!encoding) Problem("bagit.txt", "no 'Tag-File-Character-Encoding: UTF-8' line");
  }

  // Parses "<sha256> <path>" lines; calls fn(line number, sha, decoded path).
  template <typename Fn>
  void ForEachManifestLine(const std::string& manifest, const TagFile& t, Fn fn) {
    size_t number = 0;
    for (std::string line : Lines(t.content)) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      const size_t space = line.find_first_of(" \t");
      const size_t path_at =
          space == std::string::npos ? space : line.find_first_not_of(" \t", space);
      const std::string sha = line.substr(0, space);
      if (path_at == std::string::npos || !IsSha256Hex(sha)) {
        Problem(manifest + " line " + std::to_string(number), "not '<sha256> <path>'");
        continue;
      }
      fn(number, sha, DecodeManifestPath(line.substr(path_at)));
    }
  }

  void CheckManifest() {
    const TagFile* t = Tag("manifest-sha256.txt");
    if (!t) return;
    std::set<std::string> names;
    ForEachManifestLine(
        "manifest-sha256.txt", *t,
        [&](size_t, const std::string&, const std::string& path) { names.insert(path); });
    PrepareCanonical(names);
    std::set<std::string> seen;
    ForEachManifestLine("manifest-sha256.txt", *t,
                        [&](size_t number, const std::string& sha, const std::string& path) {
                          const std::string where =
                              "manifest-sha256.txt line " + std::to_string(number);
                          if (path.rfind("data/", 0) != 0)
                            return Problem(where, path + ": not a payload path (data/...)");
                          if (!seen.insert(path).second)
                            return Problem(where, path + ": listed twice");
                          PayloadFile* f = Payload(path);
                          if (!f) return Problem(where, path + ": listed but not in the bag");
                          f->listed = true;
                          if (f->sha256 != sha)
                            Problem(where, path + ": file's SHA-256 is " + f->sha256 +
                                               ", the manifest says " + sha);
                        });
    for (const auto& [name, f] : payload_)
      if (!f.listed) Problem(name, "payload file not listed in manifest-sha256.txt");
  }

  void CheckTagManifest() {
    const TagFile* t = Tag("tagmanifest-sha256.txt");
    if (!t) return;
    std::set<std::string> listed;
    ForEachManifestLine("tagmanifest-sha256.txt", *t,
                        [&](size_t number, const std::string& sha, const std::string& path) {
                          const std::string where =
                              "tagmanifest-sha256.txt line " + std::to_string(number);
                          auto it = tags_.find(path);
                          if (it == tags_.end())
                            return Problem(where, path + ": listed but not in the bag");
                          listed.insert(path);
                          if (it->second.sha256 != sha)
                            Problem(where, path + ": file's SHA-256 is " + it->second.sha256 +
                                               ", the tag manifest says " + sha);
                        });
    for (const auto& [name, tag] : tags_)
      if (name.rfind("tagmanifest-", 0) != 0 && !listed.count(name))
        Problem(name, "tag file not listed in tagmanifest-sha256.txt");
  }

  void CheckBagInfo() {
    const TagFile* t = Tag("bag-info.txt");
    if (!t) return;
    uint64_t bytes = 0;
    for (const auto& [name, f] : payload_) bytes += f.size;
    const std::string want = std::to_string(bytes) + "." + std::to_string(payload_.size());
    for (std::string l : Lines(t->content)) {
      if (!l.empty() && l.back() == '\r') l.pop_back();
      if (l.rfind("Payload-Oxum:", 0) != 0) continue;
      std::string oxum = l.substr(13);
      oxum.erase(0, oxum.find_first_not_of(" \t"));
      if (oxum != want)
        Problem("bag-info.txt", "Payload-Oxum is " + oxum + ", the payload is " + want);
      return;
    }
    Problem("bag-info.txt", "no Payload-Oxum");
  }

  void LoadKeys() {
    for (const auto& [name, tag] : tags_) {
      if (name.rfind("gongkai/keys/", 0) != 0 || !EndsWith(name, ".pub")) continue;
      const std::string id = name.substr(13, name.size() - 17);
      auto raw = RawPublicFromPem(tag.content);
      if (!raw.ok()) {
        Problem(name, raw.status().message());
        continue;
      }
      if (Hex(Sha256Of(*raw)) != id) {
        Problem(name, "the key's SHA-256 is " + Hex(Sha256Of(*raw)) + ", not its name");
        continue;
      }
      keys_[id] = *raw;
    }
    report_.keys = keys_.size();
    if (keys_.empty()) Problem("gongkai/keys/", "no public keys in the bag");
  }

  void CheckCheckpoint() {
    const TagFile* t = Tag("gongkai/checkpoint");
    if (!t) return;
    auto body = ParseCheckpointBody(t->content);
    if (!body.ok()) return Problem("gongkai/checkpoint", body.status().message());
    for (const auto& [id, raw] : keys_) {
      auto cp = VerifyCheckpoint(t->content, body->origin, raw);
      if (cp.ok()) {
        checkpoint_ = *cp;
        report_.log_size = cp->size;
        return;
      }
    }
    Problem("gongkai/checkpoint",
            "no valid signature by any of the bag's keys (origin " + body->origin + ")");
  }

  static Poco::JSON::Object::Ptr ParseLine(const std::string& line) {
    try {
      return Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception&) {
      return nullptr;
    }
  }

  void CheckRecords() {
    const TagFile* records = Tag("gongkai/records.jsonl");
    const TagFile* signatures = Tag("gongkai/signatures.jsonl");
    if (!records || !signatures) return;
    std::map<int64_t, std::pair<std::string, std::string>> sigs;  // seq -> key_id, signature
    size_t number = 0;
    for (const std::string& line : Lines(signatures->content)) {
      ++number;
      auto o = ParseLine(line);
      if (!o || !o->has("seq")) {
        Problem("gongkai/signatures.jsonl line " + std::to_string(number), "not a signature line");
        continue;
      }
      sigs[o->getValue<Poco::Int64>("seq")] = {o->optValue<std::string>("key_id", ""),
                                               o->optValue<std::string>("signature", "")};
    }
    std::map<std::string, std::string>
        last_leaf;  // doc -> hex leaf of its previous record in the bag
    int64_t previous = -1;
    number = 0;
    for (const std::string& line : Lines(records->content)) {
      ++number;
      const std::string at = " (gongkai/records.jsonl line " + std::to_string(number) + ")";
      auto o = ParseLine(line);
      if (!o || !o->has("seq")) {
        Problem("gongkai/records.jsonl line " + std::to_string(number), "not a JSON record");
        continue;
      }
      const int64_t seq = o->getValue<Poco::Int64>("seq");
      const std::string where = "record " + std::to_string(seq) + at;
      if (seq <= previous) Problem(where, "records are not in ascending seq order");
      previous = seq;
      auto sig = sigs.find(seq);
      if (sig == sigs.end()) {
        Problem(where, "no signature in gongkai/signatures.jsonl");
      } else {
        auto key = keys_.find(sig->second.first);
        auto raw_sig = Base64Decode(sig->second.second);
        if (key == keys_.end())
          Problem(where, "signed by key " + sig->second.first + ", which is not in the bag");
        else if (!raw_sig.ok() || !VerifyEd25519(key->second, line, *raw_sig))
          Problem(where, "signature does not verify (the record was altered)");
        if (o->optValue<std::string>("key", "") != sig->second.first)
          Problem(where, "record's key field is not the signing key");
      }
      RecordInfo info;
      info.doc = o->optValue<std::string>("doc", "");
      info.event = o->optValue<std::string>("event", "");
      info.sha256 = o->optValue<std::string>("sha256", "");
      info.version = o->optValue<Poco::Int64>("version", -1);
      info.size = o->optValue<Poco::Int64>("size", -1);
      info.leaf = LeafHash(line);
      std::string& last = last_leaf[info.doc];
      if (o->optValue<std::string>("prev", "") != last)
        Problem(where,
                "prev does not chain to document " + info.doc + "'s previous record in the bag");
      last = Hex(info.leaf);
      if (!records_.emplace(seq, info).second) Problem(where, "appears twice");
    }
    report_.records = records_.size();
  }

  void CheckProofs() {
    const TagFile* proofs = Tag("gongkai/proofs.jsonl");
    if (!proofs) return;
    size_t number = 0;
    for (const std::string& line : Lines(proofs->content)) {
      ++number;
      const std::string at = " (gongkai/proofs.jsonl line " + std::to_string(number) + ")";
      auto o = ParseLine(line);
      if (!o || !o->has("seq") || !o->isArray("inclusion")) {
        Problem("gongkai/proofs.jsonl line " + std::to_string(number), "not a proof line");
        continue;
      }
      const int64_t seq = o->getValue<Poco::Int64>("seq");
      const std::string where = "record " + std::to_string(seq) + at;
      auto record = records_.find(seq);
      if (record == records_.end()) {
        Problem(where, "proof for a record that is not in gongkai/records.jsonl");
        continue;
      }
      record->second.proved = true;
      const uint64_t size = static_cast<uint64_t>(o->optValue<Poco::Int64>("tree_size", -1));
      if (!checkpoint_) continue;  // reported by CheckCheckpoint
      if (size != checkpoint_->size) {
        Problem(where, "proof is for tree size " + std::to_string(size) + ", the checkpoint's is " +
                           std::to_string(checkpoint_->size));
        continue;
      }
      if (o->optValue<std::string>("leaf", "") != Hex(record->second.leaf))
        Problem(where, "proof's leaf hash is not the record's");
      std::vector<Digest> path;
      bool parsed = true;
      auto hashes = o->getArray("inclusion");
      for (size_t i = 0; i < hashes->size(); ++i) {
        auto d = DigestFromHex(hashes->getElement<std::string>(static_cast<unsigned>(i)));
        if (d)
          path.push_back(*d);
        else
          parsed = false;
      }
      if (!parsed || seq < 0 ||
          !VerifyInclusion(static_cast<uint64_t>(seq), size, record->second.leaf, path,
                           checkpoint_->root))
        Problem(where, "inclusion proof does not lead to the checkpoint's root");
      ++report_.proofs;
    }
    for (const auto& [seq, r] : records_)
      if (!r.proved)
        Problem("record " + std::to_string(seq), "no inclusion proof in gongkai/proofs.jsonl");
  }

  void CheckVersions() {
    const TagFile* versions = Tag("gongkai/versions.jsonl");
    if (!versions) return;
    size_t number = 0;
    for (const std::string& line : Lines(versions->content)) {
      ++number;
      const std::string at = "gongkai/versions.jsonl line " + std::to_string(number);
      auto o = ParseLine(line);
      if (!o || !o->has("file") || !o->has("seq")) {
        Problem(at, "not a version line");
        continue;
      }
      const std::string file = o->getValue<std::string>("file");
      const int64_t seq = o->getValue<Poco::Int64>("seq");
      const std::string where = file + " (" + at + ")";
      auto record = records_.find(seq);
      if (record == records_.end()) {
        Problem(where,
                "vouched for by record " + std::to_string(seq) + ", which is not in the bag");
        continue;
      }
      const RecordInfo& r = record->second;
      if (r.event != "version" || r.doc != o->optValue<std::string>("doc", "") ||
          r.version != o->optValue<Poco::Int64>("version", -2) ||
          r.sha256 != o->optValue<std::string>("sha256", "") ||
          r.size != o->optValue<Poco::Int64>("size", -2))
        Problem(where, "does not match record " + std::to_string(seq) +
                           " (event, doc, version, sha256 or size)");
      PayloadFile* f = Payload(file);
      if (!f) {
        Problem(where, "not in the bag");
        continue;
      }
      f->vouched = true;
      if (f->sha256 != r.sha256)
        Problem(where, "content's SHA-256 is " + f->sha256 + ", signed record " +
                           std::to_string(seq) + " says " + r.sha256);
      if (static_cast<int64_t>(f->size) != r.size)
        Problem(where, "is " + std::to_string(f->size) + " bytes, signed record " +
                           std::to_string(seq) + " says " + std::to_string(r.size));
    }
    for (const auto& [name, f] : payload_)
      if (!f.vouched)
        Problem(name, "payload file not vouched for by any record (gongkai/versions.jsonl)");
  }

  std::string path_;
  std::function<void(uint64_t, uint64_t)> progress_;  // bytes of the file read, its size
  uint64_t file_size_ = 0;
  bool zip_ = false;
  BagCheckReport report_;
  std::map<std::string, PayloadFile>
      payload_;  // bag-relative name (as libarchive reads it) -> file
  std::map<std::string, TagFile> tags_;
  std::map<std::string, std::string> canonical_;  // manifest name -> zip entry name
  std::map<std::string, std::string> keys_;       // key_id -> raw public key
  std::optional<Checkpoint> checkpoint_;
  std::map<int64_t, RecordInfo> records_;
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

std::string DecodeManifestPath(const std::string& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      const std::string code = path.substr(i + 1, 2);
      if (code == "25") {
        out += '%';
        i += 2;
        continue;
      }
      if (code == "0A" || code == "0a") {
        out += '\n';
        i += 2;
        continue;
      }
      if (code == "0D" || code == "0d") {
        out += '\r';
        i += 2;
        continue;
      }
    }
    out += path[i];
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

Result<BagCheckReport> CheckBag(const std::string& path,
                                const std::function<void(uint64_t, uint64_t)>& progress) {
  try {
    return BagChecker(path, progress).Run();
  } catch (const std::exception& e) {
    return Status::IOError(std::string("verify-bag: ") + e.what());
  }
}

}  // namespace gongkai::storage
