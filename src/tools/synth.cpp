#include "tools/synth.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>

#include "kernels/thread_pool.h"
#include "tools/random_weights.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace dsv2::tools {

namespace {

constexpr std::uint64_t kBlock = 1 << 16;  // values one thread generates at a time

std::uint64_t numel(const SinkTensor& t) {
  std::uint64_t n = 1;
  for (std::int64_t d : t.shape) n *= static_cast<std::uint64_t>(d);
  return n;
}

class Progress {
 public:
  Progress(bool enabled, std::size_t n_tensors, std::uint64_t total_bytes)
      : enabled_(enabled),
        n_tensors_(n_tensors),
        total_gb_(static_cast<double>(total_bytes) / 1e9) {}

  void update(std::size_t tensor, std::uint64_t bytes_done, bool last = false) {
    auto now = std::chrono::steady_clock::now();
    if (!enabled_ || (!last && now - last_print_ < std::chrono::seconds(2))) return;
    last_print_ = now;
    double gb = static_cast<double>(bytes_done) / 1e9;
    std::fprintf(stderr, "synth: tensor %zu/%zu, %.2f / %.2f GB (%.0f%%)\n", tensor + 1, n_tensors_,
                 gb, total_gb_, total_gb_ > 0 ? 100.0 * gb / total_gb_ : 100.0);
  }

 private:
  bool enabled_;
  std::size_t n_tensors_;
  double total_gb_;
  std::chrono::steady_clock::time_point last_print_{};
};

// Fills out with elements [first, first + count) of one tensor, split over the pool in
// fixed-size blocks (the values do not depend on the split).
void generate_window(ThreadPool& pool, const WeightInit& init, std::uint64_t stream,
                     std::uint64_t first, std::uint64_t count, DType dtype, std::uint8_t* out) {
  const std::size_t esize = dtype_info(dtype).block_bytes;
  const auto n_blocks = static_cast<std::int64_t>((count + kBlock - 1) / kBlock);
  pool.parallel_for(n_blocks, [&](std::int64_t begin, std::int64_t end, int) {
    for (auto b = static_cast<std::uint64_t>(begin); b < static_cast<std::uint64_t>(end); ++b) {
      std::uint64_t off = b * kBlock;
      fill_weights(init, stream, first + off, std::min(kBlock, count - off), dtype,
                   out + off * esize);
    }
  });
}

// Hands windows to the sink on a second thread, one at a time, so that writing a window
// overlaps generating the next. The caller must not touch a submitted buffer until the next
// submit() or wait() returns.
class AsyncWriter {
 public:
  explicit AsyncWriter(CheckpointSink& sink) : sink_(sink) {}

  void submit(std::size_t tensor, std::span<const std::uint8_t> bytes) {
    wait();
    pending_ =
        std::async(std::launch::async, [this, tensor, bytes] { sink_.write(tensor, bytes); });
  }
  void wait() {
    if (pending_.valid()) pending_.get();  // rethrows the sink's error, if any
  }

 private:
  CheckpointSink& sink_;
  std::future<void> pending_;  // a std::async future joins in its destructor
};

}  // namespace

void write_random_checkpoint(const Config& config, const GenerateOptions& opt,
                             CheckpointSink& sink) {
  std::vector<SinkTensor> tensors;
  for (const TensorSpec& s : expected_tensors(config)) tensors.push_back({s.name, opt.dtype, s.shape});
  tensors = sink.arrange(std::move(tensors));
  std::uint64_t total_bytes = 0, largest = 1;
  for (const SinkTensor& t : tensors) {
    total_bytes += safetensors_nbytes(t);  // also rejects non-float dtypes
    largest = std::max(largest, numel(t));
  }
  sink.begin(tensors);
  ThreadPool pool(opt.threads);
  Progress progress(opt.progress, tensors.size(), total_bytes);
  const std::size_t esize = dtype_info(opt.dtype).block_bytes;
  const std::uint64_t window = std::clamp<std::uint64_t>(opt.window, 1, largest);
  // Double buffering: the sink writes one window while the pool generates the next.
  std::vector<std::uint8_t> buffers[2] = {std::vector<std::uint8_t>(window * esize),
                                          std::vector<std::uint8_t>(window * esize)};
  AsyncWriter writer(sink);  // declared after the buffers: joined before they are freed
  int cur = 0;
  std::uint64_t done = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const WeightInit init = weight_init(tensors[i].name, tensors[i].shape);
    const std::uint64_t stream = tensor_seed(opt.seed, tensors[i].name), n = numel(tensors[i]);
    for (std::uint64_t first = 0; first < n; first += window) {
      const std::uint64_t count = std::min(window, n - first);
      std::uint8_t* out = buffers[cur].data();
      generate_window(pool, init, stream, first, count, opt.dtype, out);
      writer.submit(i, {out, count * esize});
      cur ^= 1;
      done += count * esize;
      progress.update(i, done);
    }
  }
  writer.wait();
  sink.finish();
  progress.update(tensors.size() - 1, done, /*last=*/true);
}

