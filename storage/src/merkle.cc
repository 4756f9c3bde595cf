#include "gongkai/storage/merkle.h"

#include <algorithm>

#include "gongkai/storage/record.h"

namespace gongkai::storage {
namespace {

// Largest power of two strictly less than n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

bool IsPowerOfTwo(uint64_t n) { return n && (n & (n - 1)) == 0; }

int Log2(uint64_t n) {
  int l = 0;
  while ((uint64_t{1} << l) < n) ++l;
  return l;
}

// MTH(D[begin:end]) from stored perfect subtrees: O(log n) reads.
Result<Digest> RangeHash(uint64_t begin, uint64_t end, const NodeReader& read) {
  const uint64_t n = end - begin;
  if (IsPowerOfTwo(n) && begin % n == 0) return read(Log2(n), begin / n);
  const uint64_t k = SplitPoint(n);
  auto left = RangeHash(begin, begin + k, read);
  if (!left.ok()) return left;
  auto right = RangeHash(begin + k, end, read);
  if (!right.ok()) return right;
  return NodeHash(*left, *right);
}

Status Path(uint64_t m, uint64_t begin, uint64_t end, const NodeReader& read,
            std::vector<Digest>& out) {
  const uint64_t n = end - begin;
  if (n <= 1) return Status::OK();
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    if (Status s = Path(m, begin, begin + k, read, out); !s.ok()) return s;
    auto h = RangeHash(begin + k, end, read);
    if (!h.ok()) return h.status();
    out.push_back(*h);
  } else {
    if (Status s = Path(m - k, begin + k, end, read, out); !s.ok()) return s;
    auto h = RangeHash(begin, begin + k, read);
    if (!h.ok()) return h.status();
    out.push_back(*h);
  }
  return Status::OK();
}

Status SubProof(uint64_t m, uint64_t begin, uint64_t end, bool complete, const NodeReader& read,
                std::vector<Digest>& out) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!complete) {
      auto h = RangeHash(begin, end, read);
      if (!h.ok()) return h.status();
      out.push_back(*h);
    }
    return Status::OK();
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    if (Status s = SubProof(m, begin, begin + k, complete, read, out); !s.ok()) return s;
    auto h = RangeHash(begin + k, end, read);
    if (!h.ok()) return h.status();
    out.push_back(*h);
  } else {
    if (Status s = SubProof(m - k, begin + k, end, false, read, out); !s.ok()) return s;
    auto h = RangeHash(begin, begin + k, read);
    if (!h.ok()) return h.status();
    out.push_back(*h);
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<TreeNode>> NodesForAppend(uint64_t n, const Digest& leaf,
                                             const NodeReader& read) {
  std::vector<TreeNode> out{{0, n, leaf}};
  Digest cur = leaf;
  uint64_t index = n;
  int level = 0;
  while (index % 2 == 1) {  // a right child completes its parent
    auto left = read(level, index - 1);
    if (!left.ok()) return left.status();
    cur = NodeHash(*left, cur);
    index /= 2;
    ++level;
    out.push_back({level, index, cur});
  }
  return out;
}

Result<Digest> RootHash(uint64_t size, const NodeReader& read) {
  if (size == 0) return Sha256Of("");
  return RangeHash(0, size, read);
}

Result<std::vector<Digest>> InclusionProof(uint64_t index, uint64_t size, const NodeReader& read) {
  if (index >= size)
    return Status::Invalid("leaf index " + std::to_string(index) + " not below tree size " +
                           std::to_string(size));
  std::vector<Digest> out;
  if (Status s = Path(index, 0, size, read, out); !s.ok()) return s;
  return out;
}

Result<std::vector<Digest>> ConsistencyProof(uint64_t from, uint64_t to, const NodeReader& read) {
  if (from > to)
    return Status::Invalid("consistency from " + std::to_string(from) + " > to " +
                           std::to_string(to));
  std::vector<Digest> out;
  if (from == 0 || from == to) return out;
  if (Status s = SubProof(from, 0, to, true, read, out); !s.ok()) return s;
  return out;
}

bool VerifyInclusion(uint64_t index, uint64_t size, const Digest& leaf,
                     const std::vector<Digest>& path, const Digest& root) {
  if (index >= size) return false;
  uint64_t fn = index, sn = size - 1;
  Digest r = leaf;
  for (const Digest& p : path) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      if (!(fn & 1))
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t from, uint64_t to, const Digest& from_root, const Digest& to_root,
                       const std::vector<Digest>& proof) {
  if (from > to) return false;
  if (from == to) return proof.empty() && from_root == to_root;
  if (from == 0) return proof.empty();
  if (proof.empty()) return false;
  std::vector<Digest> path = proof;
  if (IsPowerOfTwo(from)) path.insert(path.begin(), from_root);
  uint64_t fn = from - 1, sn = to - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Digest fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Digest& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if (!(fn & 1))
        while (!(fn & 1) && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == from_root && sr == to_root && sn == 0;
}

std::vector<TreeNode> StreamingTree::Append(const Digest& leaf) {
  std::vector<TreeNode> done{{0, size_, leaf}};
  stack_.push_back({0, size_, leaf});
  while (stack_.size() >= 2 && stack_[stack_.size() - 1].level == stack_[stack_.size() - 2].level) {
    TreeNode right = stack_.back();
    stack_.pop_back();
    TreeNode& left = stack_.back();
    left.hash = NodeHash(left.hash, right.hash);
    left.level += 1;
    left.index /= 2;
    done.push_back(left);
  }
  ++size_;
  return done;
}

Digest StreamingTree::Root() const {
  if (stack_.empty()) return Sha256Of("");
  Digest r = stack_.back().hash;
  for (size_t i = stack_.size() - 1; i-- > 0;) r = NodeHash(stack_[i].hash, r);
  return r;
}

std::string StreamingTree::State() const {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((size_ >> shift) & 0xFF);
  for (const TreeNode& n : stack_) out.append(reinterpret_cast<const char*>(n.hash.data()), 32);
  return out;
}

Result<StreamingTree> StreamingTree::FromState(std::string_view state) {
  if (state.size() < 8) return Status::Corruption("tree state shorter than its size");
  StreamingTree t;
  for (size_t i = 0; i < 8; ++i) t.size_ = (t.size_ << 8) | static_cast<uint8_t>(state[i]);
  if (state.size() != 8 + 32 * static_cast<size_t>(__builtin_popcountll(t.size_)))
    return Status::Corruption("tree state of size " + std::to_string(t.size_) + " has " +
                              std::to_string(state.size()) + " bytes");
  size_t at = 8;
  uint64_t start = 0;  // first leaf of the next subtree
  for (int level = 63; level >= 0; --level) {
    if (!((t.size_ >> level) & 1)) continue;
    TreeNode n{level, start >> level, {}};
    std::copy_n(reinterpret_cast<const uint8_t*>(state.data()) + at, 32, n.hash.begin());
    at += 32;
    start += uint64_t{1} << level;
    t.stack_.push_back(n);
  }
  return t;
}

}  // namespace gongkai::storage
