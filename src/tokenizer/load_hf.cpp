// Tokenizer::from_hf_* : reads tokenizer.json (+ tokenizer_config.json). Anything that would
// make our encoding differ from HF's (a normalizer, byte fallback, word suffixes, another
// decoder) is refused with an Error rather than silently ignored.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "io/mapped_file.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace dsv2 {

namespace {
using nlohmann::json;

json parse_json_file(const std::string& path) {
  std::string text = read_text_file(path);
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(path + ": not valid JSON");
  return j;
}

void check_supported(const json& j, const std::string& what) {
  const json& norm = j.value("normalizer", json());
  const bool empty_norm = norm.is_null() || (norm.value("type", "") == "Sequence" &&
                                             norm.value("normalizers", json::array()).empty());
  if (!empty_norm) throw Error(what + ": normalizer " + norm.dump().substr(0, 80) + " is not supported");
  const json& model = j["model"];
  if (model.value("type", "BPE") != "BPE") throw Error(what + ": model type '" + model.value("type", "") + "' is not BPE");
  if (model.value("byte_fallback", false)) throw Error(what + ": model.byte_fallback is not supported");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && !model[key].is_null() && model[key] != "") {
      throw Error(what + ": model." + key + " is not supported");
    }
  }
  if (model.contains("dropout") && model["dropout"].is_number() && model["dropout"].get<double>() > 0) {
    throw Error(what + ": model.dropout is not supported");
  }
  const json& dec = j.value("decoder", json());
  if (!dec.is_null() && dec.value("type", "") != "ByteLevel") {
    throw Error(what + ": decoder '" + dec.value("type", "?") + "' is not supported (only ByteLevel)");
  }
}

// Merges come as "a b" strings (older files) or ["a", "b"] pairs (newer ones).
std::vector<BpeModel::Merge> read_merges(const json& merges, const std::string& what) {
  std::vector<BpeModel::Merge> out;
  out.reserve(merges.size());
  for (std::size_t r = 0; r < merges.size(); ++r) {
    const json& m = merges[r];
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      std::size_t sp = s.find(' ', 1);
      if (sp == std::string::npos) throw Error(what + ": merge #" + std::to_string(r) + " '" + s + "' has no space");
      out.push_back({s.substr(0, sp), s.substr(sp + 1)});
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.push_back({m[0].get<std::string>(), m[1].get<std::string>()});
    } else {
      throw Error(what + ": merge #" + std::to_string(r) + " is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }
  return out;
}

std::vector<AddedToken> read_added_tokens(const json& list, const std::string& what) {
  std::vector<AddedToken> out;
  for (const json& t : list) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
        !t["content"].is_string()) {
      throw Error(what + ": added_tokens entry needs an integer id and a string content");
    }
    out.push_back({t["id"].get<std::int32_t>(), t["content"].get<std::string>(), t.value("lstrip", false),
                   t.value("rstrip", false), t.value("single_word", false), t.value("normalized", true),
                   t.value("special", false)});
  }
  return out;
}

// A token named in tokenizer_config.json: a string or {"content": ...}; "" if absent/null.
std::string config_token(const json& cfg, const char* key) {
  if (!cfg.contains(key)) return "";
  const json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return "";
}

std::string config_chat_template(const json& cfg) {
  const json& t = cfg.value("chat_template", json());
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array()) {  // [{"name": ..., "template": ...}]: the "default" one
    for (const json& e : t) {
      if (e.value("name", "") == "default" && e.contains("template")) return e["template"].get<std::string>();
    }
  }
  return "";
}

std::int32_t find_token_id(const TokenizerParts& p, const std::string& content) {
  if (content.empty()) return -1;
  if (auto id = p.added.find(content)) return *id;
  for (std::size_t id = 0; id < p.token_text.size(); ++id) {
    if (p.token_text[id] == content) return static_cast<std::int32_t>(id);
  }
  return -1;
}

