// Shared by bench.mjs and compat.mjs: load llama.cpp through node-llama-cpp's prebuilt CPU
// binaries (npm package @node-llama-cpp/linux-x64), never building or downloading anything, and
// drive its native addon directly (AddonModel / AddonContext: thin N-API wrappers over
// llama_model_load_from_file, llama_init_from_model, llama_batch + llama_decode +
// llama_synchronize). node-llama-cpp's JS layer (chat sessions, batch scheduler, memory
// estimation) is not used: it would add its own defaults, e.g. flash attention off, where
// llama.cpp's own tools default to "auto".
//
// The addon API used here is internal to node-llama-cpp; package.json pins the exact version.

import { readFileSync } from "node:fs";
import { getLlama, LlamaLogLevel, readGgufFileInfo } from "node-llama-cpp";

const pkgDir = new URL("./node_modules/node-llama-cpp/", import.meta.url);
const readJson = (rel) => JSON.parse(readFileSync(new URL(rel, pkgDir), "utf8"));

export function packageVersions() {
    const info = readJson("llama/llama.cpp.info.json");
    return { nodeLlamaCpp: readJson("package.json").version, llamaCpp: `${info.llamaCppGithubRepo} ${info.tag}` };
}

// "--override KEY=TYPE:VALUE" as in llama.cpp's --override-kv (TYPE: int, float, bool, str).
export function parseOverride(text) {
    const m = /^([^=]+)=(int|float|bool|str):(.*)$/.exec(text);
    if (!m) throw new Error(`bad --override '${text}': expected KEY=int|float|bool|str:VALUE`);
    const [, key, type, value] = m;
    if (type === "int") return [key, Number.parseInt(value, 10), 0];
    if (type === "float") return [key, Number.parseFloat(value), 1];
    if (type === "bool") return [key, value === "true"];
    return [key, value];
}

// Loads the model with llama.cpp's defaults for a CPU run: memory-mapped weights (what
// LLAMA_LOAD_MODE_AUTO resolves to on CPU), lazy mode "auto", extra buffer types on (so Q4_0 and
// friends are repacked for the CPU kernels as llama.cpp does by default), no GPU layers.
// Every llama.cpp log line at level >= warn goes to `warnings` (and stderr when verbose).
export async function loadLlama(modelPath, { overrides = [], verbose = false } = {}) {
    const warnings = [];
    const log = [];
    const llama = await getLlama({
        gpu: false,
        build: "never",          // only the prebuilt binaries from npm; never compile
        usePrebuiltBinaries: true,
        skipDownload: true,      // never fetch llama.cpp sources
        progressLogs: false,
        logLevel: LlamaLogLevel.debug,
        logger(level, message) {
            const line = String(message).replace(/\n$/, "");
            log.push(line);
            if (level === LlamaLogLevel.warn || level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)
                warnings.push(`[${level}] ${line}`);
            if (verbose) process.stderr.write(`[llama.cpp ${level}] ${line}\n`);
        },
    });
    const bindings = llama._bindings;
    const gguf = await readGgufFileInfo(modelPath, { sourceType: "filesystem", readTensorInfo: false });
    const nVocab = gguf.metadata?.tokenizer?.ggml?.tokens?.length;
    const model = new bindings.AddonModel(modelPath, {
        addonExports: bindings,
        gpuLayers: 0,
        useMmap: true,
        lazyMode: "auto",
        checkTensors: false,
        ...(overrides.length > 0 ? { overridesList: overrides } : {}),
    });
    const t0 = performance.now();
    const ok = await model.init();
    const loadMs = performance.now() - t0;
    await flushLog();
    if (!ok) {
        console.error(`llama.cpp failed to load ${modelPath}:\n  ${warnings.join("\n  ")}`);
        process.exit(1);
    }
    const backend = log.map((l) => /load_backend: loaded CPU backend from .*\/(libggml-cpu-[\w-]+\.so)/.exec(l)?.[1]).find(Boolean);
    return { llama, bindings, model, gguf, nVocab, loadMs, warnings, log, backend };
}

// llama.cpp's log reaches JS through an N-API thread-safe function, i.e. some event-loop turns
// after the call that logged has returned.
export const flushLog = () => new Promise((resolve) => setTimeout(resolve, 20));

// A context as llama-bench makes one: f16 K/V cache, flash attention "auto", one sequence.
// `batch` is both n_batch and n_ubatch (the addon ties them); callers split longer inputs.
export async function newContext(L, { ctxSize, batch, threads }) {
    const ctx = new L.bindings.AddonContext(L.model, {
        contextSize: ctxSize,
        batchSize: batch,
        sequences: 1,
        flashAttention: "auto",
        threads,
        performanceTracking: false,
    });
    const ok = await ctx.init();
    await flushLog();
    if (!ok) {
        console.error(`llama.cpp could not create a context:\n  ${L.warnings.join("\n  ")}`);
        process.exit(1);
    }
    return ctx;
}

// One llama_decode of `tokens` at positions pos..pos+n-1 of sequence 0; outputs (logits) only
// for the indexes in `outputs` (llama_batch_get_one, as llama-bench uses, outputs the last token
// only). Returns the batch indexes of the outputs.
export async function decode(ctx, tokens, pos, outputs) {
    ctx.initBatch(tokens.length);
    const idx = ctx.addToBatch(0, pos, Uint32Array.from(tokens), Uint32Array.from(outputs));
    await ctx.decodeBatch();
    return idx;
}
