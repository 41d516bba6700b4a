// Added tokens (BOS/EOS, FIM markers, user-defined tokens) are found in the raw text before
// pre-tokenization, as Hugging Face's AddedVocabulary does: tokens with normalized == false are
// matched first, then those with normalized == true inside the remaining text (with no
// normalizer the two passes see the same bytes). Each pass takes, at the leftmost position where
// any token matches, the longest one; lstrip / rstrip swallow the whitespace beside a match and
// single_word rejects a match touching a word character.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dsv2 {

struct AddedToken {
  std::int32_t id = -1;
  std::string content;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = false;
  bool special = false;
};

class AddedTokens {
 public:
  struct Segment {
    std::string_view text;
    std::int32_t id;  // -1: plain text to pre-tokenize
  };

  AddedTokens() = default;
  explicit AddedTokens(std::vector<AddedToken> tokens);
  // Move-only: the lookup tables view the token strings in place.
  AddedTokens(const AddedTokens&) = delete;
  AddedTokens& operator=(const AddedTokens&) = delete;
  AddedTokens(AddedTokens&&) noexcept = default;
  AddedTokens& operator=(AddedTokens&&) noexcept = default;

  // Cuts text (valid UTF-8) into plain-text segments and added-token matches, in order.
  void split(std::string_view text, std::vector<Segment>& out) const;
  std::optional<std::int32_t> find(std::string_view content) const;
  const AddedToken* by_id(std::int32_t id) const;
  const std::vector<AddedToken>& all() const { return tokens_; }

 private:
  // A byte trie over token contents; node 0 is the root.
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, std::int32_t>> next;
      std::int32_t token = -1;  // index into tokens_
    };
    std::vector<Node> nodes{1};
    std::array<bool, 256> first{};
    void insert(std::string_view s, std::int32_t token);
    // Longest token starting at text[pos]: its index and length, or -1.
    std::int32_t longest(std::string_view text, std::size_t pos, std::size_t* len) const;
  };
  void split_pass(const Trie& trie, std::string_view text, std::vector<Segment>& out) const;

  std::vector<AddedToken> tokens_;
  Trie non_normalized_, normalized_;
  std::unordered_map<std::string_view, std::int32_t> by_content_;
  std::unordered_map<std::int32_t, std::size_t> by_id_;
};

}  // namespace dsv2
