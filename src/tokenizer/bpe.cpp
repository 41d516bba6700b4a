#include "tokenizer/bpe.h"

#include <algorithm>

#include "tokenizer/unicode_bytes.h"
#include "util/error.h"

namespace dsv2 {

BpeModel::BpeModel(const std::vector<std::pair<std::string_view, std::int32_t>>& vocab,
                   const std::vector<Merge>& merges, bool ignore_merges, const std::string& what)
    : ignore_merges_(ignore_merges) {
  std::unordered_map<std::string_view, std::int32_t> by_text;
  by_text.reserve(vocab.size());
  for (const auto& [text, id] : vocab) by_text.try_emplace(text, id);

  byte_id_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    std::string ch = byte_level::encode(std::string(1, static_cast<char>(b)));
    if (auto it = by_text.find(ch); it != by_text.end()) byte_id_[b] = it->second;
  }

  auto lookup = [&](const std::string& s, std::size_t rank) {
    auto it = by_text.find(s);
    if (it == by_text.end()) throw Error(what + ": merge #" + std::to_string(rank) + " uses '" + s + "', which is not in the vocab");
    return it->second;
  };
  merges_.reserve(merges.size());
  for (std::size_t r = 0; r < merges.size(); ++r) {
    const Merge& m = merges[r];
    std::int32_t a = lookup(m.left, r), b = lookup(m.right, r), ab = lookup(m.left + m.right, r);
    merges_[key(a, b)] = MergeResult{static_cast<std::uint32_t>(r), ab};  // a repeated pair: the last rank wins, as in HF
  }

  if (ignore_merges_) {
    for (const auto& [text, id] : by_text) {
      if (auto raw = byte_level::decode(text)) raw_vocab_.try_emplace(*raw, id);
    }
  }
}

const BpeModel::MergeResult* BpeModel::find_merge(std::int32_t a, std::int32_t b) const {
  auto it = merges_.find(key(a, b));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::encode(std::string_view piece, std::vector<std::int32_t>& out) const {
  if (ignore_merges_) {
    if (auto it = raw_vocab_.find(std::string(piece)); it != raw_vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  // Symbols form a doubly linked list over the bytes; a merged-away symbol gets id -1.
  struct Sym {
    std::int32_t id, prev, next;
  };
  thread_local std::vector<Sym> syms;
  syms.clear();
  for (char c : piece) {
    std::int32_t id = byte_id_[static_cast<unsigned char>(c)];
    if (id < 0) continue;
    auto n = static_cast<std::int32_t>(syms.size());
    syms.push_back({id, n - 1, n + 1});
  }
  if (syms.empty()) return;
  syms.back().next = -1;

  // Candidate merges, smallest (rank, position) on top. Entries go stale when a neighbour
  // merges first; they are recognised when popped, as in HF's word merging.
  struct Cand {
    std::uint32_t rank;
    std::int32_t pos, id;
  };
  auto after = [](const Cand& x, const Cand& y) { return x.rank != y.rank ? x.rank > y.rank : x.pos > y.pos; };
  thread_local std::vector<Cand> heap;
  heap.clear();
  auto push = [&](std::int32_t pos) {
    const Sym& l = syms[pos];
    if (l.next < 0) return;
    if (const MergeResult* m = find_merge(l.id, syms[l.next].id)) {
      heap.push_back({m->rank, pos, m->id});
      std::push_heap(heap.begin(), heap.end(), after);
    }
  };
  for (std::int32_t i = 0; i + 1 < static_cast<std::int32_t>(syms.size()); ++i) push(i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), after);
    const Cand c = heap.back();
    heap.pop_back();
    Sym& l = syms[c.pos];
    if (l.id < 0 || l.next < 0) continue;
    Sym& r = syms[l.next];
    const MergeResult* m = find_merge(l.id, r.id);
    if (!m || m->id != c.id) continue;
    l.id = c.id;
    r.id = -1;
    l.next = r.next;
    if (l.next >= 0) syms[l.next].prev = c.pos;
    if (l.prev >= 0) push(l.prev);
    push(c.pos);
  }
  for (std::int32_t i = 0; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
}

}  // namespace dsv2
