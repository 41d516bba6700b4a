#include "generate/generation_config.h"

#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/error.h"

namespace dsv2 {
namespace {

using nlohmann::json;

// One field of the file; absent and null both mean "not given" (HF writes nulls).
struct Field {
  const json* value;
  const std::string& origin;
  const char* name;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(origin + ": field '" + name + "' " + what);
  }

  std::optional<int64_t> integer(int64_t lo, int64_t hi) const {
    if (!value) return std::nullopt;
    return to_integer(*value, lo, hi);
  }

  int64_t to_integer(const json& v, int64_t lo, int64_t hi) const {
    if (!v.is_number_integer()) fail(std::string("must be an integer, got ") + v.type_name());
    // Unsigned values past int64 would wrap in get<int64_t>.
    const bool huge = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi);
    if (huge || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
      fail("must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + v.dump());
    }
    return v.get<int64_t>();
  }

  std::optional<double> number() const {
    if (!value) return std::nullopt;
    if (!value->is_number()) fail(std::string("must be a number, got ") + value->type_name());
    return value->get<double>();
  }

  std::optional<bool> boolean() const {
    if (!value) return std::nullopt;
    if (!value->is_boolean()) fail(std::string("must be true or false, got ") + value->type_name());
    return value->get<bool>();
  }
};

constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxInt = std::numeric_limits<int>::max();

Field field(const json& root, const std::string& origin, const char* name) {
  const auto it = root.find(name);
  return {it == root.end() || it->is_null() ? nullptr : &*it, origin, name};
}

// eos_token_id is an int in most configs and a list where a chat model has several end tokens.
std::vector<int32_t> read_eos(const Field& f, int32_t default_eos) {
  if (!f.value) return {default_eos};
  if (!f.value->is_array()) return {static_cast<int32_t>(f.to_integer(*f.value, 0, kMaxId))};
  if (f.value->empty()) f.fail("must not be an empty list");
  std::vector<int32_t> ids;
  for (const json& v : *f.value) ids.push_back(static_cast<int32_t>(f.to_integer(v, 0, kMaxId)));
  return ids;
}

// HF semantics: sampling only when do_sample is true, with HF's defaults for what is unset
// (top_k = 50 included); otherwise greedy, whatever temperature says.
SamplingParams read_sampling(const json& root, const std::string& origin) {
  const auto do_sample = field(root, origin, "do_sample").boolean();
  const auto temperature = field(root, origin, "temperature").number();
  const auto top_p = field(root, origin, "top_p").number();
  const auto top_k = field(root, origin, "top_k").integer(0, kMaxInt);
  const auto repetition = field(root, origin, "repetition_penalty").number();
  SamplingParams p;
  if (do_sample.value_or(false)) {
    p.temperature = static_cast<float>(temperature.value_or(1.0));
    p.top_p = static_cast<float>(top_p.value_or(1.0));
    p.top_k = static_cast<int>(top_k.value_or(50));
  }
  if (repetition) {
    p.repetition_penalty = static_cast<float>(*repetition);
    p.penalty_last_n = -1;  // HF penalises every token of the context, not a recent window
  }
  try {
    p.validate();
  } catch (const Error& e) {
    throw Error(origin + ": " + e.what());
  }
  return p;
}

}  // namespace

GenerationConfig parse_generation_config(std::string_view json_text, const std::string& origin,
                                         int32_t default_eos) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw Error(origin + ": invalid JSON: " + e.what());
  }
  check(root.is_object(), origin + ": expected a JSON object at the top level");
  GenerationConfig config;
  config.eos_token_ids = read_eos(field(root, origin, "eos_token_id"), default_eos);
  if (auto bos = field(root, origin, "bos_token_id").integer(0, kMaxId)) {
    config.bos_token_id = static_cast<int32_t>(*bos);
  }
  config.sampling = read_sampling(root, origin);
  if (auto n = field(root, origin, "max_new_tokens").integer(1, kMaxInt)) {
    config.max_new_tokens = static_cast<int>(*n);
  }
  if (auto n = field(root, origin, "max_length").integer(1, kMaxInt)) {
    config.max_length = static_cast<int>(*n);
  }
  return config;
}

GenerationConfig load_generation_config(const std::string& model_dir, int32_t default_eos) {
  const std::string path = model_dir + "/generation_config.json";
  if (!std::filesystem::exists(path)) return {{default_eos}, std::nullopt, {}, {}, {}};
  std::ifstream in(path, std::ios::binary);
  check(in.good(), path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_generation_config(text.str(), path, default_eos);
}

}  // namespace dsv2
