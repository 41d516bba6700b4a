// GGUF models: every fixture converted to GGUF (both layouts) gives the golden logits; f16 and
// re-quantized files load and agree; malformed files are one-line errors naming file and key.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "generate/evaluate.h"
#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "kernels/matmul.h"
#include "model/deepseek_v2.h"
#include "support/fixtures.h"
#include "support/golden.h"
#include "tools/convert.h"
#include "util/error.h"

namespace dsv2 {
namespace {

std::string convert(const std::string& hf_dir, const std::string& out, DType type, GgufLayout layout) {
  tools::convert_to_gguf({hf_dir, out, type, layout, /*progress=*/false});
  return out;
}

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

std::vector<float> gguf_logits(const std::string& path, const std::vector<std::int32_t>& ids) {
  DeepseekV2 model(Checkpoint::open(path), 2);
  return sequence_logits(model, ids, 0);
}

struct Case {
  std::string fixture;
  GgufLayout layout;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.fixture << (c.layout == GgufLayout::Mla ? " mla" : " legacy");
}

class GgufGolden : public ::testing::TestWithParam<Case> {};

TEST_P(GgufGolden, F32LogitsMatchTheGoldenAtEveryPosition) {
  const test::Golden g = test::load_golden(GetParam().fixture);
  test::TempDir d;
  const std::string path = convert(g.model_dir, d.file("m.gguf"), DType::F32, GetParam().layout);
  const std::vector<float> logits = gguf_logits(path, g.input_ids);
  ASSERT_EQ(logits.size(), g.logits.size());
  for (std::int64_t p = 0; p < g.positions; ++p)
    ASSERT_LE(test::max_row_diff(logits.data() + p * g.vocab, g.logits.data() + p * g.vocab, g.vocab), 1e-3f)
        << GetParam().fixture << " position " << p;
}

// bf16 weights are exactly representable in f16 (same exponent range for these magnitudes, fewer
// mantissa bits), so the f16 file must reproduce the golden; f32 fixtures only come close.
TEST_P(GgufGolden, F16LogitsAreCloseToTheHfModel) {
  const test::Golden g = test::load_golden(GetParam().fixture);
  test::TempDir d;
  const std::string path = convert(g.model_dir, d.file("m.gguf"), DType::F16, GetParam().layout);
  const float diff = max_diff(gguf_logits(path, g.input_ids), g.logits);
  const bool bf16 = Checkpoint::open_hf_dir(g.model_dir)->config().torch_dtype == "bfloat16";
  RecordProperty("max_abs_diff", std::to_string(diff));
  EXPECT_LE(diff, bf16 ? 1e-3f : 2e-2f) << GetParam().fixture;
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, GgufGolden,
    ::testing::Values(Case{"lite-tiny", GgufLayout::Mla}, Case{"lite-tiny", GgufLayout::Legacy},
                      Case{"v2-tiny", GgufLayout::Mla}, Case{"v2-tiny", GgufLayout::Legacy},
                      Case{"text-bf16", GgufLayout::Mla}, Case{"text-bf16", GgufLayout::Legacy},
                      Case{"tiny-coder", GgufLayout::Mla}, Case{"tiny-coder", GgufLayout::Legacy}),
    [](const ::testing::TestParamInfo<Case>& p) {
      return test::param_name(p.param.fixture + (p.param.layout == GgufLayout::Mla ? "_mla" : "_legacy"));
    });

TEST(GgufQuantize, RequantizingMatchesConvertingDirectly) {
  const test::Golden g = test::load_golden("v2-tiny");
  test::TempDir d;
  convert(g.model_dir, d.file("f32.gguf"), DType::F32, GgufLayout::Mla);
  convert(g.model_dir, d.file("direct.gguf"), DType::Q8_0, GgufLayout::Mla);
  tools::quantize_gguf({d.file("f32.gguf"), d.file("q.gguf"), DType::Q8_0, false});
  EXPECT_EQ(test::read_file(d.file("q.gguf")).size(), test::read_file(d.file("direct.gguf")).size());
  EXPECT_EQ(gguf_logits(d.file("q.gguf"), g.input_ids), gguf_logits(d.file("direct.gguf"), g.input_ids));
  // And back to f32: every tensor holds exactly the dequantized Q8_0 values.
  tools::quantize_gguf({d.file("q.gguf"), d.file("back.gguf"), DType::F32, false});
  const GgufFile q(d.file("q.gguf")), back(d.file("back.gguf"));
  ASSERT_EQ(q.tensors().size(), back.tensors().size());
  for (const GgufTensorInfo& info : q.tensors()) {
    const Tensor a = q.tensor(info), b = back.tensor(info.name);
    ASSERT_EQ(b.dtype, DType::F32) << info.name;
    std::vector<float> row(static_cast<std::size_t>(a.cols()));
    for (std::int64_t r = 0; r < a.rows(); ++r) {
      dequantize_row(a, r, row.data());
      ASSERT_EQ(std::memcmp(row.data(), b.row(r), row.size() * 4), 0) << info.name << " row " << r;
    }
  }
}

// ---- malformed files ------------------------------------------------------------------------

struct Edit {
  std::string drop_key{}, drop_tensor{}, transpose_tensor{};
  std::string arch{};  // replaces general.architecture when set
};

// Copies a GGUF file with one edit applied.
void rewrite(const std::string& in_path, const std::string& out_path, const Edit& e) {
  const GgufFile in(in_path);
  GgufWriter w(out_path);
  for (const std::string& k : in.keys()) {
    if (k == e.drop_key || k == "general.alignment") continue;
    const GgufValue& v = *in.find(k);
    if (v.type == GgufType::STRING) w.set(k, GgufWriteValue::string(std::string(v.str)));
    else if (v.type == GgufType::U32) w.set(k, GgufWriteValue::u32(static_cast<std::uint32_t>(v.u)));
    else if (v.type == GgufType::F32) w.set(k, GgufWriteValue::f32(static_cast<float>(v.f)));
    else if (v.type == GgufType::BOOL) w.set(k, GgufWriteValue::boolean(v.u != 0));
  }
  if (!e.arch.empty()) w.set("general.architecture", GgufWriteValue::string(e.arch));
  std::vector<const GgufTensorInfo*> kept;
  for (const GgufTensorInfo& t : in.tensors()) {
    if (t.name == e.drop_tensor) continue;
    std::vector<std::int64_t> shape = t.shape();
    if (t.name == e.transpose_tensor) std::swap(shape.front(), shape.back());
    w.add_tensor(t.name, t.ggml_type, shape);
    kept.push_back(&t);
  }
  w.write_header();
  for (const GgufTensorInfo* t : kept) w.write_tensor_data(in.tensor_data(*t), t->nbytes);
  w.finish();
}

class GgufMalformed : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    convert(test::load_golden("v2-tiny").model_dir, dir_->file("good.gguf"), DType::F32, GgufLayout::Mla);
  }
  static void TearDownTestSuite() { delete dir_; }

