// libFuzzer target for the GGUF reader: any byte string must either open (and then every key,
// tensor view and the deepseek2 Config read back without touching memory outside the map) or
// throw dsv2::Error. ASan/UBSan turn anything else into a crash.
//
// With DSV2_FUZZ_WRITE_SEEDS=DIR set, writes a seed corpus with GgufWriter instead and exits.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "model/gguf_layout.h"
#include "util/error.h"

namespace {

using dsv2::GgufWriteValue;

// A small valid deepseek2-looking file: every metadata type, a few tensor types.
void write_seed(const std::string& path, std::uint32_t alignment, bool with_tensors) {
  dsv2::GgufWriter w(path, alignment);
  w.set("general.architecture", GgufWriteValue::string("deepseek2"));
  for (const char* k : {"block_count", "embedding_length", "feed_forward_length", "attention.head_count",
                        "attention.kv_lora_rank", "attention.key_length", "attention.value_length",
                        "context_length", "rope.dimension_count"})
    w.set(std::string("deepseek2.") + k, GgufWriteValue::u32(4));
  w.set("deepseek2.attention.layer_norm_rms_epsilon", GgufWriteValue::f32(1e-6f));
  w.set("deepseek2.rope.scaling.type", GgufWriteValue::string("yarn"));
  w.set("deepseek2.expert_weights_norm", GgufWriteValue::boolean(true));
  w.set("t.i8", GgufWriteValue::i8(-3));
  w.set("t.u64", GgufWriteValue::u64(1ull << 40));
  w.set("t.f64", GgufWriteValue::f64(0.5));
  w.set("tokenizer.ggml.tokens", GgufWriteValue::string_array({"a", "b", "ab"}));
  w.set("tokenizer.ggml.token_type", GgufWriteValue::i32_array({1, 1, 3}));
  if (with_tensors) {
    w.add_tensor("token_embd.weight", dsv2::DType::F32, {3, 4});
    w.add_tensor("blk.0.attn_q.weight", dsv2::DType::Q8_0, {2, 32});
    w.add_tensor("blk.0.ffn_up_exps.weight", dsv2::DType::Q4_K, {2, 1, 256});
  }
  w.write_header();
  if (with_tensors) {
    std::string zeros(4096, '\0');
    w.write_tensor_data(zeros.data(), 48);
    w.write_tensor_data(zeros.data(), 2 * 34);
    w.write_tensor_data(zeros.data(), 2 * 144);
  }
  w.finish();
}

std::string scratch_path() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/dsv2_gguf_fuzz_" + std::to_string(getpid()) + ".gguf";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* seeds = std::getenv("DSV2_FUZZ_WRITE_SEEDS");
  if (!seeds) return 0;
  write_seed(std::string(seeds) + "/full.gguf", 32, true);
  write_seed(std::string(seeds) + "/aligned64.gguf", 64, true);
  write_seed(std::string(seeds) + "/metadata_only.gguf", 32, false);
  std::exit(0);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // GgufFile maps a path; the input goes through a per-process scratch file.
  static const std::string path = scratch_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const dsv2::GgufFile g(path);
    std::uint64_t sum = 0;
    for (const std::string& k : g.keys()) sum += g.find(k)->items.size();
    for (const dsv2::GgufTensorInfo& t : g.tensors()) {
      const std::uint8_t* p = g.tensor_data(t);
      if (t.nbytes > 0) sum += p[0] + p[t.nbytes - 1];
      try {
        sum += static_cast<std::uint64_t>(g.tensor(t).numel());
      } catch (const dsv2::Error&) {
      }
    }
    const dsv2::Config c = dsv2::config_from_gguf(g);
    sum += static_cast<std::uint64_t>(c.num_layers);
    if (sum == 0x5eed) std::fputc(' ', stderr);  // keep the reads observable
  } catch (const dsv2::Error&) {
  }
  return 0;
}
