#!/usr/bin/env node
// llama-bench-style speed test of llama.cpp itself, through the prebuilt CPU binaries that the
// npm package node-llama-cpp ships (see llama.mjs), for side-by-side runs with `dsv2 bench`.
//
//   node bench.mjs MODEL.gguf [-t 2] [-p 64] [-n 16] [-r 5] [--tg-prompt 8] [-o md|json]
//                  [--override KEY=TYPE:VALUE]... [--no-warmup] [-v]
//
// Settings: llama.cpp's defaults, except the thread count, which is fixed (-t, default 2; used
// for both n_threads and n_threads_batch): weights memory-mapped as llama.cpp does by default,
// with its CPU "extra buffer types" on (Q4_0 and other types are repacked at load time into its
// interleaved layouts), f16 K/V cache, flash attention "auto", no GPU. Like llama-bench, one
// context serves all repetitions, its memory is cleared before each one, and a warm-up pass
// (one full pp pass, one tg step) runs first.
//
// What is timed (monotonic clock, performance.now()):
//   ppN  one repetition = the llama_decode calls that evaluate N random tokens (BOS first) into
//        an empty cache, in batches of up to 512 tokens (llama-bench's n_ubatch; n_batch here is
//        the same 512, so pp <= 512 is one llama_decode), logits for the last token only (as
//        llama_batch_get_one gives llama-bench). t/s = N / time.
//   tgN  one repetition = N successive single-token llama_decode calls (logits output for that
//        token), each followed by llama_synchronize, after an untimed prompt of --tg-prompt
//        random tokens (default 8, as `dsv2 bench`; 0 gives llama-bench's exact tg, which starts
//        from an empty cache with BOS). The next token is random, not sampled: no sampling or
//        logits copy is timed. t/s = N / time.
// Differences from llama-bench that remain: each decode goes through the addon's AsyncWorker
// (N-API + libuv thread-pool hop, some tens of microseconds per call), and the addon attaches no
// ggml threadpool to the context, so each graph computation starts and joins its own worker
// threads (llama-bench keeps one threadpool alive). Both are negligible for a Lite-sized model
// (tens of ms per token) but dominate for tiny models, where 2-thread numbers also swing widely
// whenever another process takes a core (ggml's barriers spin). The batch is built (a few
// microseconds) just before each timed decode. Reported: mean ± sample sd of t/s over -r reps.

import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { statSync } from "node:fs";
import { decode, loadLlama, newContext, packageVersions, parseOverride } from "./llama.mjs";

const { values: opt, positionals } = parseArgs({
    allowPositionals: true,
    options: {
        threads: { type: "string", short: "t", default: "2" },
        "n-prompt": { type: "string", short: "p", default: "64" },
        "n-gen": { type: "string", short: "n", default: "16" },
        reps: { type: "string", short: "r", default: "5" },
        "tg-prompt": { type: "string", default: "8" },
        output: { type: "string", short: "o", default: "md" },
        override: { type: "string", multiple: true, default: [] },
        "no-warmup": { type: "boolean", default: false },
        verbose: { type: "boolean", short: "v", default: false },
        help: { type: "boolean", short: "h", default: false },
    },
});
if (opt.help || positionals.length !== 1) {
    console.error("usage: node bench.mjs MODEL.gguf [-t threads] [-p n_prompt] [-n n_gen] [-r reps] [--tg-prompt n] [-o md|json] [--override KEY=TYPE:VALUE]... [--no-warmup] [-v]");
    process.exit(opt.help ? 0 : 2);
}
const modelPath = positionals[0];
const threads = Number(opt.threads), nPrompt = Number(opt["n-prompt"]), nGen = Number(opt["n-gen"]);
const reps = Number(opt.reps), tgPrompt = Number(opt["tg-prompt"]);
const UBATCH = 512;
if (![threads, nPrompt, nGen, reps, tgPrompt].every(Number.isInteger) || threads < 1 || reps < 1 || tgPrompt < 0) {
    console.error("bad arguments: -t, -p, -n, -r, --tg-prompt must be integers (-t, -r >= 1, --tg-prompt >= 0)");
    process.exit(2);
}

// llama-bench uses std::rand() % n_vocab; any uniform source will do.
let seed = 0x2545f491;
const rand = () => ((seed ^= seed << 13, seed ^= seed >>> 17, seed ^= seed << 5) >>> 0);

const L = await loadLlama(modelPath, { overrides: opt.override.map(parseOverride), verbose: opt.verbose });
const nVocab = L.nVocab;
const bos = L.model.shouldPrependBosToken() ? L.model.tokenBos() : -1;
const randomTokens = (n, withBos) => Array.from({ length: n }, (_, i) => (i === 0 && withBos && bos >= 0 ? bos : rand() % nVocab));

