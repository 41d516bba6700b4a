// The row-interleaved compute layouts (blocks.h): conversions from and to the plain rows of GGUF
// (Q4_0 / Q8_0: byte k*P + j of row r's block, P = 4 for Q4_0 and 2 for Q8_0, moves to
// qs[k][r][j] of the group's block, the row's scale to d[r]; the others: see their Block*x16).
// The scalar reference kernels are in interleaved_scalar.cpp.
#include <cstring>
#include <type_traits>

#include "kernels/isa_impl.h"
#include "kernels/quant_impl.h"
#include "util/error.h"

namespace dsv2::kernels {

namespace {

// kBlock: bytes of a plain block (f16 scale + qs); kPiece: bytes of one row per 32-bit lane.
// Compile-time sizes, so each copy is a single load and store (models have gigabytes of them).
template <std::size_t kBlock, std::size_t kPiece>
struct Layout {
  static constexpr std::size_t kPieces = (kBlock - 2) / kPiece;

  static void interleave(const std::uint8_t* in, std::int64_t n, std::uint8_t* out) {
    const std::size_t row = static_cast<std::size_t>(n / kQK) * kBlock;
    for (std::int64_t b = 0; b < n / kQK; ++b, out += kRowGroup * kBlock)
      for (std::size_t r = 0; r < kRowGroup; ++r) {
        const std::uint8_t* blk = in + r * row + static_cast<std::size_t>(b) * kBlock;
        std::memcpy(out + 2 * r, blk, 2);
        for (std::size_t k = 0; k < kPieces; ++k)
          std::memcpy(out + 2 * kRowGroup + (k * kRowGroup + r) * kPiece, blk + 2 + k * kPiece, kPiece);
      }
  }

  static void deinterleave(const std::uint8_t* in, std::int64_t n, std::size_t r, std::uint8_t* out) {
    for (std::int64_t b = 0; b < n / kQK; ++b, in += kRowGroup * kBlock, out += kBlock) {
      std::memcpy(out, in + 2 * r, 2);
      for (std::size_t k = 0; k < kPieces; ++k)
        std::memcpy(out + 2 + k * kPiece, in + 2 * kRowGroup + (k * kRowGroup + r) * kPiece, kPiece);
    }
  }
};

using Q4Layout = Layout<sizeof(BlockQ4_0), 4>;
using Q8Layout = Layout<sizeof(BlockQ8_0), 2>;

// Q5_0 / Q5_1: Q4_0's pieces and scales (and Q5_1's mins), qh's bits regrouped into the
// per-piece masks.
template <class Plain, class Group>
struct Q5Layout {
  static constexpr bool kMin = std::is_same_v<Plain, BlockQ5_1>;
  static void interleave(const std::uint8_t* in, std::int64_t n, std::uint8_t* out) {
    const std::size_t row = static_cast<std::size_t>(n / kQK) * sizeof(Plain);
    auto* g = reinterpret_cast<Group*>(out);
    for (std::int64_t b = 0; b < n / kQK; ++b, ++g) {
      std::memset(g->hmask, 0, sizeof g->hmask);
      for (std::size_t r = 0; r < kRowGroup; ++r) {
        Plain blk;
        std::memcpy(&blk, in + r * row + static_cast<std::size_t>(b) * sizeof(Plain), sizeof blk);
        std::uint32_t qh;
        std::memcpy(&qh, blk.qh, 4);
        g->d[r] = blk.d;
        if constexpr (kMin) g->m[r] = blk.m;
        for (int k = 0; k < 4; ++k) {
          std::memcpy(g->qs[k][r], blk.qs + 4 * k, 4);
          for (int j = 0; j < 4; ++j)
            for (int h = 0; h < 2; ++h)
              g->hmask[k][h] |= static_cast<std::uint64_t>((qh >> (16 * h + 4 * k + j)) & 1) << (4 * r + j);
        }
      }
    }
  }

  static void deinterleave(const std::uint8_t* in, std::int64_t n, std::size_t r, std::uint8_t* out) {
    const auto* g = reinterpret_cast<const Group*>(in);
    for (std::int64_t b = 0; b < n / kQK; ++b, ++g, out += sizeof(Plain)) {
      Plain blk;
      blk.d = g->d[r];
      if constexpr (kMin) blk.m = g->m[r];
      std::uint32_t qh = 0;
      for (int k = 0; k < 4; ++k) {
        std::memcpy(blk.qs + 4 * k, g->qs[k][r], 4);
        for (int j = 0; j < 4; ++j)
          for (int h = 0; h < 2; ++h)
            qh |= static_cast<std::uint32_t>((g->hmask[k][h] >> (4 * r + j)) & 1) << (16 * h + 4 * k + j);
      }
      std::memcpy(blk.qh, &qh, 4);
      std::memcpy(out, &blk, sizeof blk);
    }
  }
};

// Q6_K: the 6-bit values unpacked (quant_impl.h), then regrouped as BlockQ6_Kx16 says.
struct Q6KLayout {
  // Value of piece p, side s (0: low), byte j.
  static int value(int p, int s, int j) { return 32 * (p / 4) + 16 * s + 4 * (p % 4) + j; }

