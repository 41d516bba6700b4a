#include "generate/evaluate.h"

#include <algorithm>

#include "model/deepseek_v2.h"
#include "util/error.h"

namespace dsv2 {

std::vector<float> sequence_logits(DeepseekV2& model, const std::vector<std::int32_t>& ids,
                                   std::int64_t chunk) {
  check(!ids.empty(), "no token ids given");
  const auto n = static_cast<std::int64_t>(ids.size());
  const std::int64_t V = model.config().vocab_size;
  if (chunk <= 0) chunk = n;
  KvCache cache = model.new_cache(n);
  std::vector<float> logits(static_cast<std::size_t>(n * V));
  std::vector<BatchRow> rows;
  for (std::int64_t start = 0; start < n; start += chunk) {
    const std::int64_t end = std::min(n, start + chunk);
    rows.clear();
    for (std::int64_t p = start; p < end; ++p) rows.push_back({ids[static_cast<std::size_t>(p)], p, &cache, true, true});
    model.forward(rows, logits.data() + start * V);
  }
  return logits;
}

std::vector<std::int32_t> greedy_continuation(DeepseekV2& model, const std::vector<std::int32_t>& prompt,
                                              std::int64_t n) {
  check(!prompt.empty(), "empty prompt");
  const std::int64_t V = model.config().vocab_size;
  KvCache cache = model.new_cache(static_cast<std::int64_t>(prompt.size()) + n);
  std::vector<float> logits(static_cast<std::size_t>(V));
  std::vector<BatchRow> rows;
  for (std::size_t p = 0; p < prompt.size(); ++p)
    rows.push_back({prompt[p], static_cast<std::int64_t>(p), &cache, p + 1 == prompt.size(), true});
  std::vector<std::int32_t> out;
  model.forward(rows, logits.data());
  while (static_cast<std::int64_t>(out.size()) < n) {
    const auto next = static_cast<std::int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    out.push_back(next);
    if (static_cast<std::int64_t>(out.size()) == n) break;
    BatchRow row{next, cache.size(), &cache, true};
    model.forward({&row, 1}, logits.data());
  }
  return out;
}

}  // namespace dsv2
