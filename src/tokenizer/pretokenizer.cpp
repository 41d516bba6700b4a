#include "tokenizer/pretokenizer.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace dsv2 {

namespace {
// GPT-2's pre-tokenizer regex, which HF's ByteLevel applies when use_regex is true.
constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

SplitBehavior parse_behavior(const nlohmann::json& j, const std::string& what) {
  const std::string name = j.is_string() ? j.get<std::string>() : "";
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  throw Error(what + ": unknown Split behavior '" + (j.is_string() ? name : j.dump()) + "'");
}

bool bool_field(const nlohmann::json& j, const char* key, bool fallback, const std::string& what) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean()) throw Error(what + ": '" + key + "' must be a boolean");
  return j[key].get<bool>();
}
}  // namespace

PreTokenizer PreTokenizer::from_json(const nlohmann::json& j, const std::string& what) {
  PreTokenizer p;
  if (!j.is_null()) p.add_from_json(j, what);
  return p;
}

void PreTokenizer::add_from_json(const nlohmann::json& j, const std::string& what) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    throw Error(what + ": pre-tokenizer without a \"type\"");
  }
  const std::string type = j["type"].get<std::string>();
  if (type == "Sequence") {
    if (!j.contains("pretokenizers") || !j["pretokenizers"].is_array()) {
      throw Error(what + ": Sequence without \"pretokenizers\"");
    }
    for (const auto& step : j["pretokenizers"]) add_from_json(step, what);
  } else if (type == "Split") {
    const auto& pat = j.value("pattern", nlohmann::json());
    const bool is_regex = pat.is_object() && pat.contains("Regex") && pat["Regex"].is_string();
    const bool is_string = pat.is_object() && pat.contains("String") && pat["String"].is_string();
    if (!is_regex && !is_string) throw Error(what + ": Split needs a pattern {\"Regex\": ...} or {\"String\": ...}");
    const std::string text = pat[is_regex ? "Regex" : "String"].get<std::string>();
    add_split(text, is_regex, parse_behavior(j.value("behavior", nlohmann::json()), what),
              bool_field(j, "invert", false, what), what);
  } else if (type == "Digits") {
    add_digits(bool_field(j, "individual_digits", false, what));
  } else if (type == "ByteLevel") {
    add_byte_level(bool_field(j, "add_prefix_space", true, what), bool_field(j, "use_regex", true, what));
  } else {
    throw Error(what + ": pre-tokenizer type '" + type + "' is not supported");
  }
}

void PreTokenizer::add_split(std::string_view pattern, bool is_regex, SplitBehavior behavior, bool invert,
                             const std::string& what) {
  Step s{Step::Kind::kSplit, std::make_unique<Regex>(pattern, what, !is_regex), behavior, invert, false};
  steps_.push_back(std::move(s));
}

// HF's Digits splits on char::is_numeric (general category N), each numeric character a match:
// Isolated keeps every digit alone; Contiguous keeps runs of digits together.
void PreTokenizer::add_digits(bool individual_digits) {
  Step s{Step::Kind::kSplit, std::make_unique<Regex>("\\p{N}", "Digits"),
         individual_digits ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false, false};
  steps_.push_back(std::move(s));
}

void PreTokenizer::add_byte_level(bool add_prefix_space, bool use_regex) {
  Step s{Step::Kind::kByteLevel, nullptr, SplitBehavior::Isolated, false, add_prefix_space};
  if (use_regex) s.regex = std::make_unique<Regex>(kGpt2Regex, "ByteLevel");
  steps_.push_back(std::move(s));
}

void PreTokenizer::apply(const Step& step, std::string_view piece, std::vector<std::string_view>& out,
                         std::list<std::string>& arena) const {
  if (step.kind == Step::Kind::kByteLevel) {
    // HF prepends the space to every piece that does not start with one, not only the first.
    if (step.add_prefix_space && piece.front() != ' ') {
      std::string& spaced = arena.emplace_back();
      spaced.reserve(piece.size() + 1);
      spaced += ' ';
      spaced += piece;
      piece = spaced;
    }
    if (!step.regex) {
      out.push_back(piece);
      return;
    }
  }
  split_by_regex(piece, *step.regex, step.behavior, step.invert, out);
}

// Runs steps [first, end) breadth first over pieces (one step over all pieces, then the next:
// each regex stays hot in the caches) and emits the results.
void PreTokenizer::run_steps(std::size_t first, std::vector<std::string_view>& pieces, std::vector<std::string_view>& spare,
                             std::list<std::string>& arena,
                             const std::function<void(std::string_view)>& emit) const {
  for (std::size_t k = first; k < steps_.size(); ++k) {
    spare.clear();
    for (std::string_view p : pieces) apply(steps_[k], p, spare, arena);
    pieces.swap(spare);
  }
  for (std::string_view p : pieces) emit(p);
}

void PreTokenizer::split(std::string_view text, std::list<std::string>& arena,
                         const std::function<void(std::string_view)>& emit) const {
  if (text.empty()) return;
  if (steps_.empty()) return emit(text);
  // Every step works on each piece separately, so the pieces of the first step can go through
  // the rest in batches: memory stays small for a text of any length.
  constexpr std::size_t kBatch = 512;
  std::vector<std::string_view> first_pieces, batch, spare;
  apply(steps_[0], text, first_pieces, arena);
  for (std::size_t i = 0; i < first_pieces.size(); i += kBatch) {
    const std::size_t n = std::min(kBatch, first_pieces.size() - i);
    batch.assign(first_pieces.begin() + static_cast<std::ptrdiff_t>(i),
                 first_pieces.begin() + static_cast<std::ptrdiff_t>(i + n));
    run_steps(1, batch, spare, arena, emit);
  }
}

void PreTokenizer::split_first(std::string_view text, std::vector<std::string_view>& out,
                               std::list<std::string>& arena) const {
  if (text.empty()) return;
  if (steps_.empty()) out.push_back(text);
  else apply(steps_[0], text, out, arena);
}

void PreTokenizer::split_rest(std::string_view first_piece, std::list<std::string>& arena,
                              const std::function<void(std::string_view)>& emit) const {
  std::vector<std::string_view> pieces{first_piece}, spare;
  run_steps(1, pieces, spare, arena, emit);
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& out,
                         std::list<std::string>& arena) const {
  split(text, arena, [&out](std::string_view piece) { out.push_back(piece); });
}

}  // namespace dsv2
