// How llama.cpp's `deepseek2` GGUF files lay out a DeepSeek-V2 model: the metadata keys that
// carry the Config, and the tensor names and shapes. The checkpoint loader reads with it, the
// converters write with it, so both agree with llama.cpp by construction.
//
// Tensors (row-major shapes, outermost first; GGUF stores the dims reversed):
//   token_embd [V,H]  output_norm [H]  output [V,H]
//   blk.N.attn_norm, ffn_norm [H]
//   blk.N.attn_q [nh*dq,H]  or attn_q_a [rq,H], attn_q_a_norm [rq], attn_q_b [nh*dq,rq]
//   blk.N.attn_kv_a_mqa [rkv+dr,H], attn_kv_a_norm [rkv], attn_output [H,nh*dv]
//   legacy layout: blk.N.attn_kv_b [nh*(dn+dv), rkv]
//   MLA layout:    blk.N.attn_k_b [nh, rkv, dn] (W_UK transposed per head), attn_v_b [nh, dv, rkv]
//   dense:  blk.N.ffn_gate, ffn_up [I,H], ffn_down [H,I]
//   MoE:    blk.N.ffn_gate_inp [E,H], ffn_{gate,up}_exps [E,Im,H], ffn_down_exps [E,H,Im],
//           ffn_{gate,up}_shexp [Im*ns,H], ffn_down_shexp [H,Im*ns]
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace dsv2 {

class GgufFile;
class GgufWriter;

enum class GgufLayout { Legacy, Mla };  // how kv_b_proj is stored (see above)

// The Config from `deepseek2.*` and `tokenizer.ggml.*` metadata; throws Error naming the file
// and key when the architecture is not deepseek2 or a required key is missing or invalid.
Config config_from_gguf(const GgufFile& g);
// Which layout the file uses (MLA when it has the `*_mla` key lengths, as llama.cpp decides).
GgufLayout gguf_layout(const GgufFile& g);
// Writes general.architecture and the deepseek2.* keys for `c` (not the tokenizer).
void write_gguf_config(GgufWriter& w, const Config& c, GgufLayout layout);

// One HF tensor's place in a GGUF tensor: rows [first_row, first_row + rows) of `gguf`
// viewed as a 2-D matrix [total_rows, cols]. Stacked experts and per-head k_b/v_b are the only
// tensors with several parts.
struct GgufPart {
  std::string hf;                  // HF name; for k_b/v_b: "...self_attn.k_b_proj.weight"
  std::int64_t first_row = 0, rows = 0;
};
struct GgufTensorPlan {
  std::string name;                // GGUF name, e.g. "blk.3.ffn_up_exps.weight"
  std::vector<std::int64_t> shape; // row-major, outermost first
  std::vector<GgufPart> parts;     // HF tensors, in row order
};

// Every GGUF tensor of a model, in the order llama.cpp writes them (per block).
std::vector<GgufTensorPlan> gguf_tensor_plan(const Config& c, GgufLayout layout);

}  // namespace dsv2
