// Request field validation: every error names the parameter and says what was wrong.
#include <gtest/gtest.h>

#include "server/errors.h"
#include "server/request_params.h"

using dsv2::server::HttpError;
using dsv2::server::Params;
using nlohmann::json;

namespace {

// The message of the HttpError that f throws (fails the test when it throws nothing).
template <class F>
std::string error_of(F&& f, int status = 400) {
  try {
    f();
  } catch (const HttpError& e) {
    EXPECT_EQ(e.status(), status);
    return e.what();
  }
  ADD_FAILURE() << "no HttpError thrown";
  return "";
}

TEST(Params, MalformedBodiesAre400) {
  EXPECT_NE(error_of([] { Params::parse_body("{\"a\": "); }).find("invalid JSON"), std::string::npos);
  EXPECT_NE(error_of([] { Params::parse_body("[1, 2]"); }).find("must be a JSON object"), std::string::npos);
  EXPECT_NE(error_of([] { Params::parse_body(""); }).find("invalid JSON"), std::string::npos);
  // Invalid UTF-8 inside a string is malformed JSON.
  EXPECT_NE(error_of([] { Params::parse_body("{\"prompt\": \"\xff\xfe\"}"); }).find("invalid JSON"), std::string::npos);
  EXPECT_TRUE(Params::parse_body("{\"prompt\": \"ok\"}").is_object());
}

TEST(Params, TypeErrorsNameTheParameter) {
  json body = {{"temperature", "hot"}, {"max_tokens", 1.5}, {"stream", 1}, {"stop", {1, 2}}};
  Params p(body);
  EXPECT_EQ(error_of([&] { p.number("temperature", 0, 2); }), "'temperature' must be a number, got string");
  EXPECT_EQ(error_of([&] { p.integer("max_tokens", 1, 100); }), "'max_tokens' must be an integer, got number");
  EXPECT_EQ(error_of([&] { p.boolean("stream"); }), "'stream' must be a boolean, got number");
  EXPECT_NE(error_of([&] { p.strings("stop"); }).find("'stop' must be a string or an array of strings"), std::string::npos);
}

TEST(Params, RangesAreChecked) {
  json body = {{"temperature", 2.5}, {"max_tokens", -5}, {"huge", 1e300}, {"big", 18446744073709551615ull}};
  Params p(body);
  EXPECT_EQ(error_of([&] { p.number("temperature", 0, 2); }), "'temperature' must be between 0 and 2, got 2.5");
  EXPECT_EQ(error_of([&] { p.integer("max_tokens", 1, 1000); }), "'max_tokens' must be between 1 and 1000, got -5");
  EXPECT_NE(error_of([&] { p.integer("huge", 1, 1000); }).find("'huge' must be"), std::string::npos);
  EXPECT_NE(error_of([&] { p.integer("big", 1, 1000); }).find("at most 1000"), std::string::npos);
}

TEST(Params, AbsentAndNullFieldsAreUnset) {
  json body = {{"seed", nullptr}};
  Params p(body);
  EXPECT_FALSE(p.integer("seed", 0, 10).has_value());
  EXPECT_FALSE(p.string("missing").has_value());
  EXPECT_FALSE(p.has("seed"));
}

TEST(Params, WholeFloatsCountAsIntegers) {
  json body = {{"n", 5.0}};
  EXPECT_EQ(Params(body).integer("n", 0, 10), 5);
}

TEST(Params, StopIsAStringOrAnArray) {
  json one = {{"stop", "\n"}}, many = {{"stop", {"a", "b"}}};
  EXPECT_EQ(Params(one).strings("stop"), std::vector<std::string>{"\n"});
  EXPECT_EQ(Params(many).strings("stop"), (std::vector<std::string>{"a", "b"}));
}

TEST(Params, UnknownFieldsCanBeRejected) {
  json body = {{"prompt", "x"}, {"bogus", 1}};
  Params p(body);
  EXPECT_EQ(error_of([&] { p.reject_unknown({"prompt"}); }), "Unrecognized request argument supplied: bogus");
  p.reject_unknown({"prompt", "bogus"});
}

TEST(Params, NestedObjectsArePrefixed) {
  json options = {{"temperature", "x"}};
  Params o(options, "options.");
  EXPECT_EQ(error_of([&] { o.number("temperature", 0, 2); }), "'options.temperature' must be a number, got string");
  EXPECT_EQ(error_of([] { Params(json(3), "options."); }), "'options' must be an object");
}

TEST(Params, SamplingOverridesDefaults) {
  json body = {{"temperature", 0.5}, {"top_k", 40}, {"seed", 7}, {"repeat_penalty", 1.1}};
  dsv2::SamplingParams base;
  base.top_p = 0.9f;
  auto s = dsv2::server::read_sampling(Params(body), base, {});
  EXPECT_FLOAT_EQ(s.temperature, 0.5f);
  EXPECT_EQ(s.top_k, 40);
  EXPECT_FLOAT_EQ(s.top_p, 0.9f);
  EXPECT_FLOAT_EQ(s.repetition_penalty, 1.1f);
  EXPECT_TRUE(s.has_seed);
  EXPECT_EQ(s.seed, 7u);
}

TEST(Params, NegativeSeedIsRandomWhereTheDialectSaysSo) {
  json body = {{"seed", -1}};
  EXPECT_FALSE(dsv2::server::read_sampling(Params(body), {}, {}).has_seed);
  dsv2::server::SamplingNames openai;
  openai.negative_seed_is_random = false;
  EXPECT_TRUE(dsv2::server::read_sampling(Params(body), {}, openai).has_seed);
}

TEST(Params, TopPZeroIsGreedy) {
  json body = {{"temperature", 1.0}, {"top_p", 0}};
  auto s = dsv2::server::read_sampling(Params(body), {}, {});
  EXPECT_TRUE(s.greedy());
  s.validate();
}

TEST(Params, ContextOverflowSaysByHowMuch) {
  using dsv2::server::check_fits_context;
  check_fits_context(100, 412, 512, "max_tokens");
  EXPECT_EQ(error_of([] { check_fits_context(100, 500, 512, "max_tokens"); }),
            "the prompt (100 tokens) plus max_tokens (500) is 600 tokens, over the context of 512 tokens by 88");
  check_fits_context(511, -1, 512, "max_tokens");
  EXPECT_NE(error_of([] { check_fits_context(600, -1, 512, "max_tokens"); }).find("89 tokens too many"),
            std::string::npos);
}

}  // namespace
