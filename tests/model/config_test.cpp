#include "model/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/yarn.h"
#include "support/checkpoint_writer.h"
#include "support/fixtures.h"
#include "util/error.h"

namespace dsv2 {
namespace {

using nlohmann::json;

std::string error_of(const json& j) {
  try {
    Config::from_json(j, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Config, AbsentKeysTakeTheReferenceDefaults) {
  Config c = Config::from_json(json::object(), "config.json");
  EXPECT_EQ(c.q_lora_rank, 1536);
  EXPECT_EQ(c.first_k_dense_replace, 0);
  EXPECT_EQ(c.moe_layer_freq, 1);
  EXPECT_FALSE(c.norm_topk_prob);
  EXPECT_EQ(c.routed_scaling_factor, 1.0);
  EXPECT_EQ(c.rope.scaling, RopeScaling::None);
  EXPECT_EQ(c.n_routed_experts, 0);  // dense model
  EXPECT_EQ(c.topk_method, TopkMethod::Greedy);
  EXPECT_FALSE(c.is_moe_layer(3));
}

TEST(Config, NullQueryLoraMeansNone) {
  EXPECT_EQ(Config::from_json({{"q_lora_rank", nullptr}}, "c").q_lora_rank, 0);
  EXPECT_EQ(Config::from_json({{"q_lora_rank", 40}}, "c").q_lora_rank, 40);
}

TEST(Config, AllTopkSpellings) {
  json j = test::micro_config_json();
  for (const char* m : {"greedy", "gready"}) {
    j["topk_method"] = m;
    EXPECT_EQ(Config::from_json(j, "c").topk_method, TopkMethod::Greedy);
  }
  j["topk_method"] = "group_limited_greedy";
  j["n_group"] = 2;
  j["topk_group"] = 1;
  Config c = Config::from_json(j, "c");
  EXPECT_EQ(c.topk_method, TopkMethod::GroupLimitedGreedy);
  EXPECT_EQ(c.n_group, 2);
}

TEST(Config, MoeLayerRuleUsesIModFreq) {
  json j = test::micro_config_json();
  j["num_hidden_layers"] = 6;
  j["first_k_dense_replace"] = 1;
  j["moe_layer_freq"] = 2;
  Config c = Config::from_json(j, "c");
  std::vector<bool> moe;
  for (int i = 0; i < 6; ++i) moe.push_back(c.is_moe_layer(i));
  EXPECT_EQ(moe, (std::vector<bool>{false, false, true, false, true, false}));
}

TEST(Config, LiteSoftmaxScaleAndYarn) {
  json j = json::parse(test::read_file(test::fixture("golden/lite-tiny/model/config.json")));
  j["qk_nope_head_dim"] = 128;
  j["qk_rope_head_dim"] = 64;
  Config c = Config::from_json(j, "c");
  EXPECT_NEAR(c.softmax_scale(), 0.11472138679, 1e-10);
  Rope rope(c.rope, 64);
  EXPECT_FLOAT_EQ(rope.m_rope(), 1.0f);  // mscale == mscale_all_dim
  // Low dims keep the base frequency (extrapolate), high dims are interpolated by the factor.
  EXPECT_FLOAT_EQ(rope.inv_freq()[0], 1.0f);
  EXPECT_NEAR(rope.inv_freq()[31], std::pow(10000.0, -62.0 / 64) / 40, 1e-12);
}

TEST(Config, ErrorsNameTheField) {
  json j = test::micro_config_json();
  auto with = [&](const char* k, json v) {
    json x = j;
    x[k] = v;
    return error_of(x);
  };
  EXPECT_NE(with("hidden_size", "big").find("field 'hidden_size': expected an integer"), std::string::npos);
  EXPECT_NE(with("hidden_size", -1).find("'hidden_size' must be positive"), std::string::npos);
  EXPECT_NE(with("scoring_func", "sigmoid").find("'scoring_func' value 'sigmoid' is unsupported"), std::string::npos);
  EXPECT_NE(with("topk_method", "noaux_tc").find("'topk_method' value 'noaux_tc'"), std::string::npos);
  EXPECT_NE(with("rope_scaling", json{{"type", "longrope"}, {"factor", 2}}).find("rope_scaling.type 'longrope' is unknown"),
            std::string::npos);
  EXPECT_NE(with("qk_rope_head_dim", 5).find("qk_rope_head_dim"), std::string::npos);
  EXPECT_NE(with("hidden_act", "gelu").find("'hidden_act'"), std::string::npos);
  EXPECT_NE(with("num_experts_per_tok", 9).find("num_experts_per_tok"), std::string::npos);
  EXPECT_NE(error_of(json::array()).find("expected a JSON object"), std::string::npos);
}

TEST(Config, MalformedFileIsNamed) {
  test::TempDir d;
  test::write_file(d.file("config.json"), "{\"hidden_size\": 12,");
  try {
    Config::from_file(d.file("config.json"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(d.file("config.json") + ": not valid JSON"), std::string::npos);
  }
}

TEST(Config, JsonRoundTrip) {
  Config a = Config::from_json(json::parse(test::read_file(test::fixture("golden/v2-tiny/model/config.json"))), "c");
  Config b = Config::from_json(a.to_json(), "c");
  EXPECT_EQ(b.to_json(), a.to_json());
  EXPECT_EQ(b.q_lora_rank, 40);
  EXPECT_EQ(b.topk_method, TopkMethod::GroupLimitedGreedy);
}

}  // namespace
}  // namespace dsv2
