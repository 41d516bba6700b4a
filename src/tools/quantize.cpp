// quantize_gguf (declared in convert.h): re-types the tensors of a GGUF file, copying its
// metadata, one tensor at a time. A tensor already of its target type is copied byte for byte.
#include <algorithm>

#include "io/gguf.h"
#include "io/gguf_writer.h"
#include "kernels/matmul.h"
#include "tools/convert.h"
#include "tools/gguf_output.h"
#include "util/error.h"

namespace dsv2::tools {

namespace {

GgufWriteValue owned(const GgufValue& v) {
  GgufWriteValue o;
  o.type = v.type;
  o.elem_type = v.elem_type;
  o.u = v.u;
  o.i = v.i;
  o.f = v.f;
  o.str = std::string(v.str);
  for (const GgufValue& item : v.items) o.items.push_back(owned(item));
  return o;
}

// Rows of a GGUF tensor as float32, whatever its type, a bounded number at a time.
void stream_tensor(const Tensor& t, GgufRowStream& out) {
  const Tensor flat{t.dtype, {t.rows(), t.cols()}, t.data};
  const std::int64_t per = std::max<std::int64_t>(1, (1 << 22) / flat.cols());
  std::vector<float> buf(static_cast<std::size_t>(std::min(per, flat.rows()) * flat.cols()));
  for (std::int64_t r = 0; r < flat.rows(); r += per) {
    const std::int64_t n = std::min(per, flat.rows() - r);
    for (std::int64_t i = 0; i < n; ++i) dequantize_row(flat, r + i, buf.data() + i * flat.cols());
    out.write(buf.data(), static_cast<std::size_t>(n * flat.cols()));
  }
}

}  // namespace

void quantize_gguf(const QuantizeOptions& o) {
  const GgufFile in(o.in);
  GgufWriter w(o.out);
  for (const std::string& k : in.keys())
    if (k != "general.alignment") w.set(k, owned(*in.find(k)));
  w.set("general.file_type", GgufWriteValue::u32(llama_file_type(o.type)));
  if (dtype_is_quantized(o.type.base)) w.set("general.quantization_version", GgufWriteValue::u32(2));
  GgufProgress progress("quantize", in.tensors().size(), o.progress);
  int n_layers = 0;  // what the mixes' per-layer choices count (llama.cpp: block_count)
  for (const GgufTensorInfo& info : in.tensors()) n_layers = std::max(n_layers, gguf_block_index(info.name) + 1);
  std::vector<DType> types;
  for (const GgufTensorInfo& info : in.tensors()) {
    std::string note;
    check(dtype_from_ggml(info.ggml_type).has_value(),
          o.in + ": tensor '" + info.name + "' has a ggml type dsv2 cannot read");
    types.push_back(gguf_tensor_type(info.name, info.shape(), o.type, n_layers, &note));
    if (!note.empty()) progress.note(note);
    w.add_tensor(info.name, types.back(), info.shape());
  }
  w.write_header();
  std::uint64_t written = 0;
  ThreadPool pool(o.threads);
  for (std::size_t i = 0; i < in.tensors().size(); ++i) {
    const GgufTensorInfo& info = in.tensors()[i];
    progress.tensor(i, info.name, types[i], written);
    const Tensor t = in.tensor(info);
    if (types[i] == t.dtype) {  // already the wanted type: the same bytes, not rounded again
      w.write_tensor_chunk(t.data, t.nbytes());
    } else {
      GgufRowStream out(w, types[i], t.cols(), &pool);
      stream_tensor(t, out);
    }
    written += static_cast<std::uint64_t>(t.rows()) * row_bytes(types[i], t.cols());
  }
  w.finish();
  progress.done(written);
}

}  // namespace dsv2::tools
