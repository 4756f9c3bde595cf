// The C2SP tlog-witness add-checkpoint rules, cosignature/v1, and the
// witness's PostgreSQL state (a real server; see support/postgres_server.h).
#include "gongkai/storage/witness.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/merkle.h"
#include "support/merkle_store.h"
#include "support/postgres_server.h"

using namespace gongkai;
using namespace gongkai::storage;

namespace {

const char kOrigin[] = "township.example.gov/log";

// The witness state in memory, for the rules (the PostgreSQL store gets the
// same rules below, when a server is installed).
class MemoryWitnessStore final : public WitnessStore {
 public:
  Result<std::optional<WitnessedCheckpoint>> Latest(const std::string& origin) override {
    std::lock_guard lock(mu_);
    auto it = held_.find(origin);
    if (it == held_.end()) return std::optional<WitnessedCheckpoint>();
    return std::optional<WitnessedCheckpoint>(it->second);
  }
  Result<uint64_t> Advance(const std::string& origin, uint64_t old_size,
                           const WitnessedCheckpoint& next) override {
    std::lock_guard lock(mu_);
    auto it = held_.find(origin);
    const uint64_t was = it == held_.end() ? 0 : it->second.size;
    if (was == old_size) held_[origin] = next;
    return was;
  }
  Status RecordSplitView(const SplitView& alarm) override {
    std::lock_guard lock(mu_);
    alarms_.push_back(alarm);
    return Status::OK();
  }
  Result<std::vector<SplitView>> SplitViews() override {
    std::lock_guard lock(mu_);
    return alarms_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, WitnessedCheckpoint> held_;
  std::vector<SplitView> alarms_;
};

// A log: leaves, its signing key, and checkpoints with proofs from it.
struct Log {
  std::unique_ptr<SigningKey> key = SigningKey::Generate().value();
  test::MerkleStore tree;
  std::string origin = kOrigin;