const ctx = await newContext(L, {
    ctxSize: Math.max(nPrompt, tgPrompt + nGen + 1, 1),
    batch: Math.max(1, Math.min(UBATCH, Math.max(nPrompt, tgPrompt))),
    threads,
});

async function runPrompt(n) {
    const tokens = randomTokens(n, true);
    let ms = 0;
    for (let pos = 0; pos < n; pos += UBATCH) {
        const chunk = tokens.slice(pos, pos + UBATCH);
        ctx.initBatch(chunk.length);
        ctx.addToBatch(0, pos, Uint32Array.from(chunk), Uint32Array.of(chunk.length - 1));
        const t0 = performance.now();
        await ctx.decodeBatch();
        ms += performance.now() - t0;
    }
    return ms;
}

async function runGen(n) {
    let pos = 0;
    if (tgPrompt > 0) {  // in batches of UBATCH, as llama-bench's -d fills the cache
        const prompt = randomTokens(tgPrompt, true);
        for (; pos < tgPrompt; pos += UBATCH) {
            const chunk = prompt.slice(pos, pos + UBATCH);
            await decode(ctx, chunk, pos, [chunk.length - 1]);
        }
        pos = tgPrompt;
    }
    let token = tgPrompt > 0 ? rand() % nVocab : randomTokens(1, true)[0];
    let ms = 0;
    for (let i = 0; i < n; i++, pos++) {
        ctx.initBatch(1);
        ctx.addToBatch(0, pos, Uint32Array.of(token), Uint32Array.of(0));
        const t0 = performance.now();
        await ctx.decodeBatch();
        ms += performance.now() - t0;
        token = rand() % nVocab;
    }
    return ms;
}

const clear = () => ctx.disposeSequence(0); // llama_memory_seq_rm(mem, 0, -1, -1)

const stats = (xs) => {
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
    return { mean, sd };
};

const results = [];
for (const [name, n, run] of [["pp", nPrompt, runPrompt], ["tg", nGen, runGen]]) {
    if (n <= 0) continue;
    if (!opt["no-warmup"]) {
        clear();
        await run(name === "pp" ? n : 1);
    }
    const ts = [];
    for (let r = 0; r < reps; r++) {
        clear();
        const ms = await run(n);
        ts.push((n * 1000) / ms);
    }
    results.push({ test: `${name}${n}`, n, samples_ts: ts, ...stats(ts) });
}
await ctx.dispose();

const versions = packageVersions();
const desc = L.model.getModelDescription();
const sizeGiB = L.model.getModelSize() / 2 ** 30;
const paramsB = L.model.getTotalParameters() / 1e9;
const load = loadavg().map((x) => x.toFixed(2)).join(" ");
const fileGiB = statSync(modelPath).size / 2 ** 30;
const meta = {
    model: modelPath, description: desc, size_gib: sizeGiB, file_gib: fileGiB, params_b: paramsB,
    threads, n_prompt: nPrompt, n_gen: nGen, tg_prompt: tgPrompt, reps,
    llama_cpp: versions.llamaCpp, node_llama_cpp: versions.nodeLlamaCpp, cpu_backend: L.backend,
    system_info: L.bindings.systemInfo().trim(), load_ms: L.loadMs, loadavg_end: load,
    max_rss_gib: process.resourceUsage().maxRSS / 2 ** 20, warnings: L.warnings,
};

if (opt.output === "json") {
    console.log(JSON.stringify({ ...meta, results }, null, 2));
} else {
    console.log(`llama.cpp ${versions.llamaCpp} via node-llama-cpp ${versions.nodeLlamaCpp}, CPU backend ${L.backend ?? "?"}, ` +
        `load ${(L.loadMs / 1000).toFixed(1)} s, peak RSS ${meta.max_rss_gib.toFixed(2)} GiB, load average ${load}\n`);
    const size = sizeGiB >= 1 ? `${sizeGiB.toFixed(2)} GiB` : `${(sizeGiB * 1024).toFixed(2)} MiB`;
    const params = paramsB >= 1 ? `${paramsB.toFixed(2)} B` : `${(paramsB * 1000).toFixed(2)} M`;
    console.log("| model | size | params | backend | threads | test | t/s |");
    console.log("| --- | ---: | ---: | --- | ---: | ---: | ---: |");
    for (const r of results)
        console.log(`| ${desc} | ${size} | ${params} | CPU | ${threads} | ${r.test} | ${r.mean.toFixed(2)} ± ${r.sd.toFixed(2)} |`);
    if (tgPrompt > 0 && nGen > 0) console.log(`\ntg${nGen}: after a ${tgPrompt}-token prompt (as dsv2 bench); --tg-prompt 0 for llama-bench's tg from an empty cache`);
    if (L.warnings.length > 0) console.error(`\nllama.cpp warnings:\n  ${L.warnings.join("\n  ")}`);
}
process.exit(0);
