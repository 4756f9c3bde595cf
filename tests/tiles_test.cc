// C2SP tlog-tiles over the stored Merkle nodes: tile paths as the spec
// writes them, tile widths (the spec's own example), and, for many tree
// sizes with full and partial tiles, a client's view: every node rebuilt
// from the tiles alone gives the same roots and inclusion and consistency
// proofs as the stored nodes (merkle.h, what the proof endpoints serve).
#include <catch2/catch.hpp>
#include <map>

#include "gongkai/storage/merkle.h"
#include "gongkai/storage/record.h"
#include "gongkai/storage/tiles.h"
#include "support/merkle_store.h"

using namespace gongkai::storage;

namespace {

using Store = gongkai::test::MerkleStore;

// A tiles client: fetches each tile the tree of `size` has (HashTile, the
// width TileWidthAt names) and rebuilds any complete node from them. The
// server's tree may have grown to `served_size` since.
class TileClient {
 public:
  TileClient(uint64_t size, const NodeReader& server, uint64_t served_size = 0)
      : size_(size), served_size_(served_size ? served_size : size), server_(server) {}
  NodeReader reader() {
    return
        [this](int level, uint64_t index) -> gongkai::Result<Digest> { return Node(level, index); };
  }

 private:
  gongkai::Result<Digest> Node(int level, uint64_t index) {
    const int tile_level = level / kTileHeight, above = level % kTileHeight;
    // The tile hashes under the node, folded pairwise `above` times.
    std::vector<Digest> hashes;
    for (uint64_t i = index << above; i < (index + 1) << above; ++i) {
      const std::string& tile = Tile(tile_level, i / kTileWidth);
      if ((i % kTileWidth + 1) * 32 > tile.size())
        return gongkai::Status::NotFound("beyond the tiles");
      Digest d;
      std::copy_n(tile.data() + (i % kTileWidth) * 32, 32, d.begin());
      hashes.push_back(d);
    }
    while (hashes.size() > 1) {
      std::vector<Digest> up;
      for (size_t i = 0; i < hashes.size(); i += 2)
        up.push_back(NodeHash(hashes[i], hashes[i + 1]));
      hashes = up;
    }
    return hashes[0];
  }
  const std::string& Tile(int level, uint64_t index) {
    auto [it, added] = tiles_.try_emplace({level, index});
    if (added) {
      TileId id;
      id.level = level;
      id.index = index;
      id.width = TileWidthAt(level, index, size_);
      REQUIRE(id.width > 0);
      auto bytes = HashTile(id, served_size_, server_);
      REQUIRE(bytes.ok());
      REQUIRE(bytes->size() == id.width * 32);
      it->second = *bytes;
    }
    return it->second;
  }
  uint64_t size_, served_size_;
  NodeReader server_;
  std::map<std::pair<int, uint64_t>, std::string> tiles_;
};

}  // namespace

TEST_CASE("tiles: paths as the spec writes them, and nothing else", "[storage][tiles]") {
  auto parsed = ParseTilePath("0/x001/x234/067");
  REQUIRE(parsed);
  CHECK(parsed->index == 1234067);
  CHECK(parsed->level == 0);
  CHECK(parsed->width == kTileWidth);
  parsed = ParseTilePath("entries/x001/234.p/17");
  REQUIRE(parsed);
  CHECK(parsed->entries);
  CHECK(parsed->index == 1234);
  CHECK(parsed->width == 17);
  for (uint64_t index : {uint64_t{0}, uint64_t{7}, uint64_t{999}, uint64_t{1000}, uint64_t{1234067},
                         UINT64_MAX / kTileWidth})
    for (uint64_t width : {uint64_t{1}, uint64_t{112}, uint64_t{255}, kTileWidth})
      for (int level : {0, 1, 63}) {
        TileId t;
        t.level = level;
        t.index = index;
        t.width = width;
        INFO(TilePath(t));
        auto back = ParseTilePath(TilePath(t));
        REQUIRE(back);
        CHECK(back->level == level);
        CHECK(back->index == index);
        CHECK(back->width == width);
      }
  CHECK(TilePath(TileId{false, 2, 1234067, 5}) == "2/x001/x234/067.p/5");
  for (const char* bad : {"",
                          "0",
                          "0/",
                          "00/001",
                          "64/001",
                          "-1/001",
                          "0/1",
                          "0/0001",
                          "0/x1/001",
                          "0/001/x234",
                          "0/x000/001",
                          "0/001.p/0",
                          "0/001.p/256",
                          "0/001.p/012",
                          "0/001.p/",
                          "0/001.p",
                          "0/x001/",
                          "1/abc",
                          "0/x001/x002/x003/x004/x005/x006/x007/008",
                          "0/x999/x999/x999/x999/x999/x999/999",
                          "entries/",
                          "entries/1"})
    CHECK_FALSE(ParseTilePath(bad));
}

