#include "tools/convert.h"

#include <algorithm>
#include <filesystem>

#include "io/gguf_writer.h"
#include "kernels/matmul.h"
#include "model/checkpoint.h"
#include "tools/gguf_output.h"
#include "tools/gguf_tokenizer_meta.h"
#include "util/error.h"

namespace dsv2::tools {

namespace {

constexpr std::int64_t kChunkValues = 1 << 22;  // float32 values per piece handed to the writer

// Rows [first, first + count) of t as float32, in pieces of about kChunkValues.
void stream_rows(const Tensor& t, std::int64_t first, std::int64_t count, GgufRowStream& out) {
  const std::int64_t cols = t.cols(), per = std::max<std::int64_t>(1, kChunkValues / cols);
  std::vector<float> buf(static_cast<std::size_t>(std::min(per, count) * cols));
  for (std::int64_t r = 0; r < count; r += per) {
    const std::int64_t n = std::min(per, count - r);
    for (std::int64_t i = 0; i < n; ++i) dequantize_row(t, first + r + i, buf.data() + i * cols);
    out.write(buf.data(), static_cast<std::size_t>(n * cols));
  }
}

// llama.cpp's MLA layout splits kv_b_proj [nh*(dn+dv), r] per head into W_UK,h (stored
// transposed, [r, dn], as the absorbed attention multiplies by it) and W_UV,h ([dv, r]).
void stream_absorbed(const Tensor& kv_b, const Config& c, bool keys, GgufRowStream& out) {
  const std::int64_t dn = c.qk_nope_head_dim, dv = c.v_head_dim, r = c.kv_lora_rank;
  std::vector<float> head(static_cast<std::size_t>(dn * r)), t(head.size());
  for (std::int64_t h = 0; h < c.num_heads; ++h) {
    if (!keys) {
      stream_rows(kv_b, h * (dn + dv) + dn, dv, out);
      continue;
    }
    for (std::int64_t d = 0; d < dn; ++d) dequantize_row(kv_b, h * (dn + dv) + d, head.data() + d * r);
    for (std::int64_t d = 0; d < dn; ++d)
      for (std::int64_t j = 0; j < r; ++j) t[static_cast<std::size_t>(j * dn + d)] = head[static_cast<std::size_t>(d * r + j)];
    out.write(t.data(), t.size());
  }
}

void stream_part(const Checkpoint& ck, const GgufPart& part, GgufRowStream& out) {
  for (const std::string derived : {".k_b_proj.weight", ".v_b_proj.weight"}) {
    if (!part.hf.ends_with(derived)) continue;
    const std::string kv_b = part.hf.substr(0, part.hf.size() - derived.size()) + ".kv_b_proj.weight";
    return stream_absorbed(ck.get(kv_b), ck.config(), derived[1] == 'k', out);
  }
  const Tensor& t = ck.get(part.hf);
  if (t.shape.size() == 1) return stream_rows(Tensor{t.dtype, {1, t.numel()}, t.data}, 0, 1, out);
  stream_rows(t, 0, t.rows(), out);
}

std::uint64_t tensor_bytes(DType t, const std::vector<std::int64_t>& shape) {
  std::int64_t rows = 1;
  for (std::size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  return static_cast<std::uint64_t>(rows) * row_bytes(t, shape.back());
}

}  // namespace

void convert_to_gguf(const ConvertOptions& o) {
  const auto ck = Checkpoint::open_hf_dir(o.hf_dir);
  Config c = ck->config();
  c.tie_word_embeddings = c.tie_word_embeddings && !ck->has("lm_head.weight");
  GgufWriter w(o.out);
  w.set("general.name", GgufWriteValue::string(std::filesystem::path(o.hf_dir).filename().string()));
  w.set("general.file_type", GgufWriteValue::u32(llama_file_type(o.type)));
  if (dtype_is_quantized(o.type.base)) w.set("general.quantization_version", GgufWriteValue::u32(2));
  write_gguf_config(w, c, o.layout);
  const bool has_tokenizer = write_tokenizer_metadata(w, o.hf_dir, c.vocab_size);
  const std::vector<GgufTensorPlan> plan = gguf_tensor_plan(c, o.layout);
  GgufProgress progress("convert", plan.size(), o.progress);
  if (!has_tokenizer) progress.note(o.hf_dir + " has no tokenizer.json: the GGUF file has no tokenizer");
  std::vector<DType> types;
  for (const GgufTensorPlan& t : plan) {
    std::string note;
    types.push_back(gguf_tensor_type(t.name, t.shape, o.type, static_cast<int>(c.num_layers), &note));
    if (!note.empty()) progress.note(note);
    w.add_tensor(t.name, types.back(), t.shape);
  }
  w.write_header();
  std::uint64_t written = 0;
  ThreadPool pool(o.threads);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    progress.tensor(i, plan[i].name, types[i], written);
    GgufRowStream out(w, types[i], plan[i].shape.back(), &pool);
    for (const GgufPart& part : plan[i].parts) stream_part(*ck, part, out);
    written += tensor_bytes(types[i], plan[i].shape);
  }
  w.finish();
  progress.done(written);
}

}  // namespace dsv2::tools
