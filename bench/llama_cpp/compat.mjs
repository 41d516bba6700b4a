#!/usr/bin/env node
// GGUF compatibility check: does llama.cpp (node-llama-cpp's prebuilt CPU binaries, see
// llama.mjs) load a dsv2-written GGUF file, and does it compute what dsv2 computes?
//
//   node compat.mjs MODEL.gguf --dsv2 build/dsv2 [--prompt TEXT] [-n 24] [--golden DIR]
//                   [--override KEY=TYPE:VALUE]... [-t 1] [-o json]
//
// Checks, each printed as one line (exit status 1 if a check fails or the model does not load):
//   load      llama.cpp's warnings and errors while loading the file and creating a context
//   tokenize  llama.cpp's tokens for --prompt (BOS prepended when the file says add_bos) equal
//             `dsv2 tokenize`
//   greedy    llama.cpp's greedy continuation (argmax of its raw logits, -n tokens or up to an
//             end-of-generation token) has the same text as `dsv2 run` (greedy by default; less
//             the newline it always prints at the end)
//   forced    `dsv2 logits` over prompt + llama.cpp's continuation: its argmax at each position
//             is llama.cpp's next token (teacher-forced top-1 agreement)
//   golden    with --golden DIR (a fixture with golden.json + logits.f32 of the reference model):
//             llama.cpp's and dsv2's logits over input_ids against the reference (top-1
//             agreement, max |diff|), and llama.cpp's greedy continuation of greedy.prompt_ids
//             against greedy.continuation_ids, and dsv2's teacher-forced argmax on that continuation
// Logits are the raw llama_get_logits_ith rows (node-llama-cpp's greedy sampler chain leaves them
// untouched), evaluated in one llama_decode over the whole input with an output at every position.

import { parseArgs } from "node:util";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode, loadLlama, newContext, packageVersions, parseOverride } from "./llama.mjs";

const { values: opt, positionals } = parseArgs({
    allowPositionals: true,
    options: {
        dsv2: { type: "string" },
        prompt: { type: "string", short: "p", default: "def fibonacci(n):" },
        "n-predict": { type: "string", short: "n", default: "24" },
        golden: { type: "string" },
        override: { type: "string", multiple: true, default: [] },
        threads: { type: "string", short: "t", default: "1" },
        output: { type: "string", short: "o", default: "text" },
        verbose: { type: "boolean", short: "v", default: false },
    },
});
if (positionals.length !== 1 || !opt.dsv2) {
    console.error("usage: node compat.mjs MODEL.gguf --dsv2 DSV2_BINARY [--prompt TEXT] [-n N] [--golden DIR] [--override KEY=TYPE:VALUE]... [-t threads] [-o json]");
    process.exit(2);
}
const modelPath = positionals[0];
const threads = Number(opt.threads);
const nPredict = Number(opt["n-predict"]);
const tmp = mkdtempSync(join(tmpdir(), "dsv2-compat-"));
const dsv2 = (...args) => execFileSync(opt.dsv2, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 });

const report = { model: modelPath, ...packageVersions(), checks: [] };
let failed = false;
const check = (name, ok, detail) => {
    report.checks.push({ name, ok, ...detail });
    if (ok === false) failed = true;
};

const L = await loadLlama(modelPath, { overrides: opt.override.map(parseOverride), verbose: opt.verbose });
const V = L.nVocab;
const sampler = new L.bindings.AddonSampler(L.model);
sampler.applyConfig({ temperature: 0 }); // greedy: the chain is llama_sampler_init_greedy only
const eog = (t) => L.model.isEogToken(t);

// Evaluates `ids` into a fresh cache; returns the raw logits rows at `outputs` (Float32Array
// each) and the greedy token at each.
async function evaluate(ctx, ids, outputs, pos = 0) {
    const idx = await decode(ctx, ids, pos, outputs);
    const rows = [];
    for (const i of idx) {
        const [token, , , flat] = await ctx.sampleToken(i, sampler, false, false, true);
        const row = new Float32Array(V).fill(Number.NaN);
        for (let k = 0; k < flat.length; k += 2) row[flat[k]] = flat[k + 1];
        rows.push({ token, row });
    }
    return rows;
}
const argmax = (row) => row.reduce((best, x, i) => (x > row[best] ? i : best), 0);

async function greedy(ctx, promptIds, n) {
    ctx.disposeSequence(0);
    let [{ token, row }] = await evaluate(ctx, promptIds, [promptIds.length - 1]);
    const out = [];
    const disagree = [];
    for (let pos = promptIds.length; out.length < n; pos++) {
        if (argmax(row) !== token) disagree.push(pos);
        out.push(token);
        if (eog(token)) break;
        [{ token, row }] = await evaluate(ctx, [token], [0], pos);
    }
    return { ids: out, samplerArgmaxDisagree: disagree };
}

