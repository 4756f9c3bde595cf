// Checking a bag offline: gongkai verify-bag (see bag.h).
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

constexpr uint64_t kMaxTagFile = uint64_t{1} << 30;  // tag files are held in memory

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
  std::string doc, sha256;
  std::optional<EventKind> event;  // nullopt: not one gongkai writes
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
      info.event = ParseEventKind(o->optValue<std::string>("event", ""));
      info.sha256 = o->optValue<std::string>("sha256", "");
      info.version = o->optValue<Poco::Int64>("version", -1);
      info.size = o->optValue<Poco::Int64>("size", -1);
      info.leaf = LeafHash(line);
      // A request's records chain by its code; they carry no document.
      const std::string chain = ChainOf(info.doc, o->optValue<std::string>("request", ""));
      std::string& last = last_leaf[chain];
      if (o->optValue<std::string>("prev", "") != last)
        Problem(where, "prev does not chain to " + chain + "'s previous record in the bag");
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
      if (r.event != EventKind::kVersion || r.doc != o->optValue<std::string>("doc", "") ||
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

Result<BagCheckReport> CheckBag(const std::string& path,
                                const std::function<void(uint64_t, uint64_t)>& progress) {
  try {
    return BagChecker(path, progress).Run();
  } catch (const std::exception& e) {
    return Status::IOError(std::string("verify-bag: ") + e.what());
  }
}

}  // namespace gongkai::storage
