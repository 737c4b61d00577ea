// Differential tester: generates random valid modules with binaryen's
// `wasm-opt --translate-to-fuzz`, runs each on whirl (whirl-diff) and on V8
// (v8-run.mjs), and compares the transcripts. See fuzz/README.md.
//
//   node fuzz/diff/run.mjs [--count N] [--seed S] [--out DIR] [--build DIR]
//                          [--time-limit SECONDS] [--quiet] [--no-save]
//                          [--gen ttf|expr|mix] [--oracle v8|tier]
//                          [--features LIST] [FILE.wasm ...]
//
// Oracles: v8 (default) runs each module on whirl and on V8 and compares
// with the rules in fuzz/README.md; tier runs it on whirl twice, with
// tier=interp and tier=jit (`whirl-diff --exact`), and compares the
// transcripts bit for bit: NaN bits, whole trap messages, exported globals
// (only a timeout or stack exhaustion on either side skips a module). A
// difference that goes away on the module's denanned twin is counted (and
// the first 20 kept) as NaN bits, not as a divergence: the tiers still
// pick different NaNs where two NaNs meet in one operation (README).
// --features (comma-separated; `all` for every one) makes gen-expr use
// WebAssembly 3.0 instructions too: see gen-expr.mjs's FEATURES. With the
// V8 oracle, features Node 20's V8 cannot run are left out.
//
// Generators: ttf is binaryen's translate-to-fuzz; expr is gen-expr.mjs
// (random expression trees, every value observed); mix (default) makes every
// fourth module with expr.
// With files, runs those modules instead of generating. Module i of seed S
// comes from a byte string derived from (S, i) alone, so `--seed S --first
// i --count 1` regenerates it. Every divergence is saved under --out
// (default build-fuzz/diff-out) as div-S-i/ with the module, the input bytes
// and both transcripts. Exits 1 if any divergence or whirl crash was found.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { genExpr, FEATURES as GEN_FEATURES, V8_FEATURES, V8_FLAGS } from './gen-expr.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const opt = {
  count: 100, seed: 1, first: 0, out: null, build: process.env.WHIRL_FUZZ_BUILD ||
    path.join(root, 'build-fuzz'), timeLimit: 0, quiet: false, save: true, gen: 'mix', files: [],
  oracle: 'v8', features: [],
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => { if (i + 1 >= argv.length) usage(); return argv[++i]; };
  if (a === '--count') opt.count = Number(next());
  else if (a === '--seed') opt.seed = Number(next());
  else if (a === '--first') opt.first = Number(next());
  else if (a === '--out') opt.out = next();
  else if (a === '--build') opt.build = next();
  else if (a === '--time-limit') opt.timeLimit = Number(next());
  else if (a === '--quiet') opt.quiet = true;
  else if (a === '--no-save') opt.save = false;
  else if (a === '--gen') opt.gen = next();
  else if (a === '--oracle') opt.oracle = next();
  else if (a === '--features') opt.features = next().split(',').filter(Boolean);
  else if (a.startsWith('-')) usage();
  else opt.files.push(a);
}
function usage() {
  console.error('usage: run.mjs [--count N] [--seed S] [--first I] [--out DIR] [--build DIR] ' +
    '[--time-limit SECONDS] [--quiet] [--no-save] [--gen ttf|expr|mix] [--oracle v8|tier] ' +
    '[--features LIST|all] [FILE.wasm ...]');
  process.exit(2);
}
if (opt.oracle !== 'v8' && opt.oracle !== 'tier') usage();
if (opt.features.includes('all')) opt.features = [...GEN_FEATURES];
for (const f of opt.features) {
  if (!GEN_FEATURES.includes(f)) {
    console.error(`run.mjs: unknown feature ${f} (${GEN_FEATURES.join(', ')})`);
    process.exit(2);
  }
}
// Node 20's V8 (11.3) has no multi-memory and only the legacy exception
// instructions (no try_table/exnref).
if (opt.oracle === 'v8') opt.features = opt.features.filter((f) => V8_FEATURES.has(f));
const tierOracle = opt.oracle === 'tier';
opt.out ??= path.join(opt.build, tierOracle ? 'tier-out' : 'diff-out');
const builtDiff = path.join(opt.build, 'whirl-diff');
if (!fs.existsSync(builtDiff)) {
  console.error(`run.mjs: ${builtDiff} not found (run fuzz/build)`);
  process.exit(2);
}
// A private copy, so that a rebuild during a long run cannot mix versions.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'whirl-diffrun-'));
const whirlDiff = path.join(work, 'whirl-diff');
fs.copyFileSync(builtDiff, whirlDiff);
fs.chmodSync(whirlDiff, 0o755);