// Without tokenizer_config.json: BOS is the special token the post-processor's single-sequence
// template starts with (TemplateProcessing), if any.
void bos_from_post_processor(const json& j, TokenizerParts& p) {
  const json& pp = j.value("post_processor", json());
  if (pp.value("type", "") != "TemplateProcessing" || !pp.contains("single") || pp["single"].empty()) return;
  const json& first = pp["single"][0];
  if (!first.contains("SpecialToken")) return;
  const std::string name = first["SpecialToken"].value("id", "");
  const json& st = pp.value("special_tokens", json::object());
  if (st.contains(name) && st[name].contains("ids") && st[name]["ids"].size() == 1) {
    p.bos_id = st[name]["ids"][0].get<std::int32_t>();
    p.add_bos = true;
  }
}

void apply_config(const std::string& path, TokenizerParts& p) {
  json cfg = parse_json_file(path);
  if (!cfg.is_object()) throw Error(path + ": not a JSON object");
  if (cfg.contains("add_bos_token") && !cfg["add_bos_token"].is_boolean()) throw Error(path + ": add_bos_token must be a boolean");
  p.add_bos = cfg.value("add_bos_token", p.add_bos);
  for (auto [key, id] : {std::pair{"bos_token", &p.bos_id}, std::pair{"eos_token", &p.eos_id}}) {
    std::string content = config_token(cfg, key);
    if (content.empty()) continue;
    *id = find_token_id(p, content);
    if (*id < 0) throw Error(path + ": " + key + " '" + content + "' is not in the vocabulary");
  }
  p.chat_template = config_chat_template(cfg);
}
}  // namespace

Tokenizer Tokenizer::from_hf_files(const std::string& tokenizer_json, const std::string& config_json) {
  const std::string& what = tokenizer_json;
  json j = parse_json_file(tokenizer_json);
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object() || !j["model"].contains("vocab") ||
      !j["model"]["vocab"].is_object() || !j["model"].contains("merges") || !j["model"]["merges"].is_array()) {
    throw Error(what + ": no model.vocab / model.merges");
  }
  check_supported(j, what);
  const json& vocab = j["model"]["vocab"];

  TokenizerParts p;
  p.added = AddedTokens(read_added_tokens(j.value("added_tokens", json::array()), what));
  std::vector<std::pair<std::string_view, std::int32_t>> pairs;
  pairs.reserve(vocab.size());
  std::int64_t max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0 || it->get<std::int64_t>() >= (1 << 30)) {
      throw Error(what + ": vocab entry '" + it.key() + "' has no valid id");
    }
    pairs.emplace_back(it.key(), it->get<std::int32_t>());
    max_id = std::max<std::int64_t>(max_id, it->get<std::int32_t>());
  }
  for (const AddedToken& t : p.added.all()) {
    if (t.id < 0 || t.id >= (1 << 30)) throw Error(what + ": added token '" + t.content + "' has an invalid id");
    max_id = std::max<std::int64_t>(max_id, t.id);
  }
  p.token_text.resize(static_cast<std::size_t>(max_id + 1));
  for (const auto& [text, id] : pairs) p.token_text[id] = std::string(text);
  for (const AddedToken& t : p.added.all()) p.token_text[t.id] = t.content;

  p.bpe = std::make_unique<BpeModel>(pairs, read_merges(j["model"]["merges"], what),
                                     j["model"].value("ignore_merges", false), what);
  p.pre = PreTokenizer::from_json(j.value("pre_tokenizer", json()), what + ": pre_tokenizer");
  bos_from_post_processor(j, p);
  if (!config_json.empty()) apply_config(config_json, p);
  return Tokenizer(std::move(p));
}

Tokenizer Tokenizer::from_hf_dir(const std::string& dir) {
  const std::string tok = dir + "/tokenizer.json", cfg = dir + "/tokenizer_config.json";
  if (!std::filesystem::is_regular_file(tok)) throw Error(dir + ": no tokenizer.json in this directory");
  return from_hf_files(tok, std::filesystem::is_regular_file(cfg) ? cfg : "");
}

}  // namespace dsv2
