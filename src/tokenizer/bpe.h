// Byte-level BPE: a pre-token's bytes start as one symbol per byte and adjacent pairs are
// merged by rank (lowest first, leftmost first among equal ranks) until no pair has a merge —
// the order Hugging Face's BPE model applies them in.
//
// Vocab strings are in GPT-2's byte-level alphabet ("Ġthe"); the model converts them to raw
// bytes once at load, so encoding works on the text's bytes with no per-call mapping.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dsv2 {

class BpeModel {
 public:
  struct Merge {
    std::string left, right;  // byte-level strings
  };
  // vocab: (byte-level string, id); the first entry wins when a string repeats. Merges are in
  // rank order; a merge whose parts or result are not in the vocab throws Error naming what.
  BpeModel(const std::vector<std::pair<std::string_view, std::int32_t>>& vocab, const std::vector<Merge>& merges,
           bool ignore_merges, const std::string& what);

  // Appends the ids of one pre-token (raw bytes). Bytes without a vocab entry are dropped,
  // as HF does for a BPE with no unk token.
  void encode(std::string_view piece, std::vector<std::int32_t>& out) const;

 private:
  struct MergeResult {
    std::uint32_t rank;
    std::int32_t id;
  };
  static std::uint64_t key(std::int32_t a, std::int32_t b) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
  }
  const MergeResult* find_merge(std::int32_t a, std::int32_t b) const;

  std::array<std::int32_t, 256> byte_id_{};
  std::unordered_map<std::uint64_t, MergeResult> merges_;
  bool ignore_merges_ = false;
  std::unordered_map<std::string, std::int32_t> raw_vocab_;  // only with ignore_merges
};

}  // namespace dsv2
