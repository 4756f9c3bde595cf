// The Merkle log against an independent reference: RFC 9162 §2.1 written out
// directly over a vector of leaves (the recursive definitions, no stored
// nodes), compared for every (index, size) pair up to 64 leaves.
#include <catch2/catch.hpp>
#include <map>

#include "gongkai/storage/checkpoint.h"
#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"
#include "support/merkle_store.h"

using namespace gongkai::storage;

namespace {

using Leaves = std::vector<Digest>;

Digest RefMth(const Leaves& d, size_t b, size_t e) {
  if (e == b) return Sha256Of("");
  if (e - b == 1) return d[b];
  size_t k = 1;
  while (k * 2 < e - b) k *= 2;
  return NodeHash(RefMth(d, b, b + k), RefMth(d, b + k, e));
}

Leaves RefPath(size_t m, const Leaves& d, size_t b, size_t e) {
  const size_t n = e - b;
  if (n == 1) return {};
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  Leaves out;
  if (m < k) {
    out = RefPath(m, d, b, b + k);
    out.push_back(RefMth(d, b + k, e));
  } else {
    out = RefPath(m - k, d, b + k, e);
    out.push_back(RefMth(d, b, b + k));
  }
  return out;
}

Leaves RefSubproof(size_t m, const Leaves& d, size_t b, size_t e, bool complete) {
  const size_t n = e - b;
  if (m == n) return complete ? Leaves{} : Leaves{RefMth(d, b, e)};
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  Leaves out;
  if (m <= k) {
    out = RefSubproof(m, d, b, b + k, complete);
    out.push_back(RefMth(d, b + k, e));
  } else {
    out = RefSubproof(m - k, d, b + k, e, false);
    out.push_back(RefMth(d, b, b + k));
  }
  return out;
}

using Store = gongkai::test::MerkleStore;

}  // namespace

TEST_CASE("merkle: a streaming tree restored from its state goes on where it stopped",
          "[storage][merkle]") {
  Leaves leaves;
  for (int i = 0; i < 300; ++i) leaves.push_back(LeafHash("record " + std::to_string(i)));
  for (size_t cut : {0, 1, 2, 3, 7, 8, 64, 255, 256, 257}) {
    StreamingTree first;
    for (size_t i = 0; i < cut; ++i) first.Append(leaves[i]);
    auto restored = StreamingTree::FromState(first.State());
    REQUIRE(restored.ok());
    CHECK(restored->size() == cut);
    CHECK(restored->Root() == first.Root());
    for (size_t i = cut; i < leaves.size(); ++i) restored->Append(leaves[i]);
    CHECK(restored->Root() == RefMth(leaves, 0, leaves.size()));
  }
  StreamingTree five;
  for (int i = 0; i < 5; ++i) five.Append(leaves[static_cast<size_t>(i)]);
  const std::string state = five.State();
  CHECK(state.size() == 8 + 2 * 32);  // 5 = 4 + 1: two subtrees
  CHECK(StreamingTree::FromState(state.substr(0, 40)).status().code() ==
        gongkai::Status::Code::kCorruption);
  CHECK_FALSE(StreamingTree::FromState("").ok());
}

TEST_CASE("merkle: roots, inclusion and consistency proofs match RFC 9162 up to 64 leaves",
          "[storage][merkle]") {
  Leaves leaves;
  Store store;
  StreamingTree stream;
  for (int i = 0; i < 64; ++i) {
    leaves.push_back(LeafHash("record " + std::to_string(i)));
    store.Append(leaves.back());
    stream.Append(leaves.back());
  }
  CHECK(*RootHash(0, store.reader()) == Sha256Of(""));
  for (size_t size = 1; size <= 64; ++size) {
    const Digest root = RefMth(leaves, 0, size);
    REQUIRE(*RootHash(size, store.reader()) == root);
    for (size_t m = 0; m < size; ++m) {
      auto path = InclusionProof(m, size, store.reader());
      REQUIRE(path.ok());
      REQUIRE(*path == RefPath(m, leaves, 0, size));
      REQUIRE(VerifyInclusion(m, size, leaves[m], *path, root));
      REQUIRE_FALSE(VerifyInclusion(m, size, leaves[(m + 1) % 64], *path, root));
      if (!path->empty()) {
        auto bad = *path;
        bad.back()[0] ^= 1;
        REQUIRE_FALSE(VerifyInclusion(m, size, leaves[m], bad, root));
      }
    }
    for (size_t from = 1; from <= size; ++from) {
      auto proof = ConsistencyProof(from, size, store.reader());
      REQUIRE(proof.ok());
      REQUIRE(*proof == RefSubproof(from, leaves, 0, size, true));
      const Digest old_root = RefMth(leaves, 0, from);
      REQUIRE(VerifyConsistency(from, size, old_root, root, *proof));
      if (from < size)
        REQUIRE_FALSE(VerifyConsistency(from, size, RefMth(leaves, 1, from + 1), root, *proof));
    }
  }
  CHECK(stream.Root() == RefMth(leaves, 0, 64));
  CHECK_FALSE(InclusionProof(5, 5, store.reader()).ok());
  CHECK_FALSE(ConsistencyProof(6, 5, store.reader()).ok());
}

TEST_CASE("merkle: a missing stored node is reported, not guessed", "[storage][merkle]") {
  Store store;
  for (int i = 0; i < 5; ++i) store.Append(LeafHash(std::to_string(i)));
  store.nodes.erase({2, 0});
  CHECK(RootHash(5, store.reader()).status().code() == gongkai::Status::Code::kCorruption);
}

TEST_CASE("checkpoint: C2SP signed note round trip and tamper detection", "[storage][merkle]") {
  auto key = SigningKey::Generate();
  Checkpoint c{"gongkai.example.gov", 42, Sha256Of("root")};
  const std::string note = SignCheckpoint(c, **key);
  CHECK(note.rfind("gongkai.example.gov\n42\n", 0) == 0);
  CHECK(note.find("\n\n\xE2\x80\x94 gongkai.example.gov ") != std::string::npos);
  auto v = VerifyCheckpoint(note, "gongkai.example.gov", (*key)->RawPublic());
  REQUIRE(v.ok());
  CHECK(v->size == 42);
  CHECK(v->root == c.root);
  std::string tampered = note;
  tampered[note.find("42")] = '4';
  tampered[note.find("42") + 1] = '3';
  CHECK_FALSE(VerifyCheckpoint(tampered, "gongkai.example.gov", (*key)->RawPublic()).ok());
  CHECK_FALSE(VerifyCheckpoint(note, "other.origin", (*key)->RawPublic()).ok());
  auto other = SigningKey::Generate();
  CHECK_FALSE(VerifyCheckpoint(note, "gongkai.example.gov", (*other)->RawPublic()).ok());
  const std::string vkey = NoteVerifierKey("gongkai.example.gov", (*key)->RawPublic());
  CHECK(vkey.rfind("gongkai.example.gov+", 0) == 0);
  CHECK(vkey.size() == std::string("gongkai.example.gov+").size() + 8 + 1 + 44);
}