  static void interleave(const std::uint8_t* in, std::int64_t n, std::uint8_t* out) {
    const std::size_t row = static_cast<std::size_t>(n / kQKK) * sizeof(BlockQ6K);
    auto* g = reinterpret_cast<BlockQ6_Kx16*>(out);
    for (std::int64_t b = 0; b < n / kQKK; ++b, ++g) {
      for (std::size_t r = 0; r < kRowGroup; ++r) {
        BlockQ6K blk;
        std::memcpy(&blk, in + r * row + static_cast<std::size_t>(b) * sizeof(BlockQ6K), sizeof blk);
        std::uint8_t L[kQKK];
        unpack_q6k(blk, L);
        g->d[r] = blk.d;
        for (int s = 0; s < 16; ++s) g->scales[s][r] = blk.scales[s];
        for (int u = 0; u < 16; ++u)
          for (int j = 0; j < 4; ++j) {
            const int fourth = L[value(2 * u + 1, 1, j)];
            for (int k = 0; k < 3; ++k)
              g->v[u][k][r][j] = static_cast<std::uint8_t>(L[value(2 * u + k / 2, k % 2, j)] | ((fourth >> (2 * k)) & 3) << 6);
          }
      }
    }
  }

  static void deinterleave(const std::uint8_t* in, std::int64_t n, std::size_t r, std::uint8_t* out) {
    const auto* g = reinterpret_cast<const BlockQ6_Kx16*>(in);
    for (std::int64_t b = 0; b < n / kQKK; ++b, ++g, out += sizeof(BlockQ6K)) {
      BlockQ6K blk;
      std::uint8_t L[kQKK];
      for (int p = 0; p < 32; ++p)
        for (int j = 0; j < 4; ++j)
          for (int s = 0; s < 2; ++s) L[value(p, s, j)] = static_cast<std::uint8_t>(q6_kx16_value(*g, p, s, static_cast<int>(r), j));
      pack_q6k(L, blk);
      blk.d = g->d[r];
      for (int s = 0; s < 16; ++s) blk.scales[s] = g->scales[s][r];
      std::memcpy(out, &blk, sizeof blk);
    }
  }
};

// Q4_K / Q5_K: scales and quants to their per-row slots (BlockQ4_Kx16 / BlockQ5_Kx16); one copy
// per 4-byte piece; Q5_K's fifth bits (bit 2c / 2c + 1 of qh[4p + j]) to the pieces' masks.
template <class Plain, class Group>
struct K4Layout {
  static constexpr bool kFive = std::is_same_v<Group, BlockQ5_Kx16>;

  static void interleave(const std::uint8_t* in, std::int64_t n, std::uint8_t* out) {
    const std::size_t row = static_cast<std::size_t>(n / kQKK) * sizeof(Plain);
    auto* g = reinterpret_cast<Group*>(out);
    for (std::int64_t b = 0; b < n / kQKK; ++b, ++g) {
      if constexpr (kFive) std::memset(g->hmask, 0, sizeof g->hmask);
      for (std::size_t r = 0; r < kRowGroup; ++r) {
        Plain blk;
        std::memcpy(&blk, in + r * row + static_cast<std::size_t>(b) * sizeof(Plain), sizeof blk);
        g->d[r] = blk.d, g->dmin[r] = blk.dmin;
        for (int k = 0; k < 3; ++k) std::memcpy(&g->scales[k][r], blk.scales + 4 * k, 4);
        for (int c = 0; c < 4; ++c)
          for (int p = 0; p < 8; ++p) {
            std::memcpy(g->qs[c][p][r], blk.qs + 32 * c + 4 * p, 4);
            if constexpr (kFive)
              for (int j = 0; j < 4; ++j)
                for (int s = 0; s < 2; ++s)
                  g->hmask[c][p][s] |= static_cast<std::uint64_t>((blk.qh[4 * p + j] >> (2 * c + s)) & 1) << (4 * r + j);
          }
      }
    }
  }