TEST_CASE("tiles: widths of a tree's tiles follow the spec's example", "[storage][tiles]") {
  // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one
  // partial level 0 tile of width 112, one full level 1 tile, one partial
  // level 1 tile of width 17, and one partial level 2 tile of width 1."
  CHECK(TileWidthAt(0, 272, 70000) == 256);
  CHECK(TileWidthAt(0, 273, 70000) == 112);
  CHECK(TileWidthAt(0, 274, 70000) == 0);
  CHECK(TileWidthAt(1, 0, 70000) == 256);
  CHECK(TileWidthAt(1, 1, 70000) == 17);
  CHECK(TileWidthAt(2, 0, 70000) == 1);
  CHECK(TileWidthAt(3, 0, 70000) == 0);
  // "a tree of size 256 will be represented by a full level 0 tile and a
  // partial level 1 tile of width 1."
  CHECK(TileWidthAt(0, 0, 256) == 256);
  CHECK(TileWidthAt(0, 1, 256) == 0);
  CHECK(TileWidthAt(1, 0, 256) == 1);
  CHECK(TileWidthAt(63, UINT64_MAX / kTileWidth, UINT64_MAX) == 0);
}

TEST_CASE("tiles: a client rebuilds the stored tree from the tiles alone, partial tiles included",
          "[storage][tiles]") {
  Store store;
  uint64_t earlier = 0;
  for (uint64_t size : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{255}, uint64_t{256},
                        uint64_t{257}, uint64_t{511}, uint64_t{512}, uint64_t{1000},
                        uint64_t{65535}, uint64_t{65536}, uint64_t{65537}, uint64_t{70000}}) {
    while (store.size < size) store.Append(LeafHash("record " + std::to_string(store.size)));
    INFO("tree size " << size);
    TileClient client(size, store.reader());
    CHECK(*RootHash(size, client.reader()) == *RootHash(size, store.reader()));
    for (uint64_t i : {uint64_t{0}, size / 3, size / 2, size - 1}) {
      INFO("leaf " << i);
      CHECK(*InclusionProof(i, size, client.reader()) == *InclusionProof(i, size, store.reader()));
    }
    for (uint64_t from : {uint64_t{1}, size / 2, size - 1}) {
      if (from == 0 || from >= size) continue;
      INFO("from " << from);
      CHECK(*ConsistencyProof(from, size, client.reader()) ==
            *ConsistencyProof(from, size, store.reader()));
    }
    // A client of the earlier checkpoint, served by today's tree: the same root.
    if (earlier > 0) {
      TileClient old(earlier, store.reader(), size);
      CHECK(*RootHash(earlier, old.reader()) == *RootHash(earlier, store.reader()));
      CHECK(*InclusionProof(earlier / 2, earlier, old.reader()) ==
            *InclusionProof(earlier / 2, earlier, store.reader()));
    }
    earlier = size;
    // The tile the tree has, and any narrower prefix of it; nothing wider.
    TileId last{false, 0, (size - 1) / kTileWidth,
                size % kTileWidth ? size % kTileWidth : kTileWidth};
    const auto whole = HashTile(last, size, store.reader());
    REQUIRE(whole.ok());
    TileId prefix = last;
    prefix.width = 1;
    CHECK(*HashTile(prefix, size, store.reader()) == whole->substr(0, 32));
    if (last.width < kTileWidth) {
      TileId wider = last;
      wider.width = last.width + 1;
      CHECK(HashTile(wider, size, store.reader()).status().IsNotFound());
    }
    TileId next = last;
    next.index = last.index + 1;
    next.width = 1;
    CHECK(HashTile(next, size, store.reader()).status().IsNotFound());
  }
}
