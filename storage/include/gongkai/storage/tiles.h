// C2SP tlog-tiles (specs/c2sp/tlog-tiles.md): the log's Merkle tree served as
// tiles of 256 hashes. Hash i of tile (level L, index N) is the tree node at
// Merkle level 8·L, index N·256 + i: exactly a complete-subtree node that
// merkle.h already stores, so a tile is read, never computed.
//
// Pure functions over a NodeReader, like merkle.h: storage and HTTP are the
// caller's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gongkai/status.h"
#include "gongkai/storage/merkle.h"

namespace gongkai::storage {

constexpr int kTileHeight = 8;  // 256 = 2^8 hashes a full tile
constexpr uint64_t kTileWidth = 256;
constexpr int kMaxTileLevel = 63;

struct TileId {
  bool entries = false;         // tile/entries/N: an entry bundle (level 0's entries)
  int level = 0;                // tile/L/N; 0 for entry bundles
  uint64_t index = 0;           // N
  uint64_t width = kTileWidth;  // kTileWidth for a full tile, else the .p/W width (1-255)
};

// Parses the part of a tile URL after "tile/": "L/N[.p/W]" or
// "entries/N[.p/W]", N in 3-digit groups with "x" before all but the last
// ("x001/x234/067"). nullopt for anything the spec does not allow: leading
// zeros in L or W, W outside 1-255, a group that is not 3 digits, a level
// above 63.
std::optional<TileId> ParseTilePath(std::string_view path);
// The inverse: "L/N[.p/W]" or "entries/N[.p/W]".
std::string TilePath(const TileId& tile);

// The width tile (level, index) has in a tree of `tree_size` leaves: 256 for
// a full tile, 1-255 for the partial tile at the right edge, 0 if the tree
// holds no hash of it.
uint64_t TileWidthAt(int level, uint64_t index, uint64_t tree_size);

// Whether a tree of `tree_size` leaves holds `tile`: a full tile once it is
// complete, a partial one of any width up to the one the tree has now. The
// hashes of a tile never change once there, so the partial tile of an
// earlier checkpoint is the same prefix of today's tile, and every tile
// served is immutable.
bool InTree(const TileId& tile, uint64_t tree_size);

// The tile's bytes (width × 32), from the stored nodes; NotFound unless
// InTree.
Result<std::string> HashTile(const TileId& tile, uint64_t tree_size, const NodeReader& read);

}  // namespace gongkai::storage
