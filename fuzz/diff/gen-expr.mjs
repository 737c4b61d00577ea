// A second module generator for the differential tester: random expression
// trees over every numeric instruction of WebAssembly 2.0 (without SIMD),
// written as text. binaryen's translate-to-fuzz output mostly feeds values
// into control flow and its hang-limit checks, so a wrong shift or rotate
// seldom shows in what it logs; here every function returns its tree's value
// and stores intermediate values into memory, so each operation is observed.
//
//   genExpr(rand) -> WAT text    (rand() returns uniform numbers in [0, 1))
//
// Functions take (i32 i64 f32 f64) and get the differential runners' fixed
// arguments; constants come from a table of edge values. Division by zero,
// overflow, invalid conversions and out-of-bounds accesses trap as they may.
//
//   genExpr(rand, features) also uses the WebAssembly 3.0 instructions of
//   each named feature (FEATURES below); without features the output is
//   exactly the 2.0 generator's (the CI's fixed seeds keep their modules).
//   The text then needs a 3.0 assembler (assemble() in run.mjs: jco's
//   wasm-tools; Debian's wabt 1.0.32 predates the standard call_ref).
//   `deterministic` (the V8 oracle) keeps relaxed SIMD to inputs where
//   every permitted choice gives the same result.

const I32_EDGE = ['0', '1', '-1', '2', '7', '31', '32', '33', '63', '64', '0x7fffffff', '-0x80000000',
  '0x12345678', '0x8000', '0xffff', '-2', '255', '0x55555555'];
const I64_EDGE = ['0', '1', '-1', '7', '31', '32', '63', '64', '65', '0x7fffffffffffffff',
  '-0x8000000000000000', '0x123456789abcdef0', '0xffffffff', '0x100000000', '-2', '0x8000000000000001'];
const F_EDGE = ['0', '-0', '1', '-1', '0.5', '-0.5', '1.5', '2.5', '-2.5', '3.4e38', '-3.4e38', '1e-45',
  '4294967296', '-2147483648', '2147483647.9', '9.3e18', '-9.3e18', 'inf', '-inf', 'nan',
  '0x1p-126', '0x1.fffffep127', '123456.789'];
const F64_EXTRA = ['1.7e308', '5e-324', '18446744073709551615', '0x1p-1022', '-0x1.fffffffffffffp1023'];

