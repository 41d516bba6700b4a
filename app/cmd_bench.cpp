// dsv2 bench: prompt-processing and generation throughput (llama-bench style), the machine's
// read bandwidth and generation as a share of the bandwidth roofline. -m MODEL, or a random
// model built in memory: --synth PRESET --type q4_0 [--layers N] (until GGUF models load).
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "command.h"
#include "model_flags.h"
#include "kernels/kernels.h"
#include "kernels/thread_pool.h"
#include "model/deepseek_v2.h"
#include "tools/bench.h"
#include "tools/quantized_synth.h"
#include "tools/synth.h"
#include "util/error.h"

namespace {

struct Flags : dsv2::app::ModelFlags {
  std::string synth, type = "q4_0", output = "md";
  int layers = 0;
  dsv2::tools::BenchOptions bench;
};

std::unique_ptr<dsv2::Checkpoint> open_model(const Flags& f) {
  if (f.synth.empty()) {
    dsv2::check(!f.model.empty(), "bench: give -m MODEL or --synth PRESET");
    return f.open();
  }
  dsv2::Config c = dsv2::tools::synth_preset(f.synth);
  if (f.layers > 0) c.num_layers = f.layers;
  dsv2::DType t{};
  dsv2::check(dsv2::dtype_from_name(f.type, &t), "bench: unknown --type '" + f.type + "'");
  return dsv2::tools::synth_quantized(c, t, 0, f.threads);
}

double peak_rss_gib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB on Linux
}

// The process's anonymous memory and how much of it is in transparent huge pages (GB), from
// /proc/self/smaps_rollup; zeros where that is missing. Decode pays a TLB miss (a nested page
// walk in a VM) per 4 KiB of weights that are not in huge pages, so a model that got few of them
// (THP off, or memory too fragmented when it loaded) is slower than its bandwidth says.
struct HugePages {
  double anon_gb = 0, huge_gb = 0;
};
HugePages huge_pages() {
  HugePages h;
  std::ifstream f("/proc/self/smaps_rollup");
  for (std::string line; std::getline(f, line);) {
    double kb = 0;
    if (std::sscanf(line.c_str(), "Anonymous: %lf kB", &kb) == 1) h.anon_gb = kb * 1024 / 1e9;
    if (std::sscanf(line.c_str(), "AnonHugePages: %lf kB", &kb) == 1) h.huge_gb = kb * 1024 / 1e9;
  }
  return h;
}

void run(const Flags& f) {
  dsv2::DeepseekV2 model(open_model(f), f.threads, f.kv_type(), f.expand_prompts());
  const double bpt = dsv2::tools::weight_bytes_per_token(model);
  const auto results = dsv2::tools::run_bench(model, f.bench);
  const std::string name = f.synth.empty() ? f.model : "synth " + f.synth + " " + f.type;
  const int nt = model.pool().size();
  const HugePages hp = huge_pages();
  if (f.output == "json") {
    for (const auto& r : results) {
      std::printf("{\"model\":\"%s\",\"threads\":%d,\"test\":\"%s\",\"tps\":%.3f,\"tps_sd\":%.3f", name.c_str(), nt,
                  r.test.c_str(), r.tps.mean, r.tps.sd);
      if (r.gbs.mean > 0)
        std::printf(",\"read_gbs\":%.2f,\"roofline_pct\":%.1f,\"roofline_pct_sd\":%.1f", r.gbs.mean,
                    r.roofline_pct.mean, r.roofline_pct.sd);
      std::printf("}\n");
    }
    std::printf("{\"test\":\"memory\",\"prompt_attention\":\"%s\",\"weight_bytes_per_token\":%.0f,\"peak_rss_gib\":%.2f",
                f.prompt_attention.c_str(), bpt, peak_rss_gib());
    if (hp.anon_gb > 0) std::printf(",\"anon_gb\":%.3f,\"anon_huge_gb\":%.3f", hp.anon_gb, hp.huge_gb);
    std::printf("}\n");
    return;
  }
  std::printf("| model | threads | isa | test | t/s | read GB/s | roofline |\n|---|---:|---|---|---:|---:|---:|\n");
  for (const auto& r : results) {
    std::printf("| %s | %d | %s | %s | %.2f ± %.2f |", name.c_str(), nt,
                dsv2::kernels::isa_name(dsv2::kernels::active_isa()), r.test.c_str(), r.tps.mean, r.tps.sd);
    if (r.gbs.mean > 0) std::printf(" %.1f | %.0f%% ± %.0f |\n", r.gbs.mean, r.roofline_pct.mean, r.roofline_pct.sd);
    else std::printf(" | |\n");
  }
  std::printf("\nweights read per token %.3f GB; roofline = read GB/s / that (the bandwidth probed before each "
              "generation repetition); peak RSS %.2f GiB", bpt / 1e9, peak_rss_gib());
  if (hp.anon_gb > 0) std::printf("; in huge pages %.2f of %.2f GB", hp.huge_gb, hp.anon_gb);
  std::printf("; prompt attention %s\n", f.prompt_attention.c_str());
}

void setup(CLI::App& root) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = root.add_subcommand("bench", "Prompt-processing and generation speed (llama-bench style)");
  f->add_to(cmd, false);
  cmd->add_option("--synth", f->synth, "Instead of -m: a random model of this preset, built in memory");
  cmd->add_option("--type", f->type, "--synth weight type (q4_0, q8_0, bf16, ...)")->capture_default_str();
  cmd->add_option("--layers", f->layers, "--synth: override the number of layers");
  cmd->add_option("-p,--n-prompt", f->bench.n_prompt, "Prompt tokens (0: skip)")->capture_default_str();
  cmd->add_option("-n,--n-gen", f->bench.n_gen, "Generated tokens (0: skip)")->capture_default_str();
  cmd->add_option("-b,--ubatch", f->bench.ubatch,
                  "Prompt tokens per forward (0: the whole prompt in one); the engine feeds prompts 64-512 at a time")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-d,--depth", f->bench.depth, "Tokens in the cache before generation (long-context decode)")
      ->capture_default_str();
  cmd->add_option("-r,--repetitions", f->bench.reps, "Repetitions")->capture_default_str();
  cmd->add_option("-o,--output", f->output, "md or json")->capture_default_str();
  cmd->callback([f] { run(*f); });
}

const dsv2::app::RegisterCommand kRegister("bench", setup);

}  // namespace