// Features whirl runs that binaryen 108 encodes the standard way. Its
// reference-types output is the pre-standard proposal (anyref subtyping,
// typed `ref` encodings), so reference types are left out; SIMD too, until
// whirl has it.
const FEATURES = ['--disable-simd', '--enable-sign-ext', '--enable-mutable-globals',
  '--enable-nontrapping-float-to-int', '--enable-bulk-memory', '--enable-multivalue'];

// ---- deterministic bytes: splitmix64 over (seed, index) ----
function randomBytes(seed, index) {
  let s = (BigInt(seed) * 0x100000001n + BigInt(index)) & 0xffffffffffffffffn;
  const next = () => {
    s = (s + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
    return z ^ (z >> 31n);
  };
  const len = 512 + Number(next() % 24000n);
  const buf = Buffer.alloc(len);
  for (let i = 0; i < len; i += 8) {
    const v = next();
    for (let k = 0; k < 8 && i + k < len; k++) buf[i + k] = Number((v >> BigInt(8 * k)) & 0xffn);
  }
  return buf;
}

// One in three modules is optimised, so that code shapes other than the
// generator's raw output are compared too.
function passesFor(bytes) {
  switch (bytes[0] % 3) {
    case 0: return [];
    case 1: return ['-O2'];
    default: return ['-O3', '--inlining'];
  }
}

function run(cmd, args, timeoutMs) {
  const r = spawnSync(cmd, args, { timeout: timeoutMs, maxBuffer: 256 << 20, encoding: 'utf8' });
  return { status: r.status, signal: r.signal, stdout: r.stdout || '', stderr: r.stderr || '',
    error: r.error };
}

// With the tier oracle, "whirl" is tier=interp and "v8" is tier=jit.
const runWhirl = (wasm, extra = []) => run(whirlDiff,
  [...(tierOracle ? ['--tier', 'interp', '--exact'] : []), ...extra, wasm], 120000);
const runV8 = (wasm, extra = []) => tierOracle
  ? run(whirlDiff, ['--tier', 'jit', '--exact', ...extra, wasm], 120000)
  : run(process.execPath, ['--single-threaded-gc', ...V8_FLAGS(opt.features),
    path.join(here, 'v8-run.mjs'), ...extra, wasm], 120000);
const names = tierOracle ? ['interp', 'jit'] : ['whirl', 'v8'];

// ---- NaN-aware memory comparison ----
const isNan32 = (b, i) => i + 4 <= b.length && (b.readUInt32LE(i) & 0x7f800000) === 0x7f800000 &&
  (b.readUInt32LE(i) & 0x7fffff) !== 0;
const isNan64 = (b, i) => {
  if (i + 8 > b.length) return false;
  const hi = b.readUInt32LE(i + 4), lo = b.readUInt32LE(i);
  return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || lo !== 0);
};
// Every differing byte must lie inside a 4- or 8-byte window that holds a
// NaN on both sides: then the memories differ only in NaN bits.
function onlyNanBits(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    let covered = false;
    for (let j = Math.max(0, i - 7); j <= i && !covered; j++) {
      if (j > i - 4 && isNan32(a, j) && isNan32(b, j)) covered = true;
      else if (isNan64(a, j) && isNan64(b, j)) covered = true;
    }
    if (!covered) return false;
  }
  return true;
}

// V8 reports every failed float-to-int truncation as "float unrepresentable
// in integer range"; the spec (and whirl) call an out-of-range value
// "integer overflow" and only NaN "invalid conversion to integer".
const sameTrap = (w, v) => !tierOracle && w === 'trap overflow' && v === 'trap conversion';

