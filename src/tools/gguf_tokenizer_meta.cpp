#include "tools/gguf_tokenizer_meta.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/gguf_writer.h"
#include "io/mapped_file.h"
#include "tokenizer/known_pretokenizers.h"
#include "util/error.h"

namespace dsv2::tools {

namespace {

using nlohmann::json;

// llama.cpp's token types.
constexpr std::int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5;

json read_json(const std::string& path) {
  json j = json::parse(read_text_file(path), nullptr, false);
  check(!j.is_discarded() && j.is_object(), path + ": not a JSON object");
  return j;
}

// llama.cpp names the pre-tokenizer; we find the known one whose HF form the file has.
std::string pre_tokenizer_name(const json& tok, const std::string& path) {
  const json& pre = tok.value("pre_tokenizer", json());
  for (const std::string& name : known_pre_tokenizer_names())
    if (auto spec = known_pre_tokenizer(name); spec && *spec == pre) return name;
  std::fprintf(stderr, "convert: warning: %s: pre_tokenizer is not a known one; writing 'deepseek-llm'\n",
               path.c_str());
  return "deepseek-llm";
}

std::string token_content(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content")) return v["content"].get<std::string>();
  return "";
}

// Merges are "a b" strings in older files and [a, b] pairs in newer ones.
std::vector<std::string> merges_of(const json& model) {
  std::vector<std::string> out;
  for (const json& m : model.value("merges", json::array()))
    out.push_back(m.is_string() ? m.get<std::string>() : m[0].get<std::string>() + " " + m[1].get<std::string>());
  return out;
}

}  // namespace

bool write_tokenizer_metadata(GgufWriter& w, const std::string& hf_dir, std::int64_t vocab_size) {
  using V = GgufWriteValue;
  const std::string tok_path = hf_dir + "/tokenizer.json", cfg_path = hf_dir + "/tokenizer_config.json";
  if (!std::filesystem::is_regular_file(tok_path)) return false;
  const json tok = read_json(tok_path);
  const json cfg = std::filesystem::is_regular_file(cfg_path) ? read_json(cfg_path) : json::object();
  // Every id below vocab_size gets a token; ids the tokenizer leaves out become unused pads,
  // as llama.cpp's converter writes them.
  std::vector<std::string> tokens(static_cast<std::size_t>(vocab_size));
  std::vector<std::int32_t> types(tokens.size(), kUnused);
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = "[PAD" + std::to_string(i) + "]";
  auto put = [&](std::int64_t id, const std::string& text, std::int32_t type) {
    check(id >= 0 && id < vocab_size, tok_path + ": token id " + std::to_string(id) + " is past vocab_size");
    tokens[static_cast<std::size_t>(id)] = text;
    types[static_cast<std::size_t>(id)] = type;
  };
  for (const auto& [text, id] : tok.at("model").at("vocab").items()) put(id.get<std::int64_t>(), text, kNormal);
  std::int64_t bos = -1, eos = -1;
  const std::string bos_text = token_content(cfg.value("bos_token", json())),
                    eos_text = token_content(cfg.value("eos_token", json()));
  for (const json& a : tok.value("added_tokens", json::array())) {
    const std::string text = a.at("content").get<std::string>();
    const std::int64_t id = a.at("id").get<std::int64_t>();
    put(id, text, a.value("special", false) ? kControl : kUserDefined);
    if (text == bos_text) bos = id;
    if (text == eos_text) eos = id;
  }
  w.set("tokenizer.ggml.model", V::string("gpt2"));
  w.set("tokenizer.ggml.pre", V::string(pre_tokenizer_name(tok, tok_path)));
  w.set("tokenizer.ggml.tokens", V::string_array(tokens));
  w.set("tokenizer.ggml.token_type", V::i32_array(types));
  w.set("tokenizer.ggml.merges", V::string_array(merges_of(tok.at("model"))));
  if (bos >= 0) w.set("tokenizer.ggml.bos_token_id", V::u32(static_cast<std::uint32_t>(bos)));
  if (eos >= 0) w.set("tokenizer.ggml.eos_token_id", V::u32(static_cast<std::uint32_t>(eos)));
  w.set("tokenizer.ggml.add_bos_token", V::boolean(cfg.value("add_bos_token", true)));
  w.set("tokenizer.ggml.add_eos_token", V::boolean(cfg.value("add_eos_token", false)));
  if (cfg.contains("chat_template") && cfg["chat_template"].is_string())
    w.set("tokenizer.chat_template", V::string(cfg["chat_template"].get<std::string>()));
  return true;
}

}  // namespace dsv2::tools
