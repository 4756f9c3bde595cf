#include "gongkai/storage/tiles.h"

#include <vector>

namespace gongkai::storage {
namespace {

// A decimal number of 1-3 digits without leading zeros ("0" itself is fine).
std::optional<uint64_t> Decimal(std::string_view s, size_t max_digits) {
  if (s.empty() || s.size() > max_digits || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    const size_t slash = s.find('/', start);
    out.push_back(s.substr(start, slash == std::string_view::npos ? s.npos : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

}  // namespace

std::optional<TileId> ParseTilePath(std::string_view path) {
  std::vector<std::string_view> parts = Split(path);
  if (parts.size() < 2) return std::nullopt;
  TileId tile;
  if (parts[0] == "entries") {
    tile.entries = true;
  } else {
    const auto level = Decimal(parts[0], 2);
    if (!level || *level > kMaxTileLevel) return std::nullopt;
    tile.level = static_cast<int>(*level);
  }
  parts.erase(parts.begin());
  // A partial tile ends ".p/W": the last group carries ".p", W follows.
  if (parts.size() >= 2 && parts[parts.size() - 2].size() > 2 &&
      parts[parts.size() - 2].substr(parts[parts.size() - 2].size() - 2) == ".p") {
    const auto width = Decimal(parts.back(), 3);
    if (!width || *width < 1 || *width >= kTileWidth) return std::nullopt;
    tile.width = *width;
    parts.pop_back();
    parts.back().remove_suffix(2);
  }
  // N: 3-digit groups, "x" before all but the last. At most 7 groups (a
  // 64-bit index has 20 digits; 21 digits would overflow).
  if (parts.empty() || parts.size() > 7) return std::nullopt;
  uint64_t index = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view group = parts[i];
    const bool last = i + 1 == parts.size();
    if (!last) {
      if (group.empty() || group[0] != 'x') return std::nullopt;
      group.remove_prefix(1);
    }
    if (group.size() != 3) return std::nullopt;
    uint64_t v = 0;
    for (char c : group) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (index > (UINT64_MAX - v) / 1000) return std::nullopt;
    index = index * 1000 + v;
  }
  // The canonical encoding only: no leading all-zero groups ("x000/001").
  if (parts.size() > 1 && parts[0] == "x000") return std::nullopt;
  tile.index = index;
  return tile;
}

std::string TilePath(const TileId& tile) {
  std::string n = std::to_string(tile.index);
  n.insert(0, (3 - n.size() % 3) % 3, '0');
  std::string groups;
  for (size_t i = 0; i < n.size(); i += 3)
    groups += (i + 3 < n.size() ? "x" : "") + n.substr(i, 3) + (i + 3 < n.size() ? "/" : "");
  std::string out =
      (tile.entries ? std::string("entries") : std::to_string(tile.level)) + "/" + groups;
  if (tile.width != kTileWidth) out += ".p/" + std::to_string(tile.width);
  return out;
}

uint64_t TileWidthAt(int level, uint64_t index, uint64_t tree_size) {
  // Hashes at Merkle level 8·level: complete subtrees of 256^level leaves.
  const int shift = kTileHeight * level;
  if (shift >= 64) return 0;
  const uint64_t nodes = tree_size >> shift;  // complete nodes at that level
  const uint64_t first = index * kTileWidth;
  if (index > (UINT64_MAX / kTileWidth) || nodes <= first) return 0;
  return std::min<uint64_t>(nodes - first, kTileWidth);
}

bool InTree(const TileId& tile, uint64_t tree_size) {
  return tile.width <= TileWidthAt(tile.level, tile.index, tree_size);
}

Result<std::string> HashTile(const TileId& tile, uint64_t tree_size, const NodeReader& read) {
  if (tile.entries) return Status::Invalid("an entry bundle is not a hash tile");
  const uint64_t width = tile.width;
  if (!InTree(tile, tree_size))
    return Status::NotFound("tile " + TilePath(tile) + " is not in the tree of size " +
                            std::to_string(tree_size));
  std::string out;
  out.reserve(width * 32);
  for (uint64_t i = 0; i < width; ++i) {
    auto node = read(kTileHeight * tile.level, tile.index * kTileWidth + i);
    if (!node.ok()) return node.status();
    out.append(reinterpret_cast<const char*>(node->data()), node->size());
  }
  return out;
}

}  // namespace gongkai::storage
