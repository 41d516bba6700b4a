// `dsv2 logits` writes exactly what the golden holds, for every --chunk, and from --ids-file.
#include <gtest/gtest.h>

#include "support/fixtures.h"
#include "support/golden.h"

namespace dsv2 {
namespace {

std::string join(const std::vector<std::int32_t>& ids, const char* sep) {
  std::string s;
  for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? sep : "") + std::to_string(ids[i]);
  return s;
}

TEST(LogitsCli, WritesGoldenLogitsForEveryChunking) {
  test::Golden g = test::load_golden("v2-tiny");
  test::TempDir d;
  for (const char* chunk : {"", "7", "1"}) {
    std::vector<std::string> args = {"logits", "-m", g.model_dir, "--ids", join(g.input_ids, ","), "-o", d.file("o.f32"), "-t", "2"};
    if (*chunk) args.insert(args.end(), {"--chunk", chunk});
    test::RunResult r = test::run_dsv2(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<float> out = test::read_f32_file(d.file("o.f32"));
    ASSERT_EQ(out.size(), g.logits.size());
    for (std::int64_t p = 0; p < g.positions; ++p)
      ASSERT_LE(test::max_row_diff(out.data() + p * g.vocab, g.logits.data() + p * g.vocab, g.vocab), 1e-3f);
  }
  test::write_file(d.file("ids.txt"), join(g.input_ids, " ") + "\n");
  test::RunResult r = test::run_dsv2({"logits", "-m", g.model_dir, "--ids-file", d.file("ids.txt"), "-o", d.file("o2.f32")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_file(d.file("o2.f32")).size(), g.logits.size() * 4);
}

TEST(LogitsCli, BadIdsAreClearErrors) {
  test::Golden g = test::load_golden("v2-tiny");
  test::TempDir d;
  test::RunResult r = test::run_dsv2({"logits", "-m", g.model_dir, "--ids", "1,x2", "-o", d.file("o.f32")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--ids: 'x2' is not a token id"), std::string::npos) << r.err;
  r = test::run_dsv2({"logits", "-m", g.model_dir, "--ids", "1,99999", "-o", d.file("o.f32")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("token id 99999 is outside the vocabulary [0, 768)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dsv2
