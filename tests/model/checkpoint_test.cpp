// Loading Hugging Face checkpoint directories: presence, shapes, dtypes and shards are checked
// before any compute; each bad case is one Error naming the file and the tensor.
#include "model/checkpoint.h"

#include <gtest/gtest.h>

#include "support/checkpoint_writer.h"
#include "support/fixtures.h"
#include "support/golden.h"
#include "util/error.h"

namespace dsv2 {
namespace {

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = Config::from_json(test::micro_config_json(), "micro");
    tensors_ = test::checkpoint_tensors(config_);
    test::write_file(dir_.file("config.json"), test::micro_config_json().dump());
  }
  // Writes model.safetensors from tensors_ and returns the load error ("" = loaded).
  std::string load() {
    test::write_safetensors(dir_.file("model.safetensors"), tensors_);
    try {
      Checkpoint::open_hf_dir(dir_.path());
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  test::TempDir dir_;
  Config config_;
  std::vector<test::TestTensor> tensors_;
};

TEST_F(CheckpointTest, CompleteCheckpointLoadsInEveryFloatDtype) {
  EXPECT_EQ(load(), "");
  for (auto& t : tensors_) t.dtype = "BF16";
  EXPECT_EQ(load(), "");
  for (auto& t : tensors_) t.dtype = "F16";
  EXPECT_EQ(load(), "");
}

TEST_F(CheckpointTest, MissingTensorIsNamed) {
  std::erase_if(tensors_, [](auto& t) { return t.name == "model.layers.1.mlp.experts.3.up_proj.weight"; });
  std::string e = load();
  EXPECT_NE(e.find("missing tensor 'model.layers.1.mlp.experts.3.up_proj.weight'"), std::string::npos) << e;
}

TEST_F(CheckpointTest, WrongShapeIsNamedWithBothShapes) {
  for (auto& t : tensors_)
    if (t.name == "model.layers.0.self_attn.kv_b_proj.weight") t.shape = {32, 15};
  std::string e = load();
  EXPECT_NE(e.find("model.safetensors: tensor 'model.layers.0.self_attn.kv_b_proj.weight' has shape [32, 15], "
                   "config.json implies [32, 16]"), std::string::npos) << e;
}

TEST_F(CheckpointTest, ShardedCheckpointWithIndex) {
  std::vector<test::TestTensor> a(tensors_.begin(), tensors_.begin() + 10), b(tensors_.begin() + 10, tensors_.end());
  test::write_safetensors(dir_.file("model-00001-of-00002.safetensors"), a);
  test::write_safetensors(dir_.file("model-00002-of-00002.safetensors"), b);
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  for (auto& t : a) index["weight_map"][t.name] = "model-00001-of-00002.safetensors";
  for (auto& t : b) index["weight_map"][t.name] = "model-00002-of-00002.safetensors";
  test::write_file(dir_.file("model.safetensors.index.json"), index.dump());
  auto ck = Checkpoint::open_hf_dir(dir_.path());
  EXPECT_EQ(ck->tensor_count(), tensors_.size());

  index["weight_map"]["x"] = "../../etc/passwd";
  test::write_file(dir_.file("model.safetensors.index.json"), index.dump());
  EXPECT_THROW(Checkpoint::open_hf_dir(dir_.path()), Error);

  index["weight_map"]["x"] = "model-00003-of-00003.safetensors";
  test::write_file(dir_.file("model.safetensors.index.json"), index.dump());
  try {
    Checkpoint::open_hf_dir(dir_.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model-00003-of-00003.safetensors: cannot open"), std::string::npos) << e.what();
  }
}

TEST_F(CheckpointTest, DuplicateTensorAcrossShards) {
  test::write_safetensors(dir_.file("model-00001-of-00002.safetensors"), tensors_);
  test::write_safetensors(dir_.file("model-00002-of-00002.safetensors"), {tensors_[0]});
  try {
    Checkpoint::open_hf_dir(dir_.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'model.embed_tokens.weight' also appears in"), std::string::npos) << e.what();
  }
}

TEST_F(CheckpointTest, NotADirectoryOrNoWeights) {
  EXPECT_THROW(Checkpoint::open_hf_dir(dir_.file("nope")), Error);
  try {
    Checkpoint::open_hf_dir(dir_.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no *.safetensors"), std::string::npos) << e.what();
  }
}

TEST_F(CheckpointTest, TheCliReportsOneLineAndFails) {
  std::erase_if(tensors_, [](auto& t) { return t.name == "lm_head.weight"; });
  ASSERT_NE(load(), "");
  test::RunResult r = test::run_dsv2({"logits", "-m", dir_.path(), "--ids", "1,2", "-o", dir_.file("o.f32")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing tensor 'lm_head.weight'"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(CheckpointGolden, ShardedGoldenIsMemoryMappedNotCopied) {
  auto ck = Checkpoint::open_hf_dir(test::load_golden("lite-tiny").model_dir);
  EXPECT_EQ(ck->config().num_layers, 4);
  EXPECT_GT(ck->tensor_count(), 100u);
}

}  // namespace
}  // namespace dsv2
