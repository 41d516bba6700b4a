// Block layouts of the quantized weight types, bit-compatible with GGUF (ggml), and of the 8- and
// 16-bit activation formats the integer dot products consume. Scales marked f16 are IEEE half
// floats.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dsv2::kernels {

constexpr int kQK = 32;    // values per Q8_0 / Q4_0 block
constexpr int kQKK = 256;  // values per K-quant super-block

// x = d * q
struct BlockQ8_0 {
  std::uint16_t d;  // f16
  std::int8_t qs[kQK];
};
// x = d * (q - 8); qs[j] holds value j in its low nibble and value j + 16 in its high nibble.
struct BlockQ4_0 {
  std::uint16_t d;  // f16
  std::uint8_t qs[kQK / 2];
};
// x = d * (q - 16), q in [0, 31]: the low 4 bits as in Q4_0's qs, bit 4 of value j is bit j of
// qh (little-endian 32 bits). What llama.cpp writes for Q4_K matrices whose rows are no multiple
// of 256 (Lite's 1408-wide expert down projections).
struct BlockQ5_0 {
  std::uint16_t d;  // f16
  std::uint8_t qh[4];
  std::uint8_t qs[kQK / 2];
};
// x = d * q + m, q in [0, 31], bits as Q5_0 (Q5_K's fallback in llama.cpp).
struct BlockQ5_1 {
  std::uint16_t d, m;  // f16
  std::uint8_t qh[4];
  std::uint8_t qs[kQK / 2];
};
// 8 sub-blocks of 32: x = d * sc[j] * q - dmin * m[j], q in [0, 15]; sc/m are 6-bit, packed in
// scales[12] (see unpack_scales_k4). qs holds 4 chunks of 64 values: byte l of chunk c has value
// 64c + l in its low nibble and 64c + 32 + l in its high nibble.
struct BlockQ4K {
  std::uint16_t d, dmin;  // f16
  std::uint8_t scales[12];
  std::uint8_t qs[kQKK / 2];
};
// As Q4_K with q in [0, 31]: bit 4 of value 64c + l is bit 2c of qh[l], of 64c + 32 + l bit 2c+1.
struct BlockQ5K {
  std::uint16_t d, dmin;  // f16
  std::uint8_t scales[12];
  std::uint8_t qh[kQKK / 8];
  std::uint8_t qs[kQKK / 2];
};
// 16 sub-blocks of 16: x = d * scales[j] * (q - 32), q in [0, 63]. Per half (128 values) h, with
// l in [0, 32): value 128h + 32k + l has low nibble from ql[64h + l + 32(k & 1)] (low nibble for
// k < 2, high for k >= 2) and its top 2 bits from bits 2k, 2k+1 of qh[32h + l].
struct BlockQ6K {
  std::uint8_t ql[kQKK / 2];
  std::uint8_t qh[kQKK / 4];
  std::int8_t scales[kQKK / 16];
  std::uint16_t d;  // f16
};

static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ5_0) == 22 && sizeof(BlockQ5_1) == 24);

// ---- row-interleaved compute layouts (DType::*_R16; never in files) ---------------------------
// Block b of 16 consecutive rows, stored together so that 32-bit lane r of a 512-bit register
// holds row r: an integer dot product over 16 rows is then 16 independent lane sums, with no
// horizontal reduction, and one register of scales serves all 16 rows. A group of 16 rows is
// nb such blocks in order and takes exactly the bytes of 16 plain rows (16 x 18 or 16 x 34 per
// block), so the conversion can be done in place.
constexpr int kRowGroup = 16;

