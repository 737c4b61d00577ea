// The V8 side of the differential tester: prints the same transcript as
// whirl-diff (see fuzz/diff/whirl-diff.c for the format) for one module.
//
//   node --single-threaded-gc fuzz/diff/v8-run.mjs [--dump DIR] FILE.wasm
//
// Export types are read from the binary itself (Node 20's JS API cannot
// reflect them), so fixed arguments can be passed by type.
import fs from 'node:fs';

let dumpDir = null;
let file = null;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--dump') dumpDir = argv[++i];
  else file = argv[i];
}
if (!file) {
  console.error('usage: v8-run.mjs [--dump DIR] FILE.wasm');
  process.exit(2);
}
const bytes = fs.readFileSync(file);

const out = [];
const say = (line) => out.push(line);
const flush = () => fs.writeSync(1, out.length ? out.join('\n') + '\n' : '');

// ---- just enough of the binary format to know each export's type ----
function exportTypes(buf) {
  let p = 8;
  const u32 = () => {
    let r = 0, shift = 0, b;
    do { b = buf[p++]; r += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return r;
  };
  const skipLimits = () => { const f = buf[p++]; u32(); if (f & 1) u32(); };
  const types = [], funcs = [], exports = new Map();
  while (p < buf.length) {
    const id = buf[p++];
    const size = u32();
    const end = p + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        p++; // 0x60
        // (ref null ht) and (ref ht) take a heap type after the prefix.
        const valtype = () => { const t = buf[p++]; if (t === 0x63 || t === 0x64) u32(); return t; };
        const params = []; for (let k = u32(); k > 0; k--) params.push(valtype());
        const results = []; for (let k = u32(); k > 0; k--) results.push(valtype());
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        for (let k = 0; k < 2; k++) { const len = u32(); p += len; } // module, name
        const kind = buf[p++];
        if (kind === 0) funcs.push(u32());
        else if (kind === 1) { p++; skipLimits(); }
        else if (kind === 2) skipLimits();
        else p += 2;
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) funcs.push(u32());
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const len = u32();
        const name = buf.subarray(p, p + len).toString('utf8'); p += len;
        const kind = buf[p++], index = u32();
        if (kind === 0) exports.set(name, types[funcs[index]]);
      }
    }
    p = end;
  }
  return exports;
}

// ---- values ----
const f32buf = new Float32Array(1), u32buf = new Uint32Array(f32buf.buffer);
const f64buf = new Float64Array(1), u64buf = new BigUint64Array(f64buf.buffer);
const hex = (n, w) => n.toString(16).padStart(w, '0');
function fmt(type, v) {
  switch (type) {
    case 0x7f: return String(v | 0);
    case 0x7e: return BigInt.asIntN(64, v).toString();
    case 0x7d: if (Number.isNaN(v)) return 'nan'; f32buf[0] = v; return 'f32:' + hex(u32buf[0], 8);
    case 0x7c: if (Number.isNaN(v)) return 'nan'; f64buf[0] = v; return 'f64:' + hex(u64buf[0], 16);
    case 0x70: return v === null ? 'ref:null' : 'ref:func';
    case 0x6f: return v === null ? 'ref:null' : 'ref:extern';
    default: return 'v128';
  }
}
// Same table as arg_for() in whirl-diff.c.
const ARGS = {
  0x7f: [1, -1, 0x12345678, -0x80000000, 0, 7],
  0x7e: [1n, -1n, 0x123456789abcdef0n, -0x8000000000000000n, 0n, 7n],
  0x7d: [1.5, -0, Math.fround(3.0e38), Math.fround(-1.0e-40), 0, 100],
  0x7c: [1.5, -0, 1.0e300, -4.9e-324, 0, 100],
};
const argFor = (type, i) => (ARGS[type] ? ARGS[type][i % 6] : null);

// ---- traps ----
function trapClass(e) {
  if (e instanceof RangeError && /call stack/i.test(e.message)) return 'stack';
  if (WebAssembly.Exception && e instanceof WebAssembly.Exception) return 'exception';
  if (!(e instanceof WebAssembly.RuntimeError)) return 'host';
  const m = e.message;
  if (/^unreachable/.test(m)) return 'unreachable';
  if (/memory access out of bounds|data segment/.test(m)) return 'memory';
  if (/divide by zero|remainder by zero/.test(m)) return 'div0';
  if (/divide result unrepresentable/.test(m)) return 'overflow';
  if (/float unrepresentable in integer range/.test(m)) return 'conversion';
  if (/signature mismatch|null function/.test(m)) return 'indirect';
  if (/table index is out of bounds|table access out of bounds|element segment/.test(m))
    return 'table';
  if (/null pointer|null reference/.test(m)) return 'null';
  if (/unaligned/.test(m)) return 'unaligned';
  return 'other:' + m;
}

function fnv1a(u8) {
  let h = 2166136261;
  for (let i = 0; i < u8.length; i++) h = Math.imul(h ^ u8[i], 16777619);
  return hex(h >>> 0, 8);
}

// ---- run ----
let module;
try {
  module = new WebAssembly.Module(bytes);
} catch (e) {
  say('compile error');
  console.error('v8-run: ' + e.message);
  flush();
  process.exit(0);
}
say('compile ok');

const logger = (kind, type) => (v) => { say(`log ${kind} ${fmt(type, v)}`); };
const imports = {};
for (const imp of WebAssembly.Module.imports(module)) {
  const known = { 'log-i32': 0x7f, 'log-i64': 0x7e, 'log-f32': 0x7d, 'log-f64': 0x7c };
  if (imp.module !== 'fuzzing-support' || imp.kind !== 'function' || !(imp.name in known)) {
    say('instantiate error');
    console.error(`v8-run: unsupported import ${imp.module}.${imp.name}`);
    flush();
    process.exit(3);
  }
  imports[imp.module] ??= {};
  imports[imp.module][imp.name] = logger(imp.name.slice(4), known[imp.name]);
}

let instance;
try {
  instance = new WebAssembly.Instance(module, imports);
} catch (e) {
  if (e instanceof WebAssembly.LinkError) {
    say('instantiate error');
    console.error('v8-run: ' + e.message);
    flush();
    process.exit(3);
  }
  say('instantiate trap ' + trapClass(e));
  flush();
  process.exit(0);
}
say('instantiate ok');

const types = exportTypes(bytes);
const exps = instance.exports;
const names = WebAssembly.Module.exports(module);
const memExport = names.find((e) => e.kind === 'memory');
const mem = memExport ? exps[memExport.name] : null;
const hangInit = names.some((e) => e.kind === 'function' && e.name === 'hangLimitInitializer')
  ? exps.hangLimitInitializer : null;

let call = 0;
for (const { name, kind } of names) {
  if (kind !== 'function') continue;
  if (hangInit) {
    try { hangInit(); } catch (e) { say('hang-init trap ' + trapClass(e)); }
  }
  say('call ' + name);
  const type = types.get(name);
  const args = type.params.map((t, i) => argFor(t, i));
  try {
    let r = exps[name](...args);
    if (type.results.length === 1) r = [r];
    else if (type.results.length === 0) r = [];
    say(['result', ...type.results.map((t, i) => fmt(t, r[i]))].join(' '));
  } catch (e) {
    say('trap ' + trapClass(e));
  }
  if (mem) {
    const u8 = new Uint8Array(mem.buffer);
    say(`mem ${u8.length} ${fnv1a(u8)}`);
    if (dumpDir) fs.writeFileSync(`${dumpDir}/${call}.bin`, u8);
  } else {
    say('mem none');
  }
  call++;
}
flush();