const OPS = {
  i32: {
    bin: ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s',
      'shr_u', 'rotl', 'rotr'],
    un: ['clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s'],
    conv: [['i32.eqz', 'i32'], ['i64.eqz', 'i64'], ['i32.wrap_i64', 'i64'],
      ['i32.trunc_f32_s', 'f32'], ['i32.trunc_f32_u', 'f32'], ['i32.trunc_f64_s', 'f64'],
      ['i32.trunc_f64_u', 'f64'], ['i32.trunc_sat_f32_s', 'f32'], ['i32.trunc_sat_f32_u', 'f32'],
      ['i32.trunc_sat_f64_s', 'f64'], ['i32.trunc_sat_f64_u', 'f64'], ['i32.reinterpret_f32', 'f32']],
    loads: ['i32.load', 'i32.load8_s', 'i32.load8_u', 'i32.load16_s', 'i32.load16_u'],
  },
  i64: {
    bin: ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s',
      'shr_u', 'rotl', 'rotr'],
    un: ['clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s', 'extend32_s'],
    conv: [['i64.extend_i32_s', 'i32'], ['i64.extend_i32_u', 'i32'], ['i64.trunc_f32_s', 'f32'],
      ['i64.trunc_f32_u', 'f32'], ['i64.trunc_f64_s', 'f64'], ['i64.trunc_f64_u', 'f64'],
      ['i64.trunc_sat_f32_s', 'f32'], ['i64.trunc_sat_f32_u', 'f32'], ['i64.trunc_sat_f64_s', 'f64'],
      ['i64.trunc_sat_f64_u', 'f64'], ['i64.reinterpret_f64', 'f64']],
    loads: ['i64.load', 'i64.load8_s', 'i64.load8_u', 'i64.load16_s', 'i64.load16_u',
      'i64.load32_s', 'i64.load32_u'],
  },
  f32: {
    bin: ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'],
    un: ['abs', 'neg', 'ceil', 'floor', 'trunc', 'nearest', 'sqrt'],
    conv: [['f32.convert_i32_s', 'i32'], ['f32.convert_i32_u', 'i32'], ['f32.convert_i64_s', 'i64'],
      ['f32.convert_i64_u', 'i64'], ['f32.demote_f64', 'f64'], ['f32.reinterpret_i32', 'i32']],
    loads: ['f32.load'],
  },
  f64: {
    bin: ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'],
    un: ['abs', 'neg', 'ceil', 'floor', 'trunc', 'nearest', 'sqrt'],
    conv: [['f64.convert_i32_s', 'i32'], ['f64.convert_i32_u', 'i32'], ['f64.convert_i64_s', 'i64'],
      ['f64.convert_i64_u', 'i64'], ['f64.promote_f32', 'f32'], ['f64.reinterpret_i64', 'i64']],
    loads: ['f64.load'],
  },
};
const CMP = {
  i32: ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'],
  i64: ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'],
  f32: ['eq', 'ne', 'lt', 'gt', 'le', 'ge'],
  f64: ['eq', 'ne', 'lt', 'gt', 'le', 'ge'],
};
const TYPES = ['i32', 'i64', 'f32', 'f64'];
const PARAM = { i32: 0, i64: 1, f32: 2, f64: 3 };
const STORES = { i32: ['i32.store', 'i32.store8', 'i32.store16'],
  i64: ['i64.store', 'i64.store8', 'i64.store16', 'i64.store32'], f32: ['f32.store'], f64: ['f64.store'] };


// The 3.0 features gen-expr can use, as wasmtime's -W flags name them
// (legacy-exceptions: try/catch/catch_all/rethrow/delegate; exceptions:
// try_table and exnref).
export const FEATURES = ['tail-call', 'extended-const', 'multi-memory', 'memory64',
  'function-references', 'exceptions', 'legacy-exceptions', 'threads', 'relaxed-simd'];
// What Node 20's V8 (11.3) runs, and the flags it needs: no multi-memory,
// no try_table/exnref (V8 12), and typed function references only in the
// pre-standard encoding (0x6b/0x6c, not 0x64/0x63: "invalid value type");
// the others behind --experimental-wasm-* except tail calls, legacy
// exceptions and threads (on by default).
export const V8_FEATURES = new Set(['tail-call', 'extended-const', 'memory64',
  'legacy-exceptions', 'threads', 'relaxed-simd']);
export function V8_FLAGS(features) {
  const flag = { 'extended-const': '--experimental-wasm-extended-const',
    'memory64': '--experimental-wasm-memory64',
    'relaxed-simd': '--experimental-wasm-relaxed-simd' };
  return features.filter((f) => flag[f]).map((f) => flag[f]);
}

