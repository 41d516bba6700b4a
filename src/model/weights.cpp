#include "model/weights.h"

#include <cstring>
#include <set>

#include "kernels/matmul.h"
#include "kernels/thread_pool.h"
#include "util/error.h"

namespace dsv2 {

namespace {

std::vector<float> to_f32(const Tensor& t) {
  std::vector<float> v(static_cast<std::size_t>(t.numel()));
  const Tensor flat{t.dtype, {t.numel()}, t.data};
  dequantize_row(flat, 0, v.data());
  return v;
}

MlpWeights bind_mlp(const Checkpoint& ck, const std::string& p) {
  return {ck.get(p + "gate_proj.weight"), ck.get(p + "up_proj.weight"), ck.get(p + "down_proj.weight")};
}

// Splits kv_b_proj into the absorbed form's per-head matrices. W_UV,h are row slices (views);
// W_UK,h must be transposed, so those are copies (nh * r_kv * dn values per layer).
void absorb_kv_b(const Tensor& kv_b, const Config& c, MlaWeights& a) {
  const std::int64_t nh = c.num_heads, dn = c.qk_nope_head_dim, dv = c.v_head_dim, r = c.kv_lora_rank;
  const DType t = uk_t_copy_type(kv_b.dtype, dn);
  const std::size_t head_bytes = static_cast<std::size_t>(r) * row_bytes(t, dn);
  a.uk_t_storage.resize(static_cast<std::size_t>(nh) * head_bytes);
  std::vector<float> row(static_cast<std::size_t>(r)), uk(static_cast<std::size_t>(r * dn));
  for (std::int64_t h = 0; h < nh; ++h) {
    for (std::int64_t d = 0; d < dn; ++d) {
      dequantize_row(kv_b, h * (dn + dv) + d, row.data());
      for (std::int64_t j = 0; j < r; ++j) uk[static_cast<std::size_t>(j * dn + d)] = row[static_cast<std::size_t>(j)];
    }
    std::uint8_t* dst = a.uk_t_storage.data() + static_cast<std::size_t>(h) * head_bytes;
    quantize_rows(t, uk.data(), r, dn, dst);
    a.uk_t.push_back(Tensor{t, {r, dn}, dst});
    a.uv.push_back(kv_b.slice_rows(h * (dn + dv) + dn, dv));
  }
}

// The absorbed form stored as such (k_b_proj [nh*r_kv, dn], v_b_proj [nh*dv, r_kv]): every
// per-head matrix is a row slice, in the stored dtype.
void bind_absorbed(const Tensor& k_b, const Tensor& v_b, const Config& c, MlaWeights& a) {
  const std::int64_t r = c.kv_lora_rank, dv = c.v_head_dim;
  for (std::int64_t h = 0; h < c.num_heads; ++h) {
    a.uk_t.push_back(k_b.slice_rows(h * r, r));
    a.uv.push_back(v_b.slice_rows(h * dv, dv));
  }
}

MlaWeights bind_mla(const Checkpoint& ck, const Config& c, const std::string& p) {
  MlaWeights a;
  if (c.q_lora_rank > 0) {
    a.q_a_proj = ck.get(p + "q_a_proj.weight");
    a.q_a_norm = to_f32(ck.get(p + "q_a_layernorm.weight"));
    a.q_b_proj = ck.get(p + "q_b_proj.weight");
  } else {
    a.q_proj = ck.get(p + "q_proj.weight");
  }
  a.kv_a_proj = ck.get(p + "kv_a_proj_with_mqa.weight");
  a.kv_a_norm = to_f32(ck.get(p + "kv_a_layernorm.weight"));
  a.o_proj = ck.get(p + "o_proj.weight");
  if (ck.has(p + "k_b_proj.weight"))
    bind_absorbed(ck.get(p + "k_b_proj.weight"), ck.get(p + "v_b_proj.weight"), c, a);
  else
    absorb_kv_b(ck.get(p + "kv_b_proj.weight"), c, a);
  return a;
}

// Both constnesses of matmul_weights: W is ModelWeights or const ModelWeights, T Tensor or
// const Tensor.
template <class T, class W>
std::vector<T*> collect_matmul_weights(W& w) {
  std::vector<T*> out{&w.lm_head};
  auto mlp = [&](auto& m) { out.insert(out.end(), {&m.gate, &m.up, &m.down}); };
  for (auto& l : w.layers) {
    auto& a = l.attn;
    out.insert(out.end(), {&a.q_proj, &a.q_a_proj, &a.q_b_proj, &a.kv_a_proj, &a.o_proj});
    for (auto& t : a.uk_t) out.push_back(&t);
    for (auto& t : a.uv) out.push_back(&t);
    if (!l.is_moe) {
      mlp(l.mlp);
      continue;
    }
    out.push_back(&l.moe.router);
    for (auto& e : l.moe.experts) mlp(e);
    if (l.moe.has_shared) mlp(l.moe.shared);
  }
  std::erase_if(out, [](T* t) { return t->data == nullptr; });
  return out;
}

}  // namespace

std::vector<Tensor*> matmul_weights(ModelWeights& w) { return collect_matmul_weights<Tensor>(w); }
std::vector<const Tensor*> matmul_weights(const ModelWeights& w) { return collect_matmul_weights<const Tensor>(w); }

std::size_t interleave_matrices(ModelWeights& w, ThreadPool& pool) {
  std::vector<Tensor*> all;
  std::set<const void*> seen;  // a matrix viewed twice must not be rewritten twice
  for (Tensor* t : matmul_weights(w)) {
    if (t->data == w.embed.data) continue;  // lm_head tied to the embedding, which is read by rows
    check(seen.insert(t->data).second, "interleave_matrices: two weight views share their bytes");
    all.push_back(t);
  }
  // Matrices are independent: all cores rewrite them (~1.5 s on one core for Lite Q4_0).
  std::vector<char> rewritten(all.size(), 0);
  pool.parallel_for(static_cast<std::int64_t>(all.size()), [&](std::int64_t b, std::int64_t e, int) {
    for (std::int64_t i = b; i < e; ++i) rewritten[static_cast<std::size_t>(i)] = interleave_in_place(*all[static_cast<std::size_t>(i)]);
  });
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (rewritten[i]) bytes += all[i]->nbytes();
  return bytes;
}

std::size_t pack_value_heads(ModelWeights& w) {
  std::size_t moved = 0;
  for (LayerWeights& l : w.layers) {
    std::vector<Tensor>& uv = l.attn.uv;
    if (uv.size() < 2) continue;
    const std::size_t size = uv[0].nbytes();
    auto* base = static_cast<std::uint8_t*>(const_cast<void*>(uv[0].data));  // private: see the header
    const auto step = static_cast<std::size_t>(static_cast<const std::uint8_t*>(uv[1].data) - base);
    bool gapped = uv[1].data > uv[0].data && step > size;
    for (std::size_t h = 0; gapped && h < uv.size(); ++h)
      gapped = uv[h].data == base + h * step && uv[h].dtype == uv[0].dtype && uv[h].shape == uv[0].shape;
    if (!gapped) continue;
    // Head h moves down to base + h * size; heads after it still sit above base + (h + 1) * step.
    for (std::size_t h = 1; h < uv.size(); ++h) {
      std::memmove(base + h * size, uv[h].data, size);
      uv[h].data = base + h * size;
      moved += size;
    }
  }
  return moved;
}

DType uk_t_copy_type(DType source, std::int64_t dn) {
  if (source == DType::BF16) return DType::BF16;
  if (dtype_is_quantized(source) && dn % dtype_info(DType::Q8_0).block_size == 0) return DType::Q8_0;
  return DType::F32;
}

ModelWeights bind_weights(const Checkpoint& ck) {
  const Config& c = ck.config();
  ModelWeights w;
  w.embed = ck.get("model.embed_tokens.weight");
  w.final_norm = to_f32(ck.get("model.norm.weight"));
  w.lm_head = ck.has("lm_head.weight") ? ck.get("lm_head.weight") : w.embed;
  for (std::int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    LayerWeights l;
    l.input_norm = to_f32(ck.get(p + "input_layernorm.weight"));
    l.post_norm = to_f32(ck.get(p + "post_attention_layernorm.weight"));
    l.attn = bind_mla(ck, c, p + "self_attn.");
    l.is_moe = c.is_moe_layer(i);
    if (!l.is_moe) {
      l.mlp = bind_mlp(ck, p + "mlp.");
    } else {
      l.moe.router = ck.get(p + "mlp.gate.weight");
      for (std::int64_t e = 0; e < c.n_routed_experts; ++e)
        l.moe.experts.push_back(bind_mlp(ck, p + "mlp.experts." + std::to_string(e) + "."));
      l.moe.has_shared = c.n_shared_experts > 0;
      if (l.moe.has_shared) l.moe.shared = bind_mlp(ck, p + "mlp.shared_experts.");
    }
    w.layers.push_back(std::move(l));
  }
  return w;
}

}  // namespace dsv2