// Compares transcripts; returns null when equal, 'nan-memory' when the
// first difference is in the memory after some call and the two memories
// then differ only in the bits of NaNs (everything after that may differ
// as a consequence, e.g. a byte of the NaN is loaded and logged), else a
// description of the first difference.
function compare(wasm, w, v) {
  if (w === v) return null;
  const wl = w.split('\n'), vl = v.split('\n');
  const n = Math.max(wl.length, vl.length);
  let first = -1;
  for (let i = 0; i < n && first < 0; i++)
    if (wl[i] !== vl[i] && !sameTrap(wl[i], vl[i])) first = i;
  if (first < 0) return null;
  const where = `line ${first + 1}: ${names[0]} '${wl[first] ?? '(end)'}' vs ${names[1]} ` +
    `'${vl[first] ?? '(end)'}'`;
  // The tiers spend the wasm stack differently: where one runs out and the
  // other does not, neither is wrong.
  if (tierOracle && [wl[first], vl[first]].some((l) => /^trap stack/.test(l ?? ''))) return 'stack';
  if (tierOracle) return where;
  if (!(wl[first] ?? '').startsWith('mem ') || !(vl[first] ?? '').startsWith('mem ')) return where;
  const call = wl.slice(0, first).filter((l) => l.startsWith('mem ')).length;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'whirl-diff-'));
  try {
    fs.mkdirSync(path.join(tmp, 'w')); fs.mkdirSync(path.join(tmp, 'v'));
    runWhirl(wasm, ['--dump', path.join(tmp, 'w')]);
    runV8(wasm, ['--dump', path.join(tmp, 'v')]);
    const a = path.join(tmp, 'w', `${call}.bin`), b = path.join(tmp, 'v', `${call}.bin`);
    if (!fs.existsSync(a) || !fs.existsSync(b)) return where + ' (memory dump missing)';
    if (onlyNanBits(fs.readFileSync(a), fs.readFileSync(b))) return 'nan-memory';
    return where + ` (memory after call ${call} differs beyond NaN bits)`;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// A NaN's bits can also reach integers (i64.reinterpret_f64, then a store
// or a log) and so differ anywhere. A difference that goes away once
// binaryen's --denan pass has replaced every NaN a float operation produces
// with 0 was such a NaN; anything else is a divergence.
// gen-expr's 3.0 modules are beyond binaryen 108: gen-expr makes the
// denanned module itself (`regen`).
async function nanExplained(wasm, regen) {
  const denan = wasm.replace(/\.wasm$/, '') + '.denan.wasm';
  const g = regen ? await regen(denan)
    : run('wasm-opt', [wasm, '--denan', ...FEATURES, '-o', denan], 60000);
  if (g.status !== 0) return false;
  try {
    const w = runWhirl(denan), v = runV8(denan);
    if (w.status !== 0 || v.status !== 0) return false;
    const d = compare(denan, w.stdout, v.stdout);
    return d === null || d === 'nan-memory';
  } finally {
    fs.rmSync(denan, { force: true });
  }
}

// 3.0 text: jco's wasm-tools (tests/component's npm fixtures), in process.
let jcoParse = null;
async function assemble(text, wasm) {
  if (!jcoParse) {
    const api = path.join(root, 'tests/component/node_modules/@bytecodealliance/jco/dist/api.js');
    if (!fs.existsSync(api)) {
      console.error(`run.mjs: --features needs ${api} (npm ci in tests/component)`);
      process.exit(2);
    }
    ({ parse: jcoParse } = await import(api));
  }
  try {
    fs.writeFileSync(wasm, await jcoParse(text));
    return { status: 0, stderr: '' };
  } catch (e) {
    return { status: 1, stderr: String(e.message || e) };
  }
}

// ---- main loop ----
const stats = { modules: 0, exprModules: 0, same: 0, nanMemory: 0, nanDenan: 0, divergences: 0, whirlCrashes: 0,
  unsupported: 0, timeouts: 0, stack: 0, genFailed: 0, v8Failed: 0, calls: 0, traps: 0, logs: 0 };
const t0 = Date.now();
const items = opt.files.length ? opt.files.map((f) => ({ file: f, label: 'file-' + path.basename(f, '.wasm') }))
  : Array.from({ length: opt.count }, (_, k) => ({ index: opt.first + k }));

function save(label, wasm, input, w, v, why) {
  const dir = path.join(opt.out, label);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(wasm, path.join(dir, 'module.wasm'));
  if (input) fs.writeFileSync(path.join(dir, 'input.bin'), input);
  if (lastWat) fs.writeFileSync(path.join(dir, 'module.wat'), lastWat);
  fs.writeFileSync(path.join(dir, `${names[0]}.txt`), w.stdout + '\n--- stderr\n' + w.stderr);
  if (v) fs.writeFileSync(path.join(dir, `${names[1]}.txt`), v.stdout + '\n--- stderr\n' + v.stderr);
  fs.writeFileSync(path.join(dir, 'why.txt'), why + '\n');
  return dir;
}

let lastWat = null; // gen-expr's text of the current module
let regen = null;   // makes its denanned twin (3.0 modules)
for (const item of items) {
  lastWat = null;
  if (opt.timeLimit && (Date.now() - t0) / 1000 > opt.timeLimit) break;
  let wasm = item.file, input = null, label = item.label;
  if (!wasm) {
    label = `div-${opt.seed}-${item.index}`;
    input = randomBytes(opt.seed, item.index);
    const bin = path.join(work, 'input.bin');
    wasm = path.join(work, 'module.wasm');
    fs.writeFileSync(bin, input);
    const useExpr = opt.gen === 'expr' || (opt.gen === 'mix' && item.index % 4 === 3);
    regen = null;
    let g;
    if (useExpr) {
      let pos = 0;
      const rand = () => { const v = input.readUInt32LE(pos % (input.length - 3)); pos += 4; return v / 2 ** 32; };
      // Each module takes a subset of the features (all of them in one
      // module of four): functions using a feature the LLVM tier does not
      // translate yet stay interpreted, so the others need modules without it.
      const feats = item.index % 4 === 0 ? opt.features
        : opt.features.filter((f, k) => input[input.length - 1 - k] & 1);
      if (feats.length) {
        regen = (out) => {
          pos = 0;
          return assemble(genExpr(rand, feats, { deterministic: !tierOracle, denan: true }), out);
        };
      }
      const wat = path.join(work, 'module.wat');
      const text = genExpr(rand, feats, { deterministic: !tierOracle });
      fs.writeFileSync(wat, text);
      lastWat = text;
      g = feats.length ? await assemble(text, wasm) : run('wat2wasm', [wat, '-o', wasm], 60000);
      stats.exprModules++;
    } else {
      g = run('wasm-opt', [bin, '-ttf', ...FEATURES, ...passesFor(input), '-o', wasm], 60000);
    }
    if (g.status !== 0) {
      stats.genFailed++;
      if (!opt.quiet) console.log(`${label}: not generated: ${g.stderr.split('\n')[0]}`);
      continue;
    }
  }
  stats.modules++;
  const w = runWhirl(wasm);
  const v = runV8(wasm);
  const report = (why) => {
    if (!opt.save) { if (!opt.quiet) console.log(`${label}: ${why}`); return; }
    const dir = save(label, wasm, input, w, v, why);
    console.log(`${label}: ${why}\n  saved in ${dir}`);
  };
  if (w.status !== 0 && w.status !== 3) {
    stats.whirlCrashes++;
    report(`whirl-diff exited with ${w.signal || 'status ' + w.status}: ` +
      (w.stderr.match(/ERROR: .*|SUMMARY: .*|runtime error: .*/) || [w.stderr.slice(0, 200)])[0]);
    continue;
  }
  if (v.status !== 0 && v.status !== 3) {
    if (!tierOracle) { stats.v8Failed++; continue; }
    stats.whirlCrashes++;
    report(`whirl-diff --tier jit exited with ${v.signal || 'status ' + v.status}: ` +
      (v.stderr.match(/ERROR: .*|SUMMARY: .*|runtime error: .*/) || [v.stderr.slice(0, 200)])[0]);
    continue;
  }
  if (w.status === 3 || v.status === 3) {
    if (w.status !== v.status) { stats.divergences++; report('one engine rejects the imports'); }
    else stats.unsupported++;
    continue;
  }
  if (/^trap timeout/m.test(w.stdout) || (tierOracle && /^trap timeout/m.test(v.stdout))) {
    stats.timeouts++;
    continue;
  }
  stats.calls += (w.stdout.match(/^call /mg) || []).length;
  stats.traps += (w.stdout.match(/^trap /mg) || []).length;
  stats.logs += (w.stdout.match(/^log /mg) || []).length;
  const diff = compare(wasm, w.stdout, v.stdout);
  if (diff === null) stats.same++;
  else if (diff === 'stack') stats.stack++;
  else if (diff === 'nan-memory') stats.nanMemory++;
  else if (await nanExplained(wasm, regen)) {
    // Kept (the first 20) so that the NaN explanation can be audited.
    if (opt.save && ++stats.nanDenan <= 20)
      save(label.replace(/^div-/, 'nan-'), wasm, input, w, v, `NaN bits only (same under --denan): ${diff}`);
    else if (!opt.save) stats.nanDenan++;
  }
  else { stats.divergences++; report(diff); }
  if (!opt.quiet && stats.modules % 100 === 0)
    console.log(`... ${stats.modules} modules, ${stats.divergences} divergences, ` +
      `${stats.whirlCrashes} crashes (${Math.round((Date.now() - t0) / 1000)}s)`);
}
fs.rmSync(work, { recursive: true, force: true });

const secs = Math.round((Date.now() - t0) / 1000);
console.log(`diff${tierOracle ? ' (interp vs jit)' : ''}: ${stats.modules} modules ` +
  `(${stats.exprModules} from gen-expr${opt.features.length ? ' with ' + opt.features.join(',') : ''}) in ${secs}s: ` +
  `${stats.same} identical, ` +
  `${stats.nanMemory + stats.nanDenan} differing only in NaN bits (${stats.nanMemory} in memory, ` +
  `${stats.nanDenan} gone under --denan), ${stats.divergences} divergences, ` +
  `${stats.whirlCrashes} whirl crashes; skipped: ${stats.unsupported} unsupported imports, ` +
  `${stats.timeouts} timeouts, ${stats.stack} stack exhaustions in one tier, ${stats.v8Failed} V8 failures, ${stats.genFailed} not generated; ` +
  `${stats.calls} calls, ${stats.traps} traps, ${stats.logs} logged values`);
const failed = stats.divergences + stats.whirlCrashes;
console.log(`${stats.modules - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