export function genExpr(rand, features = [], { deterministic = false, denan = false } = {}) {
  const has = (f) => features.includes(f);
  const any3 = features.length > 0;
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const chance = (p) => rand() < p;
  let labels = 0;
  const label = () => `$l${labels++}`;

  // Memories: 0 is exported as "memory" (the one the runners hash); with
  // multi-memory a second one, 64-bit with memory64 (without multi-memory,
  // memory64 makes memory 0 itself 64-bit). Threads make memory 0 shared.
  const mems = [{ idx: 0, is64: has('memory64') && !has('multi-memory') }];
  // (At most two: the pooling allocator's default per-module limit.)
  if (has('multi-memory')) mems.push({ idx: 1, is64: has('memory64') });
  const memarg = (m) => (m.idx ? `${m.idx} ` : '');
  // Addresses: mostly in the first KiB, sometimes near or past the end.
  // `align` (atomics) keeps most of them a multiple of 8.
  const addr = (depth, m = mems[0], align = false) => {
    let a;
    if (chance(0.9)) {
      a = `(i32.and ${expr('i32', depth)} (i32.const ${align ? pick(['1016', '248', '8']) : pick(['1023', '255', '7'])}))`;
      return m.is64 ? `(i64.extend_i32_u ${a})` : a;
    }
    if (m.is64) return `(i64.const ${pick(['65528', '65532', '65535', '65536', '-1', '0x100000000', '0x7fffffffffffffff'])})`;
    return `(i32.const ${pick(['65528', '65532', '65535', '65536', '-1'])})`;
  };
  const konst = (t, inInit = false) => {
    if (!inInit && has('extended-const') && (t === 'i32' || t === 'i64') && chance(0.1)) return `(global.get $c_${t})`;
    if (t === 'i32') return `(i32.const ${chance(0.8) ? pick(I32_EDGE) : Math.floor(rand() * 2 ** 32) - 2 ** 31})`;
    if (t === 'i64') return `(i64.const ${pick(I64_EDGE)})`;
    return `(${t}.const ${pick(t === 'f64' && chance(0.3) ? F64_EXTRA : F_EDGE)})`;
  };
  const args4 = (d) => TYPES.map((a) => expr(a, d)).join(' ');
  // Helper functions (targets of calls, tail calls and call_ref): 2 per
  // result type, $h_T_0 and $h_T_1, each one expression over its params.
  const useHelpers = () => has('tail-call') || has('function-references') || has('exceptions') ||
    has('legacy-exceptions');

  // One expression of the 3.0 features, or null.
  function expr3(t, d) {
    const opts = [];
    if (useHelpers() && chance(0.3)) opts.push(() => `(call $h_${t}_${pick([0, 1])} ${args4(d)})`);
    if (has('function-references')) {
      opts.push(() => `(call_ref $ft_${t} ${args4(d)} ${funcref(t, d)})`);
      // br_on_null: a null reference leaves the block with the fallback.
      opts.push(() => {
        const l = label();
        return `(block ${l} (result ${t}) ${expr(t, d)} (br_on_null ${l} ${nullableRef(t, d)}) ` +
          `(local.set $r_${t}) (drop) (call_ref $ft_${t} ${args4(d)} (local.get $r_${t})))`;
      });
    }
    if (has('tail-call') && t === 'i64')
      opts.push(() => `(call $count (i32.and ${expr('i32', d)} (i32.const ${pick(['15', '255', '4095'])})) ${expr('i64', d)})`);
    if (has('legacy-exceptions')) opts.push(() => legacyTry(t, d));
    if (has('exceptions')) opts.push(() => tryTable(t, d));
    if (has('threads') && (t === 'i32' || t === 'i64')) opts.push(() => atomic(t, d));
    if (has('threads')) opts.push(() => `(block (result ${t}) (atomic.fence) ${expr(t, d)})`);
    if (has('relaxed-simd') && t === 'i32') opts.push(() => simdToI32(d));
    if (any3 && chance(0.3)) opts.push(() => `(block (result ${t}) (global.set $g_${t} ${expr(t, d)}) (global.get $g_${t}))`);
    return opts.length ? pick(opts)() : null;
  }

  // A (ref $ft_T): one helper, or one of two.
  function funcref(t, d) {
    if (chance(0.5)) return `(ref.func $h_${t}_${pick([0, 1])})`;
    if (chance(0.5)) {
      const l = label();
      return `(block ${l} (result (ref $ft_${t})) (br_on_non_null ${l} ${nullableRef(t, d)}) (ref.func $h_${t}_0))`;
    }
    return `(select (result (ref $ft_${t})) (ref.func $h_${t}_0) (ref.func $h_${t}_1) ${expr('i32', d)})`;
  }
  // A (ref null $ft_T), null when a condition holds; now and then forced
  // non-null by ref.as_non_null (which traps on null).
  function nullableRef(t, d) {
    const r = `(select (result (ref null $ft_${t})) (ref.func $h_${t}_${pick([0, 1])}) (ref.null $ft_${t}) ${expr('i32', d)})`;
    return chance(0.15) ? `(ref.as_non_null ${r})` : r;
  }
  // A body that may throw: a tag of its own type (caught by the matching
  // catch), of another type (caught by catch_all, or not at all), or from
  // a called function (the exception unwinds a frame).
  function throwing(t, d) {
    const u = chance(0.7) ? t : pick(TYPES);
    const r = rand();
    if (r < 0.4) return `(if (result ${t}) ${expr('i32', d)} (then (throw $e_${u} ${expr(u, d)})) (else ${expr(t, d)}))`;
    if (r < 0.7) return `(block (result ${t}) (drop (call $thrower (i32.and ${expr('i32', d)} (i32.const 3)))) ${expr(t, d)})`;
    return expr(t, d);
  }
  function legacyTry(t, d) {
    const r = rand();
    // try ... catch $e_T (the value is on the stack) ... catch_all ... end
    const catchT = chance(0.5) ? '' : `(local.set ${4 + PARAM[t]}) ${expr(t, d)}`;
    const catchAll = chance(0.15) ? '(rethrow 0)' : expr(t, d);
    if (r < 0.7)
      return `(block (result ${t}) try (result ${t}) ${throwing(t, d)} catch $e_${t} ${catchT} ` +
        `catch_all ${catchAll} end)`;
    if (r < 0.85) {
      // delegate to an enclosing try
      const l = label();
      return `(block (result ${t}) try ${l} (result ${t}) (block (result ${t}) try (result ${t}) ` +
        `${throwing(t, d)} delegate ${l}) catch $e_${t} catch_all ${expr(t, d)} end)`;
    }
    // A handler that only catches its own type: others go on up.
    return `(block (result ${t}) try (result ${t}) ${throwing(t, d)} catch $e_${t} ${catchT} end)`;
  }
  function tryTable(t, d) {
    const out = label(), ca = label(), h = label();
    const r = rand();
    if (r < 0.5)
      return `(block ${out} (result ${t}) (block ${ca} (br ${out} (block ${h} (result ${t}) ` +
        `(try_table (result ${t}) (catch $e_${t} ${h}) (catch_all ${ca}) ${throwing(t, d)})))) ${expr(t, d)})`;
    if (r < 0.8) {
      // catch_ref: the value and the exnref (dropped, or thrown again
      // when a condition holds: then it escapes, as throw_ref must).
      return `(block ${out} (result ${t}) (block ${h} (result ${t} exnref) (br ${out} ` +
        `(try_table (result ${t}) (catch_ref $e_${t} ${h}) ${throwing(t, d)}))) ` +
        `(local.set $x) (if ${expr('i32', d)} (then (throw_ref (local.get $x)))))`;
    }
    // catch_all_ref; throw_ref of a null exnref traps.
    return `(block ${out} (result ${t}) (block ${h} (result exnref) (br ${out} ` +
      `(try_table (result ${t}) (catch_all_ref ${h}) ${throwing(t, d)}))) ` +
      `(local.set $x) (if ${expr('i32', d)} (then (throw_ref (select (result exnref) (local.get $x) ` +
      `(ref.null exn) ${expr('i32', d)})))) ${expr(t, d)})`;
  }
  function atomic(t, d) {
    const m = pick(mems);
    const w = t === 'i32' ? pick(['', '8', '16']) : pick(['', '8', '16', '32']);
    const u = w ? '_u' : '';
    const r = rand();
    // Mostly aligned; sometimes an odd address (the unaligned trap).
    const a = chance(0.95) ? addr(d, m, true) : (m.is64 ? '(i64.const 1)' : '(i32.const 1)');
    if (r < 0.2) return `(${t}.atomic.load${w}${u} ${memarg(m)}${a})`;
    if (r < 0.6) {
      const op = pick(['add', 'sub', 'and', 'or', 'xor', 'xchg']);
      return `(${t}.atomic.rmw${w}.${op}${u} ${memarg(m)}${a} ${expr(t, d)})`;
    }
    if (r < 0.75) return `(${t}.atomic.rmw${w}.cmpxchg${u} ${memarg(m)}${a} ${expr(t, d)} ${expr(t, d)})`;
    if (r < 0.85) {
      return `(block (result ${t}) (local.set ${4 + PARAM[t]} ${expr(t, d)}) ` +
        `(${t}.atomic.store${w} ${memarg(m)}${a} (local.get ${4 + PARAM[t]})) (local.get ${4 + PARAM[t]}))`;
    }
    // notify finds no waiter (0); wait on memory 0 (shared) with a zero
    // timeout: "not-equal" (1) or "timed-out" (2), never blocking.
    const m0 = mems[0], a0 = chance(0.95) ? addr(d, m0, true) : (m0.is64 ? '(i64.const 4)' : '(i32.const 4)');
    const ext = t === 'i64' ? (x) => `(i64.extend_i32_u ${x})` : (x) => x;
    if (chance(0.5)) return ext(`(memory.atomic.notify ${a0} ${expr('i32', d)})`);
    return ext(`(memory.atomic.wait${t === 'i32' ? '32' : '64'} ${a0} ${expr(t, d)} (i64.const 0))`);
  }

  // ---- relaxed SIMD ----
  const V_LEAF = () => pick([
    () => `(i32x4.splat ${expr('i32', 0)})`, () => `(f32x4.splat ${expr('f32', 0)})`,
    () => `(f64x2.splat ${expr('f64', 0)})`, () => `(i64x2.splat ${expr('i64', 0)})`,
    () => `(v128.const i32x4 ${[0, 1, 2, 3].map(() => pick(I32_EDGE)).join(' ')})`,
    () => `(v128.const f32x4 ${[0, 1, 2, 3].map(() => pick(F_EDGE)).join(' ')})`,
  ])();
  // With `deterministic`, inputs are masked so that every choice the
  // relaxed SIMD proposal permits gives the same result.
  const det = (plain, masked) => (deterministic ? masked : plain);
  function vexpr(d) {
    const e = vexpr1(d);
    return denan ? `(call $denan_v128 ${e})` : e;
  }
  function vexpr1(d) {
    if (d <= 0 || chance(0.2)) return V_LEAF();
    const v = () => vexpr(d - 1);
    const small = (x) => `(f32x4.convert_i32x4_s (v128.and ${x} (v128.const i32x4 0xfff 0xfff 0xfff 0xfff)))`;
    const small64 = (x) => `(f64x2.convert_low_i32x4_s (v128.and ${x} (v128.const i32x4 0xfff 0xfff 0xfff 0xfff)))`;
    const odd = (x) => `(f32x4.convert_i32x4_s (v128.or ${x} (v128.const i32x4 1 1 1 1)))`;
    const odd64 = (x) => `(f64x2.convert_low_i32x4_s (v128.or ${x} (v128.const i32x4 1 1 1 1)))`;
    const inRange = (x) => `(f32x4.convert_i32x4_s (v128.and ${x} (v128.const i32x4 0x7fffff 0x7fffff 0x7fffff 0x7fffff)))`;
    const inRange64 = (x) => `(f64x2.convert_low_i32x4_s (v128.and ${x} (v128.const i32x4 0x7fffff 0x7fffff 0x7fffff 0x7fffff)))`;
    const lane = pick(['i8x16', 'i16x8', 'i32x4', 'i64x2']);
    const mask = () => det(v(), `(${lane}.${lane === 'i64x2' ? 'lt_s' : pick(['lt_s', 'eq', 'gt_u'])} ${v()} ${v()})`);
    return pick([
      () => `(i8x16.relaxed_swizzle ${v()} ${det(v(), `(v128.and ${v()} (v128.const i8x16 ${Array(16).fill(15).join(' ')}))`)})`,
      () => `(i32x4.relaxed_trunc_f32x4_${pick(['s', 'u'])} ${det(v(), inRange(v()))})`,
      () => `(i32x4.relaxed_trunc_f64x2_${pick(['s', 'u'])}_zero ${det(v(), inRange64(v()))})`,
      () => `(f32x4.relaxed_${pick(['madd', 'nmadd'])} ${det(v(), small(v()))} ${det(v(), small(v()))} ${det(v(), small(v()))})`,
      () => `(f64x2.relaxed_${pick(['madd', 'nmadd'])} ${det(v(), small64(v()))} ${det(v(), small64(v()))} ${det(v(), small64(v()))})`,
      () => `(${lane}.relaxed_laneselect ${v()} ${v()} ${mask()})`,
      () => `(f32x4.relaxed_${pick(['min', 'max'])} ${det(v(), odd(v()))} ${det(v(), odd(v()))})`,
      () => `(f64x2.relaxed_${pick(['min', 'max'])} ${det(v(), odd64(v()))} ${det(v(), odd64(v()))})`,
      () => `(i16x8.relaxed_q15mulr_s ${det(v(), `(v128.or ${v()} (v128.const i16x8 1 1 1 1 1 1 1 1))`)} ${v()})`,
      () => `(i16x8.relaxed_dot_i8x16_i7x16_s ${v()} ${det(v(), `(v128.and ${v()} (v128.const i8x16 ${Array(16).fill(127).join(' ')}))`)})`,
      () => `(i32x4.relaxed_dot_i8x16_i7x16_add_s ${v()} ${det(v(), `(v128.and ${v()} (v128.const i8x16 ${Array(16).fill(127).join(' ')}))`)} ${v()})`,
      () => `(i32x4.add ${v()} ${v()})`,
      () => `(f32x4.mul ${v()} ${v()})`,
    // Node 20's V8 (11.3, experimental relaxed SIMD) leaves the
    // accumulator out of i32x4.relaxed_dot_i8x16_i7x16_add_s: (i32x4 64
    // 255 -1 64) . (0x4b 0x52 0x61 0x7e ...) + (f32x4 3.4e38 ...) gives
    // 13056 in lane 0, the spec (and whirl, and a plain JS computation)
    // 0x7f7fe31e. So against V8 the dot products are not generated.
    ].slice(0, deterministic ? -4 : undefined).concat(deterministic
      ? [() => `(i32x4.add ${v()} ${v()})`, () => `(f32x4.mul ${v()} ${v()})`] : []))();
  }
  const simdToI32 = (d) => pick([
    () => `(i32x4.extract_lane ${pick([0, 1, 2, 3])} ${vexpr(Math.min(d, 3))})`,
    () => `(i8x16.bitmask ${vexpr(Math.min(d, 3))})`,
    () => `(i8x16.extract_lane_u ${Math.floor(rand() * 16)} ${vexpr(Math.min(d, 3))})`,
  ])();

  // `denan`: the same module (the same random choices) with every float
  // value, and every float lane of a vector, that could be a NaN replaced
  // by 0, as binaryen's --denan does (its 108 cannot read these modules):
  // when two engines agree on that module, their difference was a NaN's
  // bits, which the specification lets them choose (run.mjs).
  function expr(t, depth) {
    const e = expr1(t, depth);
    return denan && (t === 'f32' || t === 'f64') ? `(call $denan_${t} ${e})` : e;
  }
  function expr1(t, depth) {
    if (depth <= 0 || chance(0.15)) return chance(0.5) ? `(local.get ${PARAM[t]})` : konst(t);
    const d = depth - 1;
    if (any3 && chance(0.2)) {
      const e = expr3(t, d);
      if (e) return e;
    }
    const r = rand();
    const o = OPS[t];
    if (r < 0.35) return `(${t}.${pick(o.bin)} ${expr(t, d)} ${expr(t, d)})`;
    if (r < 0.5) return `(${t}.${pick(o.un)} ${expr(t, d)})`;
    if (r < 0.65) { const [op, from] = pick(o.conv); return `(${op} ${expr(from, d)})`; }
    if (r < 0.72 && t === 'i32') { const ct = pick(TYPES); return `(${ct}.${pick(CMP[ct])} ${expr(ct, d)} ${expr(ct, d)})`; }
    if (r < 0.78) return `(select ${expr(t, d)} ${expr(t, d)} ${expr('i32', d)})`;
    if (r < 0.84) return `(if (result ${t}) ${expr('i32', d)} (then ${expr(t, d)}) (else ${expr(t, d)}))`;
    const m = any3 ? pick(mems) : mems[0];
    if (r < 0.89) return `(${pick(o.loads)} ${memarg(m)}offset=${pick(['0', '1', '3', '8'])} ${addr(d, m)})`;
    if (r < 0.93) {
      const s = pick(STORES[t]);
      return `(block (result ${t}) (local.set ${4 + PARAM[t]} ${expr(t, d)}) ` +
        `(${s} ${memarg(m)}${addr(d, m)} (local.get ${4 + PARAM[t]})) (local.get ${4 + PARAM[t]}))`;
    }
    if (r < 0.97) {
      // A value that leaves the block early when the condition holds.
      return `(block $b (result ${t}) (drop (br_if $b ${expr(t, d)} ${expr('i32', d)})) ${expr(t, d)})`;
    }
    return `(local.tee ${4 + PARAM[t]} ${expr(t, d)})`;
  }

  const locals = ['(local i32 i64 f32 f64)'];
  // Typed and exnref locals only where a body uses them: a function with
  // one stays interpreted in the LLVM tier (translate.c), which would leave
  // the tier oracle comparing the interpreter with itself.
  const localsFor = (text) => [locals[0],
    ...TYPES.filter((t) => text.includes(`$r_${t})`)).map((t) => `(local $r_${t} (ref null $ft_${t}))`),
    ...(text.includes('(local.set $x)') ? ['(local $x exnref)'] : [])];
  const sig = '(param i32 i64 f32 f64)';
  const head = [];
  const funcs = [];
  if (any3) {
    head.push(...TYPES.map((t) => `  (type $ft_${t} (func ${sig} (result ${t})))`));
    head.push(...TYPES.map((t) => `  (global $g_${t} (export "g_${t}") (mut ${t}) ${konst(t, true)})`));
  }
  if (has('extended-const')) {
    const c = (t) => `(${t}.${pick(['add', 'sub', 'mul'])} (${t}.const ${pick(I32_EDGE)}) ` +
      `(${t}.${pick(['add', 'sub', 'mul'])} (${t}.const ${pick(I32_EDGE)}) (${t}.const ${pick(I32_EDGE)})))`;
    head.push(`  (global $c_i32 i32 ${c('i32')})`, `  (global $c_i64 i64 ${c('i64')})`);
  }
  if (denan) {
    for (const t of ['f32', 'f64'])
      funcs.push(`  (func $denan_${t} (param ${t}) (result ${t}) ` +
        `(select (local.get 0) (${t}.const 0) (${t}.eq (local.get 0) (local.get 0))))`);
    // Lanes that are NaNs as f32 or as f64 become 0.
    funcs.push('  (func $denan_v128 (param v128) (result v128) (v128.and (v128.and (local.get 0) ' +
      '(f32x4.eq (local.get 0) (local.get 0))) (f64x2.eq (local.get 0) (local.get 0))))');
  }
  if (has('legacy-exceptions') || has('exceptions')) {
    head.push(...TYPES.map((t) => `  (tag $e_${t} (param ${t}))`));
    // Throws when its argument is 1 or 2 (an i32 or an f64 exception).
    funcs.push('  (func $thrower (param i32) (result i32)\n' +
      '    (if (i32.eq (local.get 0) (i32.const 1)) (then (throw $e_i32 (i32.const 11))))\n' +
      '    (if (i32.eq (local.get 0) (i32.const 2)) (then (throw $e_f64 (f64.const -2.5))))\n' +
      '    (local.get 0))');
  }
  if (useHelpers()) {
    const names = [];
    for (const t of TYPES) {
      for (const k of [0, 1]) {
        names.push(`$h_${t}_${k}`);
        funcs.push(`  (func $h_${t}_${k} (type $ft_${t}) ${locals[0]}\n    ${expr2(t, 2 + Math.floor(rand() * 3))})`);
      }
    }
    if (has('tail-call') || has('function-references')) head.push(`  (elem declare func ${names.join(' ')})`);
    if (has('tail-call')) {
      head.push(`  (table $tt 8 funcref)`, `  (elem (table $tt) (i32.const 0) func ${names.join(' ')})`);
      // A loop by tail recursion: constant stack however many times.
      funcs.push('  (func $count (param i32 i64) (result i64)\n' +
        '    (if (result i64) (i32.eqz (local.get 0)) (then (local.get 1))\n' +
        '      (else (return_call $count (i32.sub (local.get 0) (i32.const 1))\n' +
        '        (i64.add (i64.mul (local.get 1) (i64.const 3)) (i64.extend_i32_u (local.get 0)))))))');
    }
  }
  // Helpers' bodies use no calls (nothing recurses but $count).
  function expr2(t, depth) {
    const saved = features;
    features = [];
    try { return expr(t, depth); } finally { features = saved; }
  }
  // A function body in tail position: now and then a tail call.
  function body(t, depth) {
    if (has('tail-call') && chance(0.25)) {
      const r = rand();
      const call = r < 0.4 ? `(return_call $h_${t}_${pick([0, 1])} ${args4(depth - 1)})`
        : r < 0.7 ? `(return_call_indirect $tt (type $ft_${t}) ${args4(depth - 1)} (i32.and ${expr('i32', depth - 1)} (i32.const 15)))`
          : has('function-references') ? `(return_call_ref $ft_${t} ${args4(depth - 1)} ${funcref(t, depth - 1)})`
            : `(return_call $h_${t}_0 ${args4(depth - 1)})`;
      return chance(0.5) ? call : `(if (result ${t}) ${expr('i32', depth - 1)} (then ${call}) (else ${expr(t, depth - 1)}))`;
    }
    return expr(t, depth);
  }

  const n = 8 + Math.floor(rand() * 16);
  for (let i = 0; i < n; i++) {
    const t = pick(TYPES);
    const depth = 2 + Math.floor(rand() * 5);
    const text = body(t, depth);
    funcs.push(`  (func (export "e${i}") ${sig} (result ${t})\n` +
      `    ${localsFor(text).join(' ')}\n    ${text})`);
  }
  const bytes = () => Array.from({ length: 64 }, () => '\\' + Math.floor(rand() * 256).toString(16).padStart(2, '0')).join('');
  const data = bytes();
  if (!any3) return `(module\n  (memory (export "memory") 1 1)\n  (data (i32.const 0) "${data}")\n${funcs.join('\n')})\n`;
  const memText = mems.map((m) => `  (memory ${m.idx ? `(export "memory${m.idx}")` : '(export "memory")'} ` +
    `${m.is64 ? 'i64 ' : ''}1 1${m.idx === 0 && has('threads') ? ' shared' : ''})`);
  const off = (m) => {
    const t = m.is64 ? 'i64' : 'i32';
    return has('extended-const') ? `(${t}.add (${t}.const 16) (${t}.const -16))` : `(${t}.const 0)`;
  };
  const dataText = mems.map((m, k) => `  (data (memory ${m.idx}) ${off(m)} "${k ? bytes() : data}")`);
  return `(module\n${head.join('\n')}\n${memText.join('\n')}\n${dataText.join('\n')}\n${funcs.join('\n')})\n`;
}