  static void deinterleave(const std::uint8_t* in, std::int64_t n, std::size_t r, std::uint8_t* out) {
    const auto* g = reinterpret_cast<const Group*>(in);
    for (std::int64_t b = 0; b < n / kQKK; ++b, ++g, out += sizeof(Plain)) {
      Plain blk;
      blk.d = g->d[r], blk.dmin = g->dmin[r];
      for (int k = 0; k < 3; ++k) std::memcpy(blk.scales + 4 * k, &g->scales[k][r], 4);
      if constexpr (kFive) std::memset(blk.qh, 0, sizeof blk.qh);
      for (int c = 0; c < 4; ++c)
        for (int p = 0; p < 8; ++p) {
          std::memcpy(blk.qs + 32 * c + 4 * p, g->qs[c][p][r], 4);
          if constexpr (kFive)
            for (int j = 0; j < 4; ++j)
              for (int s = 0; s < 2; ++s)
                blk.qh[4 * p + j] |= static_cast<std::uint8_t>(((g->hmask[c][p][s] >> (4 * r + j)) & 1) << (2 * c + s));
        }
      std::memcpy(out, &blk, sizeof blk);
    }
  }
};

[[noreturn]] void no_layout(DType t) {
  throw Error(std::string("row interleaving: no interleaved layout for ") + std::string(dtype_name(t)));
}

}  // namespace

DType interleaved_type(DType t) {
  switch (t) {
    case DType::Q4_0: return DType::Q4_0_R16;
    case DType::Q8_0: return DType::Q8_0_R16;
    case DType::Q4_K: return DType::Q4_K_R16;
    case DType::Q5_K: return DType::Q5_K_R16;
    case DType::Q5_0: return DType::Q5_0_R16;
    case DType::Q5_1: return DType::Q5_1_R16;
    case DType::Q6_K: return DType::Q6_K_R16;
    default: return t;
  }
}

DType plain_type(DType t) {
  switch (t) {
    case DType::Q4_0_R16: return DType::Q4_0;
    case DType::Q8_0_R16: return DType::Q8_0;
    case DType::Q4_K_R16: return DType::Q4_K;
    case DType::Q5_K_R16: return DType::Q5_K;
    case DType::Q5_0_R16: return DType::Q5_0;
    case DType::Q5_1_R16: return DType::Q5_1;
    case DType::Q6_K_R16: return DType::Q6_K;
    default: return t;
  }
}

void interleave_rows(DType interleaved, const void* src, std::int64_t n, void* dst) {
  const auto* in = static_cast<const std::uint8_t*>(src);
  auto* out = static_cast<std::uint8_t*>(dst);
  if (interleaved == DType::Q4_0_R16) return Q4Layout::interleave(in, n, out);
  if (interleaved == DType::Q8_0_R16) return Q8Layout::interleave(in, n, out);
  if (interleaved == DType::Q4_K_R16) return K4Layout<BlockQ4K, BlockQ4_Kx16>::interleave(in, n, out);
  if (interleaved == DType::Q5_K_R16) return K4Layout<BlockQ5K, BlockQ5_Kx16>::interleave(in, n, out);
  if (interleaved == DType::Q5_0_R16) return Q5Layout<BlockQ5_0, BlockQ5_0x16>::interleave(in, n, out);
  if (interleaved == DType::Q5_1_R16) return Q5Layout<BlockQ5_1, BlockQ5_1x16>::interleave(in, n, out);
  if (interleaved == DType::Q6_K_R16) return Q6KLayout::interleave(in, n, out);
  no_layout(interleaved);
}

void deinterleave_row(DType interleaved, const void* group, std::int64_t n, int r, void* dst) {
  const auto* in = static_cast<const std::uint8_t*>(group);
  auto* out = static_cast<std::uint8_t*>(dst);
  if (interleaved == DType::Q4_0_R16) return Q4Layout::deinterleave(in, n, static_cast<std::size_t>(r), out);
  if (interleaved == DType::Q8_0_R16) return Q8Layout::deinterleave(in, n, static_cast<std::size_t>(r), out);
  if (interleaved == DType::Q4_K_R16) return K4Layout<BlockQ4K, BlockQ4_Kx16>::deinterleave(in, n, static_cast<std::size_t>(r), out);
  if (interleaved == DType::Q5_K_R16) return K4Layout<BlockQ5K, BlockQ5_Kx16>::deinterleave(in, n, static_cast<std::size_t>(r), out);
  if (interleaved == DType::Q5_0_R16) return Q5Layout<BlockQ5_0, BlockQ5_0x16>::deinterleave(in, n, static_cast<std::size_t>(r), out);
  if (interleaved == DType::Q5_1_R16) return Q5Layout<BlockQ5_1, BlockQ5_1x16>::deinterleave(in, n, static_cast<std::size_t>(r), out);
  if (interleaved == DType::Q6_K_R16) return Q6KLayout::deinterleave(in, n, static_cast<std::size_t>(r), out);
  no_layout(interleaved);
}

}  // namespace dsv2::kernels
