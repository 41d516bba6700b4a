// dsv2 tokenize / detokenize, run as a user would.
#include <gtest/gtest.h>

#include "support/fixtures.h"

namespace dsv2::test {
namespace {

TEST(TokenizeCommand, PromptWithAndWithoutBos) {
  const std::string model = fixture("tokenizer/deepseek-v2");
  RunResult r = run_dsv2({"tokenize", "-m", model, "-p", "Hello world"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "100000 17464 1843\n");
  r = run_dsv2({"tokenize", "-m", model, "-p", "Hello world", "--no-bos"});
  EXPECT_EQ(r.out, "17464 1843\n");
}

TEST(TokenizeCommand, FileBytesAreReadExactlyIncludingStdin) {
  TempDir dir;
  write_file(dir.file("in.txt"), "a\n");
  const std::string gguf = fixture("llama-cpp-vocab/ggml-vocab-deepseek-llm.gguf");
  RunResult r = run_dsv2({"tokenize", "-m", gguf, "-f", dir.file("in.txt"), "--no-bos"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "64 185\n");  // the trailing newline is a token
  r = run_dsv2({"tokenize", "-m", gguf, "-f", "-"}, "a\n");
  EXPECT_EQ(r.out, "100000 64 185\n");
}

TEST(DetokenizeCommand, CommaOrSpaceSeparatedIds) {
  const std::string model = fixture("tokenizer/deepseek-v2");
  RunResult r = run_dsv2({"detokenize", "-m", model, "--ids", "17464,1843"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello world\n");
  r = run_dsv2({"detokenize", "-m", model, "--ids", "17464 1843"});
  EXPECT_EQ(r.out, "Hello world\n");
}

TEST(TokenizeCommand, ErrorsAreOneLine) {
  const std::string model = fixture("tokenizer/deepseek-v2");
  RunResult r = run_dsv2({"detokenize", "-m", model, "--ids", "1,x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("'x'"), std::string::npos) << r.err;
  r = run_dsv2({"detokenize", "-m", model, "--ids", "999999"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("out of range"), std::string::npos) << r.err;
  r = run_dsv2({"tokenize", "-m", "/nonexistent", "-p", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent"), std::string::npos) << r.err;
  r = run_dsv2({"tokenize", "-m", model});
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace dsv2::test
