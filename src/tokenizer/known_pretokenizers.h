// GGUF files carry no pre-tokenizer regexes, only a name (tokenizer.ggml.pre). This table maps
// the names we know exactly to the Hugging Face "pre_tokenizer" JSON of the models they come
// from, so a GGUF and its tokenizer.json go through the very same PreTokenizer code.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dsv2 {

// nullopt for a name not in the table.
std::optional<nlohmann::json> known_pre_tokenizer(std::string_view name);
std::vector<std::string> known_pre_tokenizer_names();

}  // namespace dsv2
