// Checkpoint::open_gguf: a llama.cpp `deepseek2` GGUF file seen under Hugging Face tensor names,
// so that weights.cpp and the model code need not know the format. Every GGUF tensor is checked
// (present, shape implied by the metadata, a type dsv2 computes with) before any view is made.
#include "io/gguf.h"
#include "io/safetensors.h"  // Checkpoint's members, destroyed here if loading throws
#include "model/checkpoint.h"
#include "model/gguf_layout.h"
#include "util/error.h"

namespace dsv2 {

namespace {

const GgufTensorInfo& checked_tensor(const GgufFile& g, const GgufTensorPlan& plan) {
  const GgufTensorInfo* info = g.find_tensor(plan.name);
  check(info != nullptr, g.path() + ": missing tensor '" + plan.name + "' (the deepseek2 metadata implies it)");
  check(info->shape() == plan.shape, g.path() + ": tensor '" + plan.name + "' has shape " +
                                         shape_str(info->shape()) + ", the metadata implies " +
                                         shape_str(plan.shape));
  const GgmlTypeInfo* type = ggml_type_info(info->ggml_type);
  const std::optional<DType> dtype = dtype_from_ggml(info->ggml_type);
  check(dtype && *dtype != DType::I32 && *dtype != DType::I64,
        g.path() + ": tensor '" + plan.name + "' has ggml type " +
            (type ? std::string(type->name) : std::to_string(info->ggml_type)) +
            ", which dsv2 cannot compute with (f32, f16, bf16, q8_0, q5_0, q5_1, q4_0, q4_k, q5_k, q6_k)");
  return *info;
}

}  // namespace

std::unique_ptr<Checkpoint> Checkpoint::open_gguf(const std::string& path, FileMode mode) {
  std::unique_ptr<Checkpoint> ck(new Checkpoint());
  ck->source_ = path;
  ck->gguf_ = std::make_unique<GgufFile>(path, mode);
  const GgufFile& g = *ck->gguf_;
  ck->config_ = config_from_gguf(g);
  for (const GgufTensorPlan& plan : gguf_tensor_plan(ck->config_, gguf_layout(g))) {
    const Tensor t = g.tensor(checked_tensor(g, plan));
    // Stacked tensors become one matrix [total_rows, cols] whose row ranges are the HF tensors.
    const Tensor flat{t.dtype, {t.rows(), t.cols()}, t.data};
    for (const GgufPart& part : plan.parts) {
      Tensor view = plan.shape.size() == 1 ? t : flat.slice_rows(part.first_row, part.rows);
      ck->tensors_.emplace(part.hf, std::move(view));
      ck->tensor_file_[part.hf] = path + ": tensor '" + plan.name + "'";
    }
  }
  ck->validate();
  return ck;
}

}  // namespace dsv2
