#include "tools/synth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "tools/random_weights.h"
#include "util/error.h"

namespace dsv2::tools {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// ---- presets (Config only: the lite checkpoint itself is 31 GB) -----------------------------

TEST(SynthPresets, LiteHasDeepSeekV2LiteShapesAndParameterCounts) {
  const Config c = synth_preset("lite");
  EXPECT_EQ(c.hidden_size, 2048);
  EXPECT_EQ(c.num_layers, 27);
  EXPECT_EQ(c.num_heads, 16);
  EXPECT_EQ(c.kv_cache_width(), 576);
  EXPECT_EQ(c.q_lora_rank, 0);
  EXPECT_EQ(c.n_routed_experts, 64);
  EXPECT_EQ(c.num_experts_per_tok, 6);
  EXPECT_EQ(c.moe_intermediate_size, 1408);
  EXPECT_EQ(c.intermediate_size, 10944);
  EXPECT_EQ(c.max_position_embeddings, 163840);
  EXPECT_EQ(c.rope.scaling, RopeScaling::Yarn);
  EXPECT_DOUBLE_EQ(c.rope.mscale_all_dim, 0.707);
  // DeepSeek's published numbers: 15.7B total, 2.4B activated per token.
  const ParamCounts p = count_params(c);
  EXPECT_EQ(p.total, 15'706'484'224);
  EXPECT_NEAR(static_cast<double>(p.total) / 1e9, 15.7, 0.1);
  EXPECT_NEAR(static_cast<double>(p.active) / 1e9, 2.4, 0.1);
}

TEST(SynthPresets, SmallPresetsKeepTheirArchitectureAndTheFullVocabulary) {
  const Config tiny = synth_preset("tiny"), v2 = synth_preset("v2");
  for (const Config& c : {tiny, v2}) {
    EXPECT_EQ(c.vocab_size, 102400);
    EXPECT_EQ(c.first_k_dense_replace, 1);
    EXPECT_EQ(c.n_shared_experts, 2);
    // The presets survive config.json: what synth writes is what loaders will read.
    const Config back = Config::from_json(c.to_json(), "preset");
    EXPECT_EQ(count_params(back).total, count_params(c).total);
    EXPECT_EQ(back.softmax_scale(), c.softmax_scale());
  }
  EXPECT_EQ(tiny.q_lora_rank, 0);
  EXPECT_EQ(tiny.topk_method, TopkMethod::Greedy);
  EXPECT_EQ(tiny.n_routed_experts, 16);
  EXPECT_EQ(tiny.num_experts_per_tok, 4);
  EXPECT_GT(v2.q_lora_rank, 0);
  EXPECT_EQ(v2.topk_method, TopkMethod::GroupLimitedGreedy);
  EXPECT_EQ(v2.n_group, 4);
  EXPECT_EQ(v2.topk_group, 2);
  EXPECT_EQ(v2.routed_scaling_factor, 16.0);
  EXPECT_THROW(synth_preset("huge"), Error);
}

// ---- generated values, through an in-memory sink ---------------------------------------------

class MemorySink final : public CheckpointSink {
 public:
  void begin(const std::vector<SinkTensor>& t) override {
    tensors = t;
    data.assign(t.size(), {});
  }
  void write(std::size_t i, std::span<const std::uint8_t> b) override {
    data[i].append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  void finish() override { finished = true; }

  std::vector<float> values(const std::string& name) const {
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      if (tensors[i].name != name) continue;
      std::vector<float> v(data[i].size() / 4);
      std::memcpy(v.data(), data[i].data(), data[i].size());
      return v;
    }
    ADD_FAILURE() << "no tensor " << name;
    return {};
  }

  std::vector<SinkTensor> tensors;
  std::vector<std::string> data;
  bool finished = false;
};

std::pair<double, double> mean_std(const std::vector<float>& v) {
  double s = 0, s2 = 0;
  for (float x : v) s += x, s2 += static_cast<double>(x) * x;
  const double m = s / static_cast<double>(v.size());
  return {m, std::sqrt(s2 / static_cast<double>(v.size()) - m * m)};
}

// The tiny preset with a short vocabulary: the statistics are the same, the test is faster.
Config small(const std::string& preset) {
  Config c = synth_preset(preset);
  c.vocab_size = 4096;
  return c;
}

GenerateOptions gen(DType dtype, std::uint64_t seed, int threads, std::uint64_t window = 1 << 23) {
  GenerateOptions g;
  g.dtype = dtype;
  g.seed = seed;
  g.threads = threads;
  g.window = window;
  return g;
}

TEST(SynthWeights, FollowTheGoldenFixturesInit) {
  MemorySink sink;
  write_random_checkpoint(small("tiny"), gen(DType::F32, 1, 2), sink);
  ASSERT_TRUE(sink.finished);
  ASSERT_EQ(sink.tensors.size(), expected_tensors(small("tiny")).size());
  auto [em, es] = mean_std(sink.values("model.embed_tokens.weight"));
  EXPECT_NEAR(em, 0.0, 0.01);
  EXPECT_NEAR(es, 1.0, 0.01);
  for (float w : sink.values("model.layers.1.input_layernorm.weight")) EXPECT_NEAR(w, 1.0f, 0.05f);
  auto [lm, ls] = mean_std(sink.values("model.layers.1.self_attn.o_proj.weight"));  // [64, 128]
  EXPECT_NEAR(lm, 0.0, 0.01);
  EXPECT_NEAR(ls, 1.0 / std::sqrt(128.0), 0.01);
}

TEST(SynthWeights, ValuesDoNotDependOnThreadsOrWindows) {
  MemorySink one, three;
  write_random_checkpoint(small("v2"), gen(DType::BF16, 5, 1), one);
  // A window that is no multiple of anything: tensors span many windows and partial blocks.
  write_random_checkpoint(small("v2"), gen(DType::BF16, 5, 3, 70001), three);
  EXPECT_EQ(one.data, three.data);
  // Any slice of a tensor can be generated on its own.
  const SinkTensor& t = one.tensors[0];
  std::vector<std::uint8_t> part(100 * 2);
  fill_weights(weight_init(t.name, t.shape), tensor_seed(5, t.name), 12345, 100, DType::BF16,
               part.data());
  EXPECT_EQ(std::memcmp(part.data(), one.data[0].data() + 12345 * 2, part.size()), 0);
}

TEST(SynthWeights, EveryTensorChangesWithTheSeed) {
  MemorySink a, b;
  write_random_checkpoint(small("tiny"), gen(DType::BF16, 7, 2), a);
  write_random_checkpoint(small("tiny"), gen(DType::BF16, 8, 2), b);
  for (std::size_t i = 0; i < a.data.size(); ++i)
    EXPECT_NE(a.data[i], b.data[i]) << a.tensors[i].name;
}

// ---- dsv2 synth end to end -------------------------------------------------------------------

// name -> {dtype, shape} over every safetensors file of a model directory.
std::map<std::string, json> tensor_headers(const std::string& dir) {
  std::map<std::string, json> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".safetensors") continue;
    std::string bytes = test::read_file(e.path().string());
    std::uint64_t n = 0;
    for (int b = 7; b >= 0; --b) n = (n << 8) | static_cast<unsigned char>(bytes[b]);
    EXPECT_EQ(n % 8, 0u);
    const json header = json::parse(bytes.substr(8, n));  // named: items() does not own it
    for (const auto& [name, v] : header.items())
      if (name != "__metadata__") out[name] = v;
  }
  return out;
}