  // The error opening the edited file (which must fail).
  static std::string error_for(const Edit& e) {
    const std::string path = dir_->file("bad.gguf");
    rewrite(dir_->file("good.gguf"), path, e);
    try {
      Checkpoint::open(path);
    } catch (const Error& err) {
      return err.what();
    }
    ADD_FAILURE() << "opened without error";
    return "";
  }
  static test::TempDir* dir_;
};
test::TempDir* GgufMalformed::dir_ = nullptr;

TEST_F(GgufMalformed, MissingTensorIsNamed) {
  const std::string err = error_for({.drop_tensor = "blk.1.attn_k_b.weight"});
  EXPECT_NE(err.find("bad.gguf: missing tensor 'blk.1.attn_k_b.weight'"), std::string::npos) << err;
}

TEST_F(GgufMalformed, WrongShapeIsNamed) {
  const std::string err = error_for({.transpose_tensor = "blk.0.attn_kv_a_mqa.weight"});
  EXPECT_NE(err.find("bad.gguf: tensor 'blk.0.attn_kv_a_mqa.weight' has shape [96, 56], the metadata implies [56, 96]"),
            std::string::npos) << err;
}

TEST_F(GgufMalformed, WrongArchitectureIsNamed) {
  const std::string err = error_for({.arch = "llama"});
  EXPECT_NE(err.find("bad.gguf: metadata key 'general.architecture' is 'llama', expected 'deepseek2'"),
            std::string::npos) << err;
}

TEST_F(GgufMalformed, MissingMetadataKeyIsNamed) {
  const std::string err = error_for({.drop_key = "deepseek2.attention.kv_lora_rank"});
  EXPECT_NE(err.find("bad.gguf"), std::string::npos) << err;
  EXPECT_NE(err.find("deepseek2.attention.kv_lora_rank"), std::string::npos) << err;
}

TEST_F(GgufMalformed, CliExitsOneWithOneLine) {
  rewrite(dir_->file("good.gguf"), dir_->file("bad.gguf"), {.drop_tensor = "output_norm.weight"});
  test::RunResult r = test::run_dsv2({"logits", "-m", dir_->file("bad.gguf"), "--ids", "1,2", "-o", dir_->file("o.f32")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("missing tensor 'output_norm.weight'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dsv2
