#include "gongkai/storage/backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>
#include <vector>

#include "gongkai/storage/blob_store.h"
#include "gongkai/storage/catalog.h"

namespace gongkai::storage {
namespace {

// One step of sqlite3_backup: the whole database from one read transaction,
// so the copy is a snapshot even while another process commits.
Status CopyCatalog(const std::string& from, const std::string& to) {
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  auto fail = [&](sqlite3* db, const std::string& what) {
    std::string msg = "backup: " + what + ": " + (db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(src);
    sqlite3_close(dst);
    ::unlink(to.c_str());
    return Status::IOError(msg);
  };
  // Read-write without CREATE: a WAL reader may need to create the -shm file.
  if (sqlite3_open_v2(from.c_str(), &src, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
    return fail(src, from);
  sqlite3_busy_timeout(src, 10000);
  if (sqlite3_open_v2(to.c_str(), &dst,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE,
                      nullptr) != SQLITE_OK)
    return fail(dst, to);
  sqlite3_busy_timeout(dst, 10000);
  sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
  if (!b) return fail(dst, "backup_init");
  int rc;
  do {
    rc = sqlite3_backup_step(b, -1);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(50);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return fail(dst, "copying " + from);
  if (sqlite3_close(dst) != SQLITE_OK) {
    dst = nullptr;
    return fail(nullptr, "closing " + to);
  }
  dst = nullptr;
  sqlite3_close(src);
  return Status::OK();
}

Status CopyBlob(const std::string& path, const std::string& sha, BlobStore& to, std::string& buf) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "backup: blob " + path);
  auto writer = to.NewWriter();
  Status s = writer.ok() ? Status::OK() : writer.status();
  while (s.ok()) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) s = Status::FromErrno(errno, "backup: blob " + path);
    if (n <= 0) break;
    s = (*writer)->Append(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  if (!s.ok()) return s;
  auto got = (*writer)->Finish();
  if (!got.ok()) return got.status();
  if (*got != sha)
    return Status::Corruption("backup: blob " + path + " hashes to " + *got +
                              " (damaged; run gongkai verify)");
  return (*writer)->Commit();
}

Status CopyKeys(Env* env, const std::string& from, const std::string& to, uint64_t& copied) {
  if (Status s = env->CreateDirs(to, 0700); !s.ok()) return s;
  ::chmod(to.c_str(), 0700);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(from.c_str()), ::closedir);
  if (!dir) return Status::FromErrno(errno, "backup: " + from);
  while (dirent* e = ::readdir(dir.get())) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || name.rfind('.', 0) == 0) continue;
    struct stat st {};
    if (::lstat((from + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    auto data = ReadFile(from + "/" + name);
    if (!data.ok()) return data.status();
    if (Status s = WriteFileAtomically(env, to + "/" + name, *data, 0600); !s.ok()) return s;
    ++copied;
  }
  return Status::OK();
}

}  // namespace

Result<BackupReport> BackupArchive(
    Env* env, const ArchivePaths& from, const ArchivePaths& to,
    const std::function<void(uint64_t, uint64_t, uint64_t, uint64_t)>& progress) {
  try {
    if (env->FileExists(to.catalog))
      return Status::Invalid("backup: " + to.catalog + " already exists");
    const std::string folder = to.catalog.substr(0, to.catalog.rfind('/') + 1);
    if (!folder.empty())
      if (Status s = env->CreateDirs(folder); !s.ok()) return s;
    if (Status s = CopyCatalog(from.catalog, to.catalog); !s.ok()) return s;

    // What the copied catalog references, and nothing else.
    BackupReport report;
    std::map<std::string, int64_t> blobs;  // sha256 -> size
    {
      auto catalog = OpenSqliteCatalog(to.catalog, env);
      if (!catalog.ok()) return catalog.status();
      auto counts = (*catalog)->Counts();
      if (!counts.ok()) return counts.status();
      report.records = counts->records;
      report.versions = counts->versions;
      auto docs = (*catalog)->AllDocuments();
      if (!docs.ok()) return docs.status();
      for (const DocumentRow& d : *docs) {
        auto versions = (*catalog)->Versions(d.id);
        if (!versions.ok()) return versions.status();
        for (const VersionRow& v : *versions) blobs[v.sha256] = v.size;
      }
    }
    uint64_t total = 0;
    for (const auto& [sha, size] : blobs) total += static_cast<uint64_t>(size);
    auto source = BlobStore::Open(env, from.blobs, from.tmp);
    if (!source.ok()) return source.status();
    auto target = BlobStore::Open(env, to.blobs, to.tmp);
    if (!target.ok()) return target.status();
    std::string buf(1 << 20, '\0');
    for (const auto& [sha, size] : blobs) {
      if (!(*target)->Contains(sha))
        if (Status s = CopyBlob((*source)->PathOf(sha), sha, **target, buf); !s.ok()) return s;
      ++report.blobs;
      report.bytes += static_cast<uint64_t>(size);
      if (progress) progress(report.blobs, blobs.size(), report.bytes, total);
    }
    if (Status s = CopyKeys(env, from.keys, to.keys, report.keys); !s.ok()) return s;
    return report;
  } catch (const std::exception& e) {
    return Status::IOError(std::string("backup: ") + e.what());
  }
}

}  // namespace gongkai::storage