// qs[k][r][j] is byte 4k + j of row r's plain block: low nibble value 4k + j, high 4k + j + 16.
struct BlockQ4_0x16 {
  std::uint16_t d[kRowGroup];  // f16, row r's scale
  std::uint8_t qs[4][kRowGroup][4];
};
// qs[p][r][j] is value 2p + j of row r's plain block (pairs, for 16-bit dot products).
struct BlockQ8_0x16 {
  std::uint16_t d[kRowGroup];  // f16, row r's scale
  std::int8_t qs[kQK / 2][kRowGroup][2];
};
// Super-block b of 16 Q4_K rows. qs[c][p][r][j] is byte 32c + 4p + j of row r's qs: its low
// nibble is value 64c + 4p + j (sub-block 2c), its high nibble value 64c + 32 + 4p + j (sub-block
// 2c + 1). scales[k][r] is row r's packed scale bytes 4k .. 4k + 3 as one word, so the 6-bit
// scales and mins of all 16 rows unpack with the same word operations as one row's.
struct BlockQ4_Kx16 {
  std::uint16_t d[kRowGroup], dmin[kRowGroup];  // f16
  std::uint32_t scales[3][kRowGroup];
  std::uint8_t qs[4][8][kRowGroup][4];
};
// Q5_K as Q4_Kx16 plus the fifth bits as byte masks for each piece's two nibble vectors: bit
// 4r + j of hmask[c][p][0] is bit 4 of row r's value 64c + 4p + j, of hmask[c][p][1] of its value
// 64c + 32 + 4p + j.
struct BlockQ5_Kx16 {
  std::uint16_t d[kRowGroup], dmin[kRowGroup];  // f16
  std::uint32_t scales[3][kRowGroup];
  std::uint64_t hmask[4][8][2];
  std::uint8_t qs[4][8][kRowGroup][4];
};
// Q5_0 as Q4_0x16 plus the fifth bits as byte masks for the two nibble vectors of each piece:
// bit 4r + j of hmask[k][0] is bit 4 of row r's value 4k + j, of hmask[k][1] of value 16 + 4k + j.
struct BlockQ5_0x16 {
  std::uint16_t d[kRowGroup];  // f16, row r's scale
  std::uint64_t hmask[4][2];
  std::uint8_t qs[4][kRowGroup][4];
};
// Super-block b of 16 Q6_K rows. Piece p = 4t + i holds, per row, 8 of the 6-bit values: side 0
// is values 32t + 4i + j (sub-block 2t), side 1 values 32t + 16 + 4i + j (sub-block 2t + 1),
// j = 0..3. The pieces 2u, 2u + 1 of pair u share three vectors v[u][k] (k = 0, 1, 2) that hold
// four sides: bits 0-5 of v[u][k][r][j] are side k of the pair (0, 1: piece 2u's low and high
// sides, 2: piece 2u + 1's low side), bits 6-7 are bits 2k, 2k + 1 of the fourth (piece 2u + 1's
// high side). Three sides are then one and each and the fourth is gathered from the three top-bit
// pairs, where Q6_K's own split (a nibble plus two bits elsewhere) costs a shift and a merge for
// every side. scales[s][r] is row r's int8 scale of sub-block s.
struct BlockQ6_Kx16 {
  std::uint16_t d[kRowGroup];  // f16
  std::int8_t scales[16][kRowGroup];
  std::uint8_t v[16][3][kRowGroup][4];
};

// Row r's 6-bit value of piece p, side s, byte j of a Q6_K_R16 group.
static inline int q6_kx16_value(const BlockQ6_Kx16& w, int p, int s, int r, int j) {
  const auto& v = w.v[p / 2];
  const int k = 2 * (p % 2) + s;
  if (k < 3) return v[k][r][j] & 63;
  return v[0][r][j] >> 6 | (v[1][r][j] >> 6) << 2 | (v[2][r][j] >> 6) << 4;
}