std::string shared_dir() {
  const char* env = std::getenv("DSV2_SHARED_DIR");
  if (env && *env) return env;
#ifdef DSV2_DEFAULT_SHARED_DIR
  return DSV2_DEFAULT_SHARED_DIR;
#else
  return "";
#endif
}

namespace {

// Refuses to mix a new model into an existing directory unless forced; when forced, removes
// what an earlier synth left (a stale shard of a bigger model would confuse globbing loaders),
// but nothing else.
void prepare_out_dir(const std::string& dir, bool force) {
  check(!dir.empty(), "synth: no output directory given");
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    check(fs::is_directory(dir, ec), dir + ": exists and is not a directory");
    bool empty = fs::is_empty(dir, ec);
    check(!ec, dir + ": cannot read: " + ec.message());
    check(empty || force, dir + ": directory is not empty (use --force to overwrite)");
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (entry.path().extension() == ".safetensors" || name == "model.safetensors.index.json" ||
          name == "config.json" || name == "tokenizer.json" || name == "tokenizer_config.json")
        fs::remove(entry.path());
    }
    return;
  }
  fs::create_directories(dir, ec);
  check(!ec, dir + ": cannot create: " + ec.message());
}

void copy_tokenizer(const std::string& dir) {
  const fs::path src = fs::path(shared_dir()) / "fixtures" / "tokenizer" / "deepseek-v2";
  if (!fs::exists(src / "tokenizer.json")) {
    std::fprintf(stderr,
                 "synth: warning: no tokenizer at %s (set DSV2_SHARED_DIR); "
                 "the model will have no tokenizer\n",
                 src.c_str());
    return;
  }
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"}) {
    if (!fs::exists(src / name)) continue;
    std::error_code ec;
    const fs::path dst = fs::path(dir) / name;
    fs::copy_file(src / name, dst, fs::copy_options::overwrite_existing, ec);
    // The shared fixtures are read-only; the copy belongs to the user like the rest of the model.
    if (!ec) fs::permissions(dst, fs::perms::owner_write, fs::perm_options::add, ec);
    check(!ec, dst.string() + ": cannot copy the tokenizer: " + ec.message());
  }
}

}  // namespace

void synth(const SynthOptions& opt) {
  Config config = synth_preset(opt.preset);
  check(opt.generate.dtype == DType::F32 || opt.generate.dtype == DType::BF16 ||
            opt.generate.dtype == DType::F16,
        "synth: dtype must be f32, bf16 or f16");
  config.torch_dtype = opt.generate.dtype == DType::F32    ? "float32"
                       : opt.generate.dtype == DType::BF16 ? "bfloat16"
                                                           : "float16";
  GenerateOptions gen = opt.generate;
  if (opt.out_dir.ends_with(".gguf")) {
    // Generated in float32 and quantized on the fly; the tokenizer goes into the metadata.
    check(opt.force || !fs::exists(opt.out_dir), opt.out_dir + ": exists (use --force to overwrite)");
    gen.dtype = DType::F32;
    gen.progress = gen.progress || count_params(config).total >= 250'000'000;
    const std::string tok = (fs::path(shared_dir()) / "fixtures" / "tokenizer" / "deepseek-v2").string();
    auto sink = make_gguf_sink(opt.out_dir, config, opt.gguf_type, tok, opt.generate.threads);
    return write_random_checkpoint(config, gen, *sink);
  }
  prepare_out_dir(opt.out_dir, opt.force);
  copy_tokenizer(opt.out_dir);
  const auto bytes =
      static_cast<std::uint64_t>(count_params(config).total) * dtype_info(gen.dtype).block_bytes;
  gen.progress = gen.progress || bytes >= 1'000'000'000;
  auto sink = make_hf_sink(opt.out_dir, config, opt.max_shard_bytes);
  write_random_checkpoint(config, gen, *sink);
}

}  // namespace dsv2::tools
