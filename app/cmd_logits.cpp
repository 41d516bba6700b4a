// dsv2 logits: float32 little-endian logits [T, V] for given token ids.
#include <cstdio>
#include <fstream>

#include "command.h"
#include "model_flags.h"
#include "generate/evaluate.h"
#include "io/mapped_file.h"
#include "model/deepseek_v2.h"
#include "util/error.h"
#include "util/parse.h"

namespace {

struct Options : dsv2::app::ModelFlags {
  std::string ids, ids_file, out;
  std::int64_t chunk = 0;
};

void run(const Options& o) {
  std::vector<std::int32_t> ids = !o.ids_file.empty()
                                      ? dsv2::parse_id_list(dsv2::read_text_file(o.ids_file), o.ids_file)
                                      : dsv2::parse_id_list(o.ids, "--ids");
  dsv2::check(!ids.empty(), "no token ids given (use --ids or --ids-file)");
  dsv2::DeepseekV2 model(o.open(), o.threads, o.kv_type(), o.expand_prompts());
  std::vector<float> logits = dsv2::sequence_logits(model, ids, o.chunk);
  std::ofstream f(o.out, std::ios::binary);
  dsv2::check(static_cast<bool>(f), o.out + ": cannot open for writing");
  f.write(reinterpret_cast<const char*>(logits.data()), static_cast<std::streamsize>(logits.size() * sizeof(float)));
  dsv2::check(static_cast<bool>(f), o.out + ": write failed");
  std::fprintf(stderr, "wrote %zu x %lld logits to %s\n", ids.size(),
               static_cast<long long>(model.config().vocab_size), o.out.c_str());
}

void setup(CLI::App& root) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = root.add_subcommand("logits", "Write float32 logits [T, vocab] for token ids");
  opts->add_to(cmd);
  auto* ids = cmd->add_option("--ids", opts->ids, "Token ids, comma or space separated");
  cmd->add_option("--ids-file", opts->ids_file, "File with token ids")->excludes(ids);
  cmd->add_option("--chunk", opts->chunk, "Tokens per forward step through the KV cache (default: all)");
  cmd->add_option("-o,--output", opts->out, "Output file (float32 little-endian, row-major)")->required();
  cmd->callback([opts] { run(*opts); });
}

dsv2::app::RegisterCommand reg("logits", setup);

}  // namespace