function compareLogits(a, b, T) {
    let top1 = 0, maxAbs = 0;
    for (let t = 0; t < T; t++) {
        const ra = a.subarray(t * V, (t + 1) * V), rb = b.subarray(t * V, (t + 1) * V);
        if (argmax(ra) === argmax(rb)) top1++;
        for (let v = 0; v < V; v++) maxAbs = Math.max(maxAbs, Math.abs(ra[v] - rb[v]));
    }
    return { top1: `${top1}/${T}`, top1_ok: top1 === T, max_abs_diff: Number(maxAbs.toPrecision(3)) };
}
const readF32 = (path) => { const b = readFileSync(path); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
const dsv2Logits = (ids) => {
    const f = join(tmp, `l${Math.random().toString(36).slice(2)}.f32`);
    dsv2("logits", "-m", modelPath, "-t", String(threads), "--ids", ids.join(","), "-o", f);
    return readF32(f);
};

const maxT = Math.max(256, nPredict + 64);
let goldenJson;
if (opt.golden) goldenJson = JSON.parse(readFileSync(join(opt.golden, "golden.json"), "utf8"));
const ctxSize = Math.max(maxT, goldenJson ? goldenJson.input_ids.length + goldenJson.greedy.continuation_ids.length + 1 : 0, goldenJson ? goldenJson.greedy.prompt_ids.length + 64 : 0);
const ctx = await newContext(L, { ctxSize, batch: ctxSize, threads });
check("load", L.warnings.length === 0 ? true : null, { warnings: L.warnings });

// tokenize
const addBos = L.model.shouldPrependBosToken();
const llamaIds = [...(addBos ? [L.model.tokenBos()] : []), ...L.model.tokenize(opt.prompt, false)];
const dsv2Ids = dsv2("tokenize", "-m", modelPath, "-p", opt.prompt).trim().split(/[\s,]+/).map(Number);
check("tokenize", llamaIds.join() === dsv2Ids.join(), { llama: llamaIds, dsv2: dsv2Ids });

// greedy text
const g = await greedy(ctx, llamaIds, nPredict);
const llamaText = L.model.detokenize(Uint32Array.from(g.ids.filter((t) => !eog(t))), false);
// `dsv2 run` ends its output with one newline of its own (std::endl after the stream)
const dsv2Text = dsv2("run", "-m", modelPath, "-t", String(threads), "-p", opt.prompt, "-n", String(nPredict)).replace(/\n$/, "");
check("greedy", llamaText === dsv2Text, { llama_ids: g.ids, llama_text: llamaText, dsv2_text: dsv2Text, sampler_vs_argmax_disagree_at: g.samplerArgmaxDisagree });

// teacher-forced: dsv2's argmax after each prefix of prompt + llama.cpp's continuation
function forced(name, promptIds, cont) {
    const seq = [...promptIds, ...cont];
    const lg = dsv2Logits(seq.slice(0, -1));
    const mism = [];
    for (let t = promptIds.length - 1; t < seq.length - 1; t++) {
        const a = argmax(lg.subarray(t * V, (t + 1) * V));
        if (a !== seq[t + 1]) mism.push({ pos: t, dsv2: a, llama: seq[t + 1] });
    }
    check(name, mism.length === 0, { agree: `${cont.length - mism.length}/${cont.length}`, mismatches: mism });
}
forced("forced", llamaIds, g.ids);

if (goldenJson) {
    const ids = goldenJson.input_ids;
    const T = ids.length;
    const ref = readF32(join(opt.golden, goldenJson.logits_file));
    ctx.disposeSequence(0);
    const rows = await evaluate(ctx, ids, ids.map((_, i) => i));
    const ll = new Float32Array(T * V);
    rows.forEach(({ row }, t) => ll.set(row, t * V));
    writeFileSync(join(tmp, "llama.f32"), ll);
    const ds = dsv2Logits(ids);
    const a = compareLogits(ll, ref, T), b = compareLogits(ds, ref, T), c = compareLogits(ll, ds, T);
    // informational (warn, not fail) when top-1 differs: quantized files legitimately do
    check("golden logits llama.cpp vs reference", a.top1_ok || null, a);
    check("golden logits dsv2 vs reference", b.top1_ok || null, b);
    check("golden logits llama.cpp vs dsv2", c.top1_ok || null, c);
    const want = goldenJson.greedy.continuation_ids;
    const gg = await greedy(ctx, goldenJson.greedy.prompt_ids, want.length);
    // warn, not fail: a quantized file may legitimately take another branch at a near tie
    check("golden greedy llama.cpp vs reference", gg.ids.join() === want.join() || null, { llama: gg.ids, reference: want });
    forced("golden forced dsv2 on llama.cpp's continuation", goldenJson.greedy.prompt_ids, gg.ids);
}
await ctx.dispose();
rmSync(tmp, { recursive: true, force: true });

if (opt.output === "json") {
    console.log(JSON.stringify(report, null, 2));
} else {
    console.log(`${modelPath}: llama.cpp ${report.llamaCpp} (node-llama-cpp ${report.nodeLlamaCpp})`);
    for (const c of report.checks) {
        const { name, ok, ...d } = c;
        const tag = ok === true ? "ok  " : ok === false ? "FAIL" : "warn";
        let s = "";
        if (name === "load") s = d.warnings.length ? `\n      ${d.warnings.join("\n      ")}` : "no warnings";
        else if (name === "tokenize") s = ok ? `${d.llama.length} tokens` : `llama.cpp ${d.llama} | dsv2 ${d.dsv2}`;
        else if (name === "greedy") s = `${JSON.stringify(d.llama_text)}${ok ? "" : ` | dsv2 ${JSON.stringify(d.dsv2_text)}`}` +
            (d.sampler_vs_argmax_disagree_at.length ? ` (sampler != argmax at ${d.sampler_vs_argmax_disagree_at})` : "");
        else if (name.includes("forced")) s = `${d.agree}${d.mismatches.length ? " " + JSON.stringify(d.mismatches) : ""}`;
        else if (name.startsWith("golden logits")) s = `top-1 ${d.top1}, max |diff| ${d.max_abs_diff}`;
        else if (name.startsWith("golden greedy")) s = ok ? `${d.llama.length} tokens equal` : `llama.cpp ${d.llama} | reference ${d.reference}`;
        console.log(`  ${tag} ${name}: ${s}`);
    }
}
process.exit(failed ? 1 : 0);