  void Grow(uint64_t to, char salt = 'a') {
    while (tree.size < to) tree.Append(Sha256Of(std::string(1, salt) + std::to_string(tree.size)));
  }
  Digest Root(uint64_t size) { return *RootHash(size, tree.reader()); }
  std::string Note(uint64_t size) { return SignCheckpoint({origin, size, Root(size)}, *key); }
  std::string Request(uint64_t old_size, uint64_t size) {
    AddCheckpointRequest r;
    r.old_size = old_size;
    if (old_size > 0 && old_size < size) r.proof = *ConsistencyProof(old_size, size, tree.reader());
    r.checkpoint = Note(size);
    return FormatAddCheckpoint(r);
  }
};

std::string StoreName(int which) { return which == 0 ? "in memory" : "in PostgreSQL"; }

// `n` handles on one new witness state: 0 in memory (one store), 1 in a
// PostgreSQL database (a connection each, as separate hub processes would
// have). Empty, with a warning, when no PostgreSQL server is installed.
std::vector<std::shared_ptr<WitnessStore>> MakeStores(int which, int n = 1) {
  std::vector<std::shared_ptr<WitnessStore>> stores;
  if (which == 0)
    return std::vector<std::shared_ptr<WitnessStore>>(n, std::make_shared<MemoryWitnessStore>());
  std::string why;
  test::PostgresServer* server = test::PostgresServer::Shared(&why);
  if (!server) {
    WARN("SKIPPED: the PostgreSQL run of this test: " << why);
    return stores;
  }
  const std::string db = server->CreateDatabase();
  for (int i = 0; i < n; ++i) {
    auto store = OpenPostgresWitnessStore(db);
    REQUIRE(store.ok());
    stores.push_back(std::move(*store));
  }
  return stores;
}

}  // namespace

TEST_CASE("cosignature/v1 lines verify under the cosigner's name and key, and nothing else does",
          "[witness]") {
  auto key = SigningKey::Generate().value();
  auto other = SigningKey::Generate().value();
  const std::string note = SignCheckpoint({kOrigin, 3, Sha256Of("x")}, *key);
  const std::string body = NoteBody(note);
  REQUIRE(body == note.substr(0, note.find("\n\n") + 1));
  const std::string line = Cosign(body, "county.example.gov/witness", *other, 1764900000);
  CHECK(line.rfind("\xE2\x80\x94 county.example.gov/witness ", 0) == 0);
  CHECK(line.back() == '\n');
  auto time = VerifyCosignature(note + line, "county.example.gov/witness", other->RawPublic());
  REQUIRE(time.ok());
  CHECK(*time == 1764900000);
  // Another name or key: no line of its own, so NotFound (ignored, as the spec says).
  CHECK(VerifyCosignature(note + line, "someone.else", other->RawPublic()).status().IsNotFound());
  CHECK(VerifyCosignature(note + line, "county.example.gov/witness", key->RawPublic())
            .status()
            .IsNotFound());
  // A changed body or time fails, loudly.
  std::string changed = note + line;
  changed.replace(changed.find("\n3\n"), 3, "\n4\n");
  auto bad = VerifyCosignature(changed, "county.example.gov/witness", other->RawPublic());
  CHECK(!bad.ok());
  CHECK(!bad.status().IsNotFound());
  // The log's own key line is not a cosignature (type 0x01, another key hash).
  CHECK(VerifyCosignature(note, kOrigin, key->RawPublic()).status().IsNotFound());
}

TEST_CASE("verifier keys of both types parse back, and a wrong key hash is refused", "[witness]") {
  auto key = SigningKey::Generate().value();
  auto note_key = ParseVerifierKey(NoteVerifierKey(kOrigin, key->RawPublic()));
  REQUIRE(note_key.ok());
  CHECK(note_key->name == kOrigin);
  CHECK(note_key->type == kNoteKeyEd25519);
  CHECK(note_key->raw_public == key->RawPublic());
  for (int i = 0; i < 64; ++i) {  // public keys whose base64 holds '+' and '/' too
    auto k = SigningKey::Generate().value();
    auto cosigner = ParseVerifierKey(CosignerVerifierKey("w.example/1", k->RawPublic()));
    REQUIRE(cosigner.ok());
    CHECK(cosigner->name == "w.example/1");
    CHECK(cosigner->type == kCosignatureV1);
    CHECK(cosigner->raw_public == k->RawPublic());
  }
  std::string wrong = NoteVerifierKey(kOrigin, key->RawPublic());
  wrong[wrong.find('+') + 1] = wrong[wrong.find('+') + 1] == '0' ? '1' : '0';
  CHECK(!ParseVerifierKey(wrong).ok());
  CHECK(!ParseVerifierKey("no-plus-signs").ok());
  CHECK(!ParseVerifierKey(std::string(kOrigin) + "+00000000+AAAA").ok());
}

TEST_CASE("an add-checkpoint body parses as the spec writes it, and malformed ones are refused",
          "[witness]") {
  const std::string proof =
      "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
      "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n";
  const std::string checkpoint =
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
      "\xE2\x80\x94 example.com/behind-the-sofa "
      "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
      "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
  auto r = ParseAddCheckpoint("old 20852014\n" + proof + "\n" + checkpoint);
  REQUIRE(r.ok());
  CHECK(r->old_size == 20852014);
  CHECK(r->proof.size() == 2);
  CHECK(r->checkpoint == checkpoint);
  CHECK(FormatAddCheckpoint(*r) == "old 20852014\n" + proof + "\n" + checkpoint);

  CHECK(ParseAddCheckpoint("old 0\n\n" + checkpoint).ok());
  CHECK(!ParseAddCheckpoint("old 012\n\n" + checkpoint).ok());  // leading zero
  CHECK(!ParseAddCheckpoint("old -1\n\n" + checkpoint).ok());
  CHECK(!ParseAddCheckpoint("new 1\n\n" + checkpoint).ok());
  CHECK(!ParseAddCheckpoint("old 1\n" + proof).ok());         // no blank line
  CHECK(!ParseAddCheckpoint("old 1\n" + proof + "\n").ok());  // no checkpoint
  CHECK(!ParseAddCheckpoint("old 1\nnot base64!\n\n" + checkpoint).ok());
  CHECK(!ParseAddCheckpoint("old 1\nAAAA\n\n" + checkpoint).ok());  // not 32 bytes
  std::string lines;
  for (int i = 0; i < 63; ++i) lines += "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n";
  CHECK(ParseAddCheckpoint("old 1\n" + lines + "\n" + checkpoint).ok());
  CHECK(!ParseAddCheckpoint("old 1\n" + lines + "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\n" +
                            checkpoint)
             .ok());
}

TEST_CASE(
    "the witness cosigns consistent checkpoints and answers every refusal with the spec's status",
    "[witness]") {
  const int which = GENERATE(0, 1);
  INFO("witness state " << StoreName(which));
  auto stores = MakeStores(which);
  if (stores.empty()) return;
  WitnessStore* store = stores[0].get();
  auto witness_key = SigningKey::Generate().value();
  Log log;
  log.Grow(20);
  int64_t clock = 1764900000;
  Witness witness("county.example.gov/witness", witness_key.get(),
                  {{log.origin, log.key->RawPublic()}}, store, [&] { return clock; });

  // Unknown origin, unknown key, a bad signature by the known key, old > size.
  Log stranger;
  stranger.origin = "elsewhere.example/log";
  stranger.Grow(3);
  CHECK(witness.AddCheckpoint(stranger.Request(0, 3)).status == 404);
  Log impostor;  // the right origin, another key
  impostor.Grow(5);
  CHECK(witness.AddCheckpoint(impostor.Request(0, 5)).status == 403);
  std::string forged = log.Request(0, 5);
  forged[forged.size() - 10] = forged[forged.size() - 10] == 'A' ? 'B' : 'A';
  CHECK(witness.AddCheckpoint(forged).status == 403);
  CHECK(witness.AddCheckpoint(log.Request(0, 5).replace(0, 5, "old 6")).status == 400);
  CHECK(witness.AddCheckpoint("old 0\n\nnot a checkpoint\n").status == 400);
  CHECK(witness.AddCheckpoint(log.Request(0, 5).replace(0, 5, "old 0\nAAAA")).status == 400);
  // The empty tree's root is checked; a first proof must be empty.
  {
    AddCheckpointRequest r;
    r.checkpoint = SignCheckpoint({log.origin, 0, Sha256Of("x")}, *log.key);
    CHECK(witness.AddCheckpoint(FormatAddCheckpoint(r)).status == 422);
    r.checkpoint = log.Note(5);
    r.proof = {Sha256Of("p")};
    CHECK(witness.AddCheckpoint(FormatAddCheckpoint(r)).status == 422);
  }
  CHECK(store->Latest(log.origin)->has_value() == false);  // nothing refused was kept

  // The first checkpoint: cosigned, and the cosignature verifies.
  Witness::Answer a = witness.AddCheckpoint(log.Request(0, 5));
  REQUIRE(a.status == 200);
  auto vkey = ParseVerifierKey(witness.VerifierKey());
  REQUIRE(vkey.ok());
  CHECK(*VerifyCosignature(log.Note(5) + a.body, vkey->name, vkey->raw_public) == 1764900000);
  auto held = *store->Latest(log.origin);
  REQUIRE(held.has_value());
  CHECK(held->size == 5);
  CHECK(held->root == log.Root(5));
  CHECK(VerifyCheckpoint(held->note, log.origin, log.key->RawPublic()).ok());
  CHECK(VerifyCosignature(held->note, vkey->name, vkey->raw_public).ok());
  CHECK(*witness.CheckpointFor(Hex(Sha256Of(log.origin))) == held->note);
  CHECK(!witness.CheckpointFor(Hex(Sha256Of("elsewhere.example/log")))->has_value());

  // A client that does not know the held size learns it from a 409.
  a = witness.AddCheckpoint(log.Request(0, 9));
  CHECK(a.status == 409);
  CHECK(a.content_type == "text/x.tlog.size");
  CHECK(a.body == "5\n");
  // With a proof from the held size it moves on; the same tree again is fine.
  ++clock;
  REQUIRE(witness.AddCheckpoint(log.Request(5, 9)).status == 200);
  REQUIRE(witness.AddCheckpoint(log.Request(9, 9)).status == 200);
  CHECK((*store->Latest(log.origin))->size == 9);
  CHECK(!store->SplitViews()->size());
  // A log first witnessed empty: a proof after "old 0" is a malformed
  // request (422), not evidence against the log; without it, it moves on.
  {
    Log young;
    young.origin = "young.example/log";
    young.Grow(5);
    Witness w("county.example.gov/witness", witness_key.get(),
              {{young.origin, young.key->RawPublic()}}, store, [&] { return clock; });
    REQUIRE(w.AddCheckpoint(young.Request(0, 0)).status == 200);
    AddCheckpointRequest r = *ParseAddCheckpoint(young.Request(0, 5));
    r.proof = {Sha256Of("p")};
    const Witness::Answer a0 = w.AddCheckpoint(FormatAddCheckpoint(r));
    CHECK(a0.status == 422);
    CHECK(!a0.split_view.has_value());
    CHECK(w.AddCheckpoint(young.Request(0, 5)).status == 200);
  }

  // A proof that does not verify (a wrong hash in it) is refused with 422.
  {
    AddCheckpointRequest r = *ParseAddCheckpoint(log.Request(9, 14));
    r.proof.back()[0] ^= 1;
    Witness::Answer bad = witness.AddCheckpoint(FormatAddCheckpoint(r));
    CHECK(bad.status == 422);
    CHECK(bad.split_view.has_value());
  }

  // The log rewrites its history: the same size with another root, or a
  // longer tree that does not contain the held one. Both are split views.
  Log fork;
  fork.key = SigningKey::FromPem(log.key->PrivatePem()).value();
  fork.Grow(4);
  fork.Grow(30, 'z');  // leaves 4.. differ from the log's
  Witness::Answer same_size = witness.AddCheckpoint(fork.Request(9, 9));
  CHECK(same_size.status == 422);
  Witness::Answer longer = witness.AddCheckpoint(fork.Request(9, 30));
  CHECK(longer.status == 422);
  REQUIRE(longer.split_view.has_value());
  CHECK(longer.split_view->held == (*store->Latest(log.origin))->note);
  CHECK(longer.split_view->submitted == fork.Note(30));
  auto alarms = *store->SplitViews();
  REQUIRE(alarms.size() == 3);
  CHECK(alarms[2].origin == log.origin);
  CHECK(alarms[2].at == clock);
  CHECK(alarms[2].reason == "the checkpoint is not consistent with the one held");
  CHECK((*store->Latest(log.origin))->size == 9);  // the true log still continues
  CHECK(witness.AddCheckpoint(log.Request(9, 20)).status == 200);
}

TEST_CASE("concurrent add-checkpoint calls move the held size forward once, never back",
          "[witness]") {
  const int which = GENERATE(0, 1);
  INFO("witness state " << StoreName(which));
  auto stores = MakeStores(which, 4);
  if (stores.empty()) return;
  auto witness_key = SigningKey::Generate().value();
  Log log;
  log.Grow(40);
  std::vector<std::unique_ptr<Witness>> witnesses;
  witnesses.reserve(stores.size());
  for (auto& store : stores)
    witnesses.push_back(std::make_unique<Witness>(
        "w", witness_key.get(), std::vector<WitnessedLog>{{log.origin, log.key->RawPublic()}},
        store.get(), [] { return int64_t{1}; }));
  REQUIRE(witnesses[0]->AddCheckpoint(log.Request(0, 8)).status == 200);
  // Eight clients, each with a checkpoint of another size, all from size 8.
  // Counted here and checked after the joins: Catch2's assertions are not
  // thread-safe.
  std::atomic<int> cosigned{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (uint64_t size = 9; size <= 16; ++size) {
    const std::string body = log.Request(8, size);
    Witness* w = witnesses[size % witnesses.size()].get();
    threads.emplace_back([&, body, w] {
      const int status = w->AddCheckpoint(body).status;
      (status == 200 ? cosigned : status == 409 ? conflicts : other)++;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(other == 0);
  CHECK(cosigned == 1);
  CHECK(conflicts == 7);
  const uint64_t held = (*stores[0]->Latest(log.origin))->size;
  CHECK(held >= 9);
  CHECK(held <= 16);
}
