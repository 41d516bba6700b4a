#include "model/weights.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "kernels/matmul.h"
#include "kernels/thread_pool.h"
#include "util/error.h"

namespace dsv2 {

namespace {

// A weight's bytes, writable: only for weights in private memory (the header's rewriting
// functions), never for a mapped file.
std::uint8_t* bytes_of(const Tensor& t) { return static_cast<std::uint8_t*>(const_cast<void*>(t.data)); }

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
    std::uint8_t* base = bytes_of(uv[0]);
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

namespace {

// Moves `blocks` (k per expert: expert 0's, then expert 1's, ...), each `size` bytes, within the
// slots they occupy, so that each expert's k blocks lie back to back in their order, for as many
// experts as the slots allow (runs of adjacent slots, taken k at a time; slots left over go to
// the experts after those, one by one). `temp` holds one block. Returns the bytes moved: none
// when the slots overlap.
std::size_t group_blocks(const std::vector<Tensor*>& blocks, std::size_t k, std::size_t size,
                         std::vector<std::uint8_t>& temp) {
  const std::size_t n = blocks.size();
  std::vector<std::uint8_t*> slots;
  for (const Tensor* t : blocks) slots.push_back(bytes_of(*t));
  std::sort(slots.begin(), slots.end());
  for (std::size_t i = 0; i + 1 < n; ++i)
    if (slots[i] + size > slots[i + 1]) return 0;  // overlapping views (experts sharing bytes)
  std::vector<std::uint8_t*> dest, single;  // dest[j]: block j's new place
  for (std::size_t i = 0; i < n;) {
    std::size_t run = 1;
    while (run < k && i + run < n && slots[i + run - 1] + size == slots[i + run]) ++run;
    if (run == k) dest.insert(dest.end(), slots.begin() + static_cast<std::ptrdiff_t>(i), slots.begin() + static_cast<std::ptrdiff_t>(i + k)), i += k;
    else single.push_back(slots[i++]);
  }
  dest.insert(dest.end(), single.begin(), single.end());
  auto index = [&](const std::uint8_t* p) { return static_cast<std::size_t>(std::lower_bound(slots.begin(), slots.end(), p) - slots.begin()); };
  std::vector<std::size_t> from(n);  // from[j]: the slot whose block goes to slot j
  for (std::size_t j = 0; j < n; ++j) from[index(dest[j])] = index(bytes_of(*blocks[j]));
  std::vector<char> done(n, 0);
  temp.resize(size);
  std::size_t moved = 0;
  for (std::size_t i = 0; i < n; ++i) {  // each cycle of the permutation, with one spare block
    if (done[i] || from[i] == i) continue;
    std::memcpy(temp.data(), slots[i], size);
    std::size_t at = i;
    for (; from[at] != i; at = from[at]) std::memcpy(slots[at], slots[from[at]], size), done[at] = 1, moved += size;
    std::memcpy(slots[at], temp.data(), size), done[at] = 1, moved += size;
  }
  for (std::size_t j = 0; j < n; ++j) blocks[j]->data = dest[j];
  return moved;
}

// group_expert_matrices for one layer: its bytes moved.
std::size_t group_layer(MoeWeights& m, std::vector<std::uint8_t>& temp) {
  if (m.experts.empty()) return 0;
  const std::size_t size = m.experts[0].gate.nbytes();
  bool triples = true, grouped = true;
  for (const MlpWeights& e : m.experts) {
    if (e.gate.nbytes() != size || e.up.nbytes() != size) return 0;
    triples = triples && e.down.data != nullptr && e.down.nbytes() == size;
  }
  std::vector<Tensor*> blocks;
  for (MlpWeights& e : m.experts) {
    grouped = grouped && bytes_of(e.up) == bytes_of(e.gate) + size && (!triples || bytes_of(e.down) == bytes_of(e.up) + size);
    blocks.insert(blocks.end(), {&e.gate, &e.up});
    if (triples) blocks.push_back(&e.down);
  }
  return grouped ? 0 : group_blocks(blocks, triples ? 3 : 2, size, temp);
}

}  // namespace

std::size_t group_expert_matrices(ModelWeights& w, ThreadPool& pool) {
  std::vector<std::size_t> moved(w.layers.size(), 0);
  std::vector<std::vector<std::uint8_t>> temp(static_cast<std::size_t>(pool.size()));
  pool.parallel_for(static_cast<std::int64_t>(w.layers.size()), [&](std::int64_t b, std::int64_t e, int t) {
    for (std::int64_t i = b; i < e; ++i)
      if (w.layers[static_cast<std::size_t>(i)].is_moe)
        moved[static_cast<std::size_t>(i)] = group_layer(w.layers[static_cast<std::size_t>(i)].moe, temp[static_cast<std::size_t>(t)]);
  });
  std::size_t total = 0;
  for (std::size_t m : moved) total += m;
  return total;
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
