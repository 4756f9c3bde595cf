// RFC 9162 §2.1 Merkle tree over the log's records, stored as the hashes of
// complete subtrees so that appends write O(log n) nodes and roots and proofs
// read O(log n) nodes (O(log² n) for consistency), never the whole tree.
//
// Node (level, index) is the root of the perfect subtree over leaves
// [index·2^level, (index+1)·2^level); level 0 holds the leaf hashes.
// These functions are pure: storage is the caller's (the catalog keeps nodes
// in the same transaction as the records they cover).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "gongkai/status.h"
#include "gongkai/storage/crypto.h"

namespace gongkai::storage {

// Reads a stored complete-subtree node. Must exist for every node the tree
// of the requested size is made of; a missing node is a Corruption error.
using NodeReader = std::function<Result<Digest>(int level, uint64_t index)>;

struct TreeNode {
  int level;
  uint64_t index;
  Digest hash;
};

// The nodes that appending leaf number `n` (0-based, with hash `leaf`) completes,
// leaf first. `read` supplies the left siblings already stored.
Result<std::vector<TreeNode>> NodesForAppend(uint64_t n, const Digest& leaf,
                                             const NodeReader& read);

// MTH(D[0:size]); the hash of the empty string for size 0.
Result<Digest> RootHash(uint64_t size, const NodeReader& read);
// PATH(index, D[0:size]) (RFC 9162 §2.1.3.1).
Result<std::vector<Digest>> InclusionProof(uint64_t index, uint64_t size, const NodeReader& read);
// PROOF(from, D[0:to]) (RFC 9162 §2.1.4.1).
Result<std::vector<Digest>> ConsistencyProof(uint64_t from, uint64_t to, const NodeReader& read);

// Verifiers (RFC 9162 §2.1.3.2 and §2.1.4.2), for tests and `verify`.
bool VerifyInclusion(uint64_t index, uint64_t size, const Digest& leaf,
                     const std::vector<Digest>& path, const Digest& root);
bool VerifyConsistency(uint64_t from, uint64_t to, const Digest& from_root, const Digest& to_root,
                       const std::vector<Digest>& proof);

// Computes roots of every prefix of a leaf sequence incrementally (the
// compact-range "stack" of perfect subtrees); O(1) amortised per leaf.
class StreamingTree {
 public:
  // Appends a leaf; returns the complete-subtree nodes it finished (for cross-checks).
  std::vector<TreeNode> Append(const Digest& leaf);
  Digest Root() const;
  uint64_t size() const { return size_; }

  // The tree as bytes: its size (8, big-endian) and the hash of each of its
  // perfect subtrees (32 each, one per 1 bit of the size, largest first).
  // FromState() restores a tree that goes on appending where this one stopped;
  // a state of the wrong length is a Corruption error.
  std::string State() const;
  static Result<StreamingTree> FromState(std::string_view state);

 private:
  std::vector<TreeNode> stack_;  // perfect subtrees, largest first
  uint64_t size_ = 0;
};

}  // namespace gongkai::storage
