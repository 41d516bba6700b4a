// ggml tensor type table and GGUF value type names.
#include <array>

#include "io/gguf.h"

namespace dsv2 {

namespace {
// ggml's type ids with their block layouts (ggml.c type_traits). Ids 4, 5 and 31-33 were
// removed from ggml and are rejected like any unknown id.
constexpr std::array<GgmlTypeInfo, 31> kGgmlTypes = {{
    {0, "F32", 1, 4},         {1, "F16", 1, 2},          {2, "Q4_0", 32, 18},
    {3, "Q4_1", 32, 20},      {6, "Q5_0", 32, 22},       {7, "Q5_1", 32, 24},
    {8, "Q8_0", 32, 34},      {9, "Q8_1", 32, 36},       {10, "Q2_K", 256, 84},
    {11, "Q3_K", 256, 110},   {12, "Q4_K", 256, 144},    {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},   {15, "Q8_K", 256, 292},    {16, "IQ2_XXS", 256, 66},
    {17, "IQ2_XS", 256, 74},  {18, "IQ3_XXS", 256, 98},  {19, "IQ1_S", 256, 50},
    {20, "IQ4_NL", 32, 18},   {21, "IQ3_S", 256, 110},   {22, "IQ2_S", 256, 82},
    {23, "IQ4_XS", 256, 136}, {24, "I8", 1, 1},          {25, "I16", 1, 2},
    {26, "I32", 1, 4},        {27, "I64", 1, 8},         {28, "F64", 1, 8},
    {29, "IQ1_M", 256, 56},   {30, "BF16", 1, 2},        {34, "TQ1_0", 256, 54},
    {35, "TQ2_0", 256, 66},
}};

struct DTypeGgml {
  DType dtype;
  std::uint32_t ggml;
};
constexpr std::array<DTypeGgml, 12> kDTypeMap = {{
    {DType::F32, 0}, {DType::F16, 1}, {DType::Q4_0, 2}, {DType::Q8_0, 8}, {DType::Q4_K, 12},
    {DType::Q5_K, 13}, {DType::Q6_K, 14}, {DType::BF16, 30}, {DType::I32, 26}, {DType::I64, 27},
    {DType::Q5_0, 6}, {DType::Q5_1, 7},
}};
}  // namespace

const GgmlTypeInfo* ggml_type_info(std::uint32_t id) {
  for (const auto& t : kGgmlTypes) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

std::optional<DType> dtype_from_ggml(std::uint32_t id) {
  for (const auto& m : kDTypeMap) {
    if (m.ggml == id) return m.dtype;
  }
  return std::nullopt;
}

std::uint32_t ggml_type_from_dtype(DType t) {
  for (const auto& m : kDTypeMap) {
    if (m.dtype == t) return m.ggml;
  }
  return 0;  // unreachable: every DType has a ggml id
}

std::string_view gguf_type_name(GgufType t) {
  static constexpr std::array<std::string_view, 13> kNames = {
      "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
      "bool", "string", "array", "uint64", "int64", "float64"};
  auto i = static_cast<std::uint32_t>(t);
  return i < kNames.size() ? kNames[i] : std::string_view("unknown");
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16:
    case GgufType::U32: case GgufType::I32: case GgufType::U64: case GgufType::I64:
      return true;
    default:
      return false;
  }
}

std::vector<std::int64_t> GgufTensorInfo::shape() const {
  return std::vector<std::int64_t>(dims.rbegin(), dims.rend());
}

}  // namespace dsv2
