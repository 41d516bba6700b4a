#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <list>
#include <unordered_map>

#include "tokenizer/stream_decoder.h"
#include "tokenizer/unicode_bytes.h"
#include "tokenizer/utf8.h"
#include "util/error.h"

namespace dsv2 {

Tokenizer::Tokenizer(TokenizerParts parts) : parts_(std::move(parts)) {
  const std::size_t n = parts_.token_text.size();
  token_bytes_.resize(n);
  special_.assign(n, false);
  // HF's ByteLevel decoder maps a token's characters back to bytes; a token with a character
  // outside the byte alphabet (most added tokens, e.g. "<｜fim▁hole｜>") is emitted as its text.
  for (std::size_t id = 0; id < n; ++id) {
    const std::string& text = parts_.token_text[id];
    auto bytes = byte_level::decode(text);
    token_bytes_[id] = bytes ? std::move(*bytes) : text;
  }
  for (const AddedToken& t : parts_.added.all()) {
    if (t.special && t.id >= 0 && static_cast<std::size_t>(t.id) < n) special_[t.id] = true;
  }
}

void Tokenizer::check_id(std::int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= vocab_size()) {
    throw Error("token id " + std::to_string(id) + " is out of range [0, " + std::to_string(vocab_size()) + ")");
  }
}

const std::string& Tokenizer::token_text(std::int32_t id) const {
  check_id(id);
  return parts_.token_text[id];
}

const std::string& Tokenizer::token_bytes(std::int32_t id) const {
  check_id(id);
  return token_bytes_[id];
}

bool Tokenizer::is_special(std::int32_t id) const {
  return id >= 0 && static_cast<std::size_t>(id) < special_.size() && special_[id];
}

std::optional<std::int32_t> Tokenizer::find_added_token(std::string_view content) const {
  return parts_.added.find(content);
}

namespace {
// Pieces are short (a few bytes): FNV-1a beats the general-purpose string hash here.
struct PieceHash {
  std::size_t operator()(std::string_view s) const noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    return static_cast<std::size_t>(h);
  }
};
}  // namespace

// Pre-tokenizes text and BPE-encodes each piece. Code and prose repeat the same pieces a lot,
// so each call remembers where a piece's ids were first written and copies them from there.
void Tokenizer::encode_text(std::string_view text, std::vector<std::int32_t>& out) const {
  std::vector<AddedTokens::Segment> segments;
  parts_.added.split(text, segments);
  std::list<std::string> arena;
  std::unordered_map<std::string_view, std::pair<std::size_t, std::size_t>, PieceHash> seen;
  seen.reserve(std::min<std::size_t>(text.size() / 4, 4096));  // short prompts stay cheap
  auto encode_piece = [&](std::string_view piece) {
    auto [it, fresh] = seen.try_emplace(piece, out.size(), 0);
    if (!fresh) {
      auto [first, count] = it->second;
      for (std::size_t k = 0; k < count; ++k) {
        const std::int32_t id = out[first + k];  // copy: push_back may reallocate
        out.push_back(id);
      }
      return;
    }
    parts_.bpe->encode(piece, out);
    it->second.second = out.size() - it->second.first;
  };
  // Lines (or whatever the first step cuts) repeat too, so they are cached the same way.
  std::unordered_map<std::string_view, std::pair<std::size_t, std::size_t>, PieceHash> seen_first;
  std::vector<std::string_view> first_pieces;
  for (const auto& seg : segments) {
    if (seg.id >= 0) {
      out.push_back(seg.id);
      continue;
    }
    first_pieces.clear();
    parts_.pre.split_first(seg.text, first_pieces, arena);
    for (std::string_view fp : first_pieces) {
      auto [it, fresh] = seen_first.try_emplace(fp, out.size(), 0);
      if (!fresh) {
        auto [first, count] = it->second;
        for (std::size_t k = 0; k < count; ++k) {
          const std::int32_t id = out[first + k];
          out.push_back(id);
        }
        continue;
      }
      parts_.pre.split_rest(fp, arena, encode_piece);
      it->second.second = out.size() - it->second.first;
    }
  }
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text, bool add_bos) const {
  std::vector<std::int32_t> out;
  out.reserve(text.size() / 3 + 1);
  if (add_bos && parts_.bos_id >= 0) out.push_back(parts_.bos_id);
  if (utf8::is_valid(text)) {
    encode_text(text, out);
  } else {
    encode_text(utf8::sanitize(text), out);  // see the header: invalid bytes become U+FFFD
  }
  return out;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skip_special) const {
  std::string bytes;
  for (std::int32_t id : ids) {
    check_id(id);
    if (skip_special && special_[id]) continue;
    bytes += token_bytes_[id];
  }
  return utf8::is_valid(bytes) ? bytes : utf8::sanitize(bytes);
}

StreamDecoder Tokenizer::stream_decoder(bool skip_special) const { return StreamDecoder(*this, skip_special); }

std::string StreamDecoder::feed(std::int32_t id) {
  const std::string& bytes = tok_->token_bytes(id);
  if (skip_special_ && tok_->is_special(id)) return {};
  pending_ += bytes;
  const std::size_t n = utf8::complete_prefix(pending_);
  std::string out = utf8::sanitize(std::string_view(pending_).substr(0, n));
  pending_.erase(0, n);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = utf8::sanitize(pending_);
  pending_.clear();
  return out;
}

}  // namespace dsv2
