// Hugging Face pre-tokenization: the text is cut into pieces ("pre-tokens") that BPE then
// encodes one by one. Steps run in order, each cutting every piece produced so far:
//   Split(pattern, behavior, invert), Digits(individual_digits), ByteLevel(add_prefix_space,
//   use_regex), and Sequence of these — read from tokenizer.json's "pre_tokenizer".
// ByteLevel's byte->char mapping is not done here: BPE works on raw bytes (see bpe.h).
#pragma once
#include <list>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/regex.h"

namespace dsv2 {

// How a Split step treats the matches of its pattern (HF SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

class PreTokenizer {
 public:
  // Parses a "pre_tokenizer" JSON value (null: the whole text is one piece). what names the
  // source in errors. Unknown step types or behaviours throw Error.
  static PreTokenizer from_json(const nlohmann::json& j, const std::string& what);

  void add_split(std::string_view pattern, bool is_regex, SplitBehavior behavior, bool invert,
                 const std::string& what);
  void add_digits(bool individual_digits);
  void add_byte_level(bool add_prefix_space, bool use_regex);

  // Calls emit(piece) for each piece of text, in order. Views point into text, or into arena
  // for pieces that had a prefix space added (a list: stable addresses, and no allocation
  // until a piece needs one). Empty pieces are never produced.
  void split(std::string_view text, std::list<std::string>& arena,
             const std::function<void(std::string_view)>& emit) const;
  // The two halves of split(): the pieces of the first step, then the rest of the steps on one
  // of those pieces. Pieces of the first step are independent, so a caller may cache by them.
  void split_first(std::string_view text, std::vector<std::string_view>& out, std::list<std::string>& arena) const;
  void split_rest(std::string_view first_piece, std::list<std::string>& arena,
                  const std::function<void(std::string_view)>& emit) const;
  // The same, appending to out.
  void split(std::string_view text, std::vector<std::string_view>& out, std::list<std::string>& arena) const;

 private:
  struct Step {
    enum class Kind { kSplit, kByteLevel } kind;
    std::unique_ptr<Regex> regex;  // kSplit; kByteLevel with use_regex
    SplitBehavior behavior = SplitBehavior::Isolated;
    bool invert = false;
    bool add_prefix_space = false;
  };
  void add_from_json(const nlohmann::json& j, const std::string& what);
  void apply(const Step& step, std::string_view piece, std::vector<std::string_view>& out,
             std::list<std::string>& arena) const;
  void run_steps(std::size_t first, std::vector<std::string_view>& pieces, std::vector<std::string_view>& spare,
                 std::list<std::string>& arena, const std::function<void(std::string_view)>& emit) const;

  std::vector<Step> steps_;
};

// Cuts piece by the matches of re, as HF's NormalizedString::split does (exposed for tests).
void split_by_regex(std::string_view piece, const Regex& re, SplitBehavior behavior, bool invert,
                    std::vector<std::string_view>& out);

}  // namespace dsv2