static_assert(sizeof(BlockQ4_0x16) == kRowGroup * sizeof(BlockQ4_0));
static_assert(sizeof(BlockQ5_0x16) == kRowGroup * sizeof(BlockQ5_0));
// Q5_1: as Q5_0x16 with the rows' mins.
struct BlockQ5_1x16 {
  std::uint16_t d[kRowGroup], m[kRowGroup];  // f16
  std::uint64_t hmask[4][2];
  std::uint8_t qs[4][kRowGroup][4];
};
static_assert(sizeof(BlockQ5_1x16) == kRowGroup * sizeof(BlockQ5_1));
static_assert(sizeof(BlockQ8_0x16) == kRowGroup * sizeof(BlockQ8_0));
static_assert(sizeof(BlockQ4K) == 144 && sizeof(BlockQ5K) == 176 && sizeof(BlockQ6K) == 210);
static_assert(sizeof(BlockQ4_Kx16) == kRowGroup * sizeof(BlockQ4K));
static_assert(sizeof(BlockQ5_Kx16) == kRowGroup * sizeof(BlockQ5K));
static_assert(sizeof(BlockQ6_Kx16) == kRowGroup * sizeof(BlockQ6K));

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K super-block: the first four
// pairs sit in the low 6 bits of bytes 0-3 / 4-7; the last four use bytes 8-11 (low / high
// nibble) plus the top 2 bits of bytes 0-3 / 4-7.
static inline void unpack_scale_min_k4(const std::uint8_t* s, int j, std::uint8_t* sc, std::uint8_t* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = static_cast<std::uint8_t>((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
    *m = static_cast<std::uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// ---- activation formats ----------------------------------------------------------------------
// A row of activations is converted once per matmul into the format the weight type's kernels
// read. Q8 rows keep the int8 values contiguous (SIMD loads span blocks), then the per-block
// float scales, then per-block integer sums (weights with an offset, like Q4_0's "- 8", subtract
// offset * sum instead of re-centring every weight).
enum class ActFormat : std::uint8_t { F32, BF16, Q8_0, Q8_K, Q16_0, Count };

// Q8_K: one per 256 values; x = d * q, q in [-127, 127]; bsums[k] = sum of qs[16k .. 16k+15].
struct BlockQ8K {
  float d;
  std::int16_t bsums[kQKK / 16];
  std::int8_t qs[kQKK];
};

struct ActQ8_0Row {  // views into one Q8_0 activation row of n values
  const std::int8_t* qs;
  const float* d;
  const std::int32_t* sum;
};
static inline std::size_t act_q8_0_body_bytes(std::int64_t n) {
  return static_cast<std::size_t>(n) + static_cast<std::size_t>(n / kQK) * 8;
}
static inline ActQ8_0Row act_q8_0_row(const void* p, std::int64_t n) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  return {reinterpret_cast<const std::int8_t*>(b), reinterpret_cast<const float*>(b + n),
          reinterpret_cast<const std::int32_t*>(b + n + (n / kQK) * 4)};
}

// Q16_0: blocks of 32 as Q8_0 but q in [-32767, 32767], for weights precise enough (Q8_0) that
// 8-bit activation rounding would dominate their error. Layout: the int16 values, then the
// per-block float scales; no sums (only weights with an offset need them).
struct ActQ16_0Row {
  const std::int16_t* qs;
  const float* d;
};
static inline std::size_t act_q16_0_body_bytes(std::int64_t n) {
  return static_cast<std::size_t>(n) * 2 + static_cast<std::size_t>(n / kQK) * 4;
}
static inline ActQ16_0Row act_q16_0_row(const void* p, std::int64_t n) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  return {reinterpret_cast<const std::int16_t*>(b), reinterpret_cast<const float*>(b + 2 * n)};
}

// The 6-bit scales (sc) and mins (m) of all 8 sub-blocks as 8 bytes each, by whole-word bit
// moves (the SIMD kernels' version of unpack_scale_min_k4).
static inline void unpack_scales_k4_u64(const std::uint8_t* s, std::uint64_t* sc, std::uint64_t* m) {
  std::uint32_t u0, u1, u2;
  std::memcpy(&u0, s, 4);
  std::memcpy(&u1, s + 4, 4);
  std::memcpy(&u2, s + 8, 4);
  const std::uint32_t sc_hi = (u2 & 0x0f0f0f0fu) | (((u0 >> 6) & 0x03030303u) << 4);
  const std::uint32_t m_hi = ((u2 >> 4) & 0x0f0f0f0fu) | (((u1 >> 6) & 0x03030303u) << 4);
  *sc = (u0 & 0x3f3f3f3fu) | (static_cast<std::uint64_t>(sc_hi) << 32);
  *m = (u1 & 0x3f3f3f3fu) | (static_cast<std::uint64_t>(m_hi) << 32);
}

// Bytes of one activation row of n values, padded to 64 so rows stay cache-line aligned.
std::size_t act_row_bytes(ActFormat f, std::int64_t n);

}  // namespace dsv2::kernels
