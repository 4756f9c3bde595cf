// An in-memory Merkle node store for tests, filled only through
// NodesForAppend as the catalog is, and checking that each append writes
// O(log n) nodes.
#pragma once

#include <bit>
#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <utility>

#include "gongkai/storage/merkle.h"

namespace gongkai::test {

struct MerkleStore {
  std::map<std::pair<int, uint64_t>, storage::Digest> nodes;
  uint64_t size = 0;
  storage::NodeReader reader() {
    return [this](int level, uint64_t index) -> Result<storage::Digest> {
      auto it = nodes.find({level, index});
      if (it == nodes.end()) return Status::Corruption("missing node");
      return it->second;
    };
  }
  void Append(const storage::Digest& leaf) {
    auto added = storage::NodesForAppend(size, leaf, reader());
    REQUIRE(added.ok());
    REQUIRE(added->size() <= 1 + static_cast<size_t>(std::bit_width(size)));  // O(log n) writes
    ++size;
    for (const storage::TreeNode& n : *added) nodes[{n.level, n.index}] = n.hash;
  }
};

}  // namespace gongkai::test