void expect_complete_model(const std::string& dir, const std::string& dtype) {
  const Config c = Config::from_file(dir + "/config.json");
  const auto headers = tensor_headers(dir);
  const auto expected = expected_tensors(c);
  EXPECT_EQ(headers.size(), expected.size());
  for (const TensorSpec& s : expected) {
    auto it = headers.find(s.name);
    ASSERT_NE(it, headers.end()) << s.name;
    EXPECT_EQ(it->second["dtype"], dtype) << s.name;
    EXPECT_EQ(it->second["shape"], json(s.shape)) << s.name;
  }
}

test::RunResult synth_cli(const std::string& dir, std::vector<std::string> extra) {
  std::vector<std::string> args = {"synth", "-o", dir};
  args.insert(args.end(), extra.begin(), extra.end());
  return test::run_dsv2(args);
}

TEST(SynthCli, TinyIsCompleteAndDeterministic) {
  test::TempDir a, b;
  ASSERT_EQ(synth_cli(a.path(), {"--preset", "tiny", "--seed", "7"}).exit_code, 0);
  expect_complete_model(a.path(), "BF16");
  EXPECT_EQ(Config::from_file(a.file("config.json")).torch_dtype, "bfloat16");
  if (fs::exists(test::fixture("tokenizer/deepseek-v2/tokenizer.json"))) {
    EXPECT_TRUE(fs::exists(a.file("tokenizer.json")));
    EXPECT_TRUE(fs::exists(a.file("tokenizer_config.json")));
  }
  ASSERT_EQ(synth_cli(b.path(), {"--preset", "tiny", "--seed", "7", "-t", "1"}).exit_code, 0);
  // Compared as strings, not with EXPECT_EQ, which would print 27 MB on failure.
  EXPECT_TRUE(test::read_file(a.file("model.safetensors")) ==
              test::read_file(b.file("model.safetensors")));
}

TEST(SynthCli, V2InF32WithShards) {
  test::TempDir a;
  auto r = synth_cli(a.path(), {"--preset", "v2", "--dtype", "f32", "--shard-size", "20MB"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_complete_model(a.path(), "F32");
  const Config c = Config::from_file(a.file("config.json"));
  EXPECT_EQ(c.topk_method, TopkMethod::GroupLimitedGreedy);
  json index = json::parse(test::read_file(a.file("model.safetensors.index.json")));
  EXPECT_EQ(index["weight_map"].size(), expected_tensors(c).size());
  EXPECT_EQ(index["metadata"]["total_size"], count_params(c).total * 4);
  EXPECT_TRUE(fs::exists(a.file("model-00003-of-00003.safetensors")));  // 2 x 26 MB vocab + rest
}

void expect_one_line_error(const test::RunResult& r, const std::string& what) {
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(SynthCli, ErrorsAreOneLine) {
  test::TempDir a;
  expect_one_line_error(synth_cli(a.file("x"), {"--preset", "huge"}), "unknown preset 'huge'");
  expect_one_line_error(synth_cli(a.file("x"), {"--dtype", "q4_k"}), "--dtype must be f32 or bf16");
  test::write_file(a.file("notes.txt"), "mine");
  expect_one_line_error(synth_cli(a.path(), {}), "not empty (use --force");
  test::write_file(a.file("model-00009-of-00009.safetensors"), "stale");
  ASSERT_EQ(synth_cli(a.path(), {"--force"}).exit_code, 0);
  EXPECT_TRUE(fs::exists(a.file("notes.txt")));  // --force replaces synth output, nothing else
  EXPECT_FALSE(fs::exists(a.file("model-00009-of-00009.safetensors")));
  expect_complete_model(a.path(), "BF16");
}

}  // namespace
}  // namespace dsv2::tools
