#include "gongkai/storage/witness.h"

#include <utility>

#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/merkle.h"

namespace gongkai::storage {
namespace {

constexpr size_t kMaxProofLines = 63;

bool ParseDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

Witness::Answer Refuse(int status, std::string why) {
  Witness::Answer a;
  a.status = status;
  a.body = std::move(why) + "\n";
  return a;
}

// 409: the client's old size is not the size held; the body tells it which is.
Witness::Answer SizeConflict(uint64_t held_size) {
  Witness::Answer a;
  a.status = 409;
  a.content_type = "text/x.tlog.size";
  a.body = std::to_string(held_size) + "\n";
  return a;
}

}  // namespace

Result<AddCheckpointRequest> ParseAddCheckpoint(std::string_view body) {
  AddCheckpointRequest r;
  size_t pos = 0;
  auto next_line = [&](std::string_view* line) {
    const size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) return false;
    *line = body.substr(pos, end - pos);
    pos = end + 1;
    return true;
  };
  std::string_view line;
  if (!next_line(&line) || line.substr(0, 4) != "old " ||
      !ParseDecimal(line.substr(4), &r.old_size))
    return Status::Invalid("add-checkpoint: the first line must be 'old <size>'");
  while (true) {
    if (!next_line(&line))
      return Status::Invalid("add-checkpoint: no blank line before the checkpoint");
    if (line.empty()) break;
    if (r.proof.size() == kMaxProofLines)
      return Status::Invalid("add-checkpoint: more than 63 consistency proof lines");
    auto raw = Base64Decode(line);
    if (!raw.ok() || raw->size() != 32)
      return Status::Invalid("add-checkpoint: a proof line is not a base64 SHA-256 hash");
    Digest d;
    std::copy(raw->begin(), raw->end(), d.begin());
    r.proof.push_back(d);
  }
  r.checkpoint = std::string(body.substr(pos));
  if (r.checkpoint.empty()) return Status::Invalid("add-checkpoint: no checkpoint");
  return r;
}

std::string FormatAddCheckpoint(const AddCheckpointRequest& r) {
  std::string out = "old " + std::to_string(r.old_size) + "\n";
  for (const Digest& d : r.proof)
    out += Base64(std::string_view(reinterpret_cast<const char*>(d.data()), d.size())) + "\n";
  return out + "\n" + r.checkpoint;
}

Witness::Witness(std::string name, const SigningKey* key, std::vector<WitnessedLog> logs,
                 WitnessStore* store, std::function<int64_t()> now)
    : name_(std::move(name)),
      key_(key),
      logs_(std::move(logs)),
      store_(store),
      now_(std::move(now)) {}

std::string Witness::VerifierKey() const { return CosignerVerifierKey(name_, key_->RawPublic()); }

Witness::Answer Witness::AddCheckpoint(std::string_view body) {
  std::string origin;
  Answer a = Check(body, &origin);
  a.origin = std::move(origin);
  return a;
}

Witness::Answer Witness::Check(std::string_view body, std::string* origin) {
  auto req = ParseAddCheckpoint(body);
  if (!req.ok()) return Refuse(400, req.status().message());
  auto cp = ParseCheckpointBody(req->checkpoint);
  if (!cp.ok()) return Refuse(400, cp.status().message());
  *origin = cp->origin;
  const WitnessedLog* log = nullptr;
  for (const WitnessedLog& l : logs_)
    if (l.origin == cp->origin) log = &l;
  if (!log) return Refuse(404, "unknown log origin '" + cp->origin + "'");
  if (auto v = VerifyCheckpoint(req->checkpoint, log->origin, log->raw_public); !v.ok())
    return Refuse(403, v.status().message());
  if (req->old_size > cp->size)
    return Refuse(400, "old size " + std::to_string(req->old_size) +
                           " is larger than the checkpoint's " + std::to_string(cp->size));

  auto held = store_->Latest(log->origin);
  if (!held.ok()) return Refuse(503, "witness state: " + held.status().message());
  const uint64_t held_size = *held ? (*held)->size : 0;
  if (req->old_size != held_size) return SizeConflict(held_size);
  if (cp->size == 0 && cp->root != Sha256Of(""))
    return Refuse(422, "a checkpoint of size 0 must have the empty tree's root");
  const Digest held_root = *held ? (*held)->root : Sha256Of("");
  if (!VerifyConsistency(req->old_size, cp->size, held_root, cp->root, req->proof)) {
    Answer a =
        Refuse(422, req->old_size == 0 ? "the proof from size 0 must be empty"
                                       : "the checkpoint is not consistent with the one held");
    if (*held && req->old_size > 0) {  // the log signed two trees that cannot both be true
      a.split_view = SplitView{log->origin, a.body.substr(0, a.body.size() - 1), (*held)->note,
                               req->checkpoint, now_()};
      if (Status s = store_->RecordSplitView(*a.split_view); !s.ok())
        return Refuse(503, "witness state: " + s.message());
    }
    return a;
  }

  const int64_t now = now_();
  const std::string line =
      Cosign(NoteBody(req->checkpoint), name_, *key_, static_cast<uint64_t>(now > 0 ? now : 1));
  std::string note = req->checkpoint;
  if (note.back() != '\n') note += '\n';
  auto was = store_->Advance(log->origin, req->old_size, {cp->size, cp->root, note + line});
  if (!was.ok()) return Refuse(503, "witness state: " + was.status().message());
  if (*was != req->old_size) return SizeConflict(*was);  // another request advanced it meanwhile
  Answer a;
  a.body = line;
  return a;
}

Result<std::optional<std::string>> Witness::CheckpointFor(const std::string& origin_hash) {
  for (const WitnessedLog& l : logs_) {
    if (Hex(Sha256Of(l.origin)) != origin_hash) continue;
    auto held = store_->Latest(l.origin);
    if (!held.ok()) return held.status();
    if (!*held) return std::optional<std::string>();
    return std::optional<std::string>((*held)->note);
  }
  return std::optional<std::string>();
}

}  // namespace gongkai::storage
