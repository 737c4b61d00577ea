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

export function genExpr(rand) {
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const chance = (p) => rand() < p;
  // Addresses: mostly in the first KiB, sometimes near or past the end.
  const addr = (depth) => {
    if (chance(0.9)) return `(i32.and ${expr('i32', depth)} (i32.const ${pick(['1023', '255', '7'])}))`;
    return `(i32.const ${pick(['65528', '65532', '65535', '65536', '-1'])})`;
  };
  const konst = (t) => {
    if (t === 'i32') return `(i32.const ${chance(0.8) ? pick(I32_EDGE) : Math.floor(rand() * 2 ** 32) - 2 ** 31})`;
    if (t === 'i64') return `(i64.const ${pick(I64_EDGE)})`;
    return `(${t}.const ${pick(t === 'f64' && chance(0.3) ? F64_EXTRA : F_EDGE)})`;
  };
  function expr(t, depth) {
    if (depth <= 0 || chance(0.15)) return chance(0.5) ? `(local.get ${PARAM[t]})` : konst(t);
    const d = depth - 1;
    const r = rand();
    const o = OPS[t];
    if (r < 0.35) return `(${t}.${pick(o.bin)} ${expr(t, d)} ${expr(t, d)})`;
    if (r < 0.5) return `(${t}.${pick(o.un)} ${expr(t, d)})`;
    if (r < 0.65) { const [op, from] = pick(o.conv); return `(${op} ${expr(from, d)})`; }
    if (r < 0.72 && t === 'i32') { const ct = pick(TYPES); return `(${ct}.${pick(CMP[ct])} ${expr(ct, d)} ${expr(ct, d)})`; }
    if (r < 0.78) return `(select ${expr(t, d)} ${expr(t, d)} ${expr('i32', d)})`;
    if (r < 0.84) return `(if (result ${t}) ${expr('i32', d)} (then ${expr(t, d)}) (else ${expr(t, d)}))`;
    if (r < 0.89) return `(${pick(o.loads)} offset=${pick(['0', '1', '3', '8'])} ${addr(d)})`;
    if (r < 0.93) {
      const s = pick(STORES[t]);
      return `(block (result ${t}) (local.set ${4 + PARAM[t]} ${expr(t, d)}) ` +
        `(${s} ${addr(d)} (local.get ${4 + PARAM[t]})) (local.get ${4 + PARAM[t]}))`;
    }
    if (r < 0.97) {
      // A value that leaves the block early when the condition holds.
      return `(block $b (result ${t}) (drop (br_if $b ${expr(t, d)} ${expr('i32', d)})) ${expr(t, d)})`;
    }
    return `(local.tee ${4 + PARAM[t]} ${expr(t, d)})`;
  }
  const funcs = [];
  const n = 8 + Math.floor(rand() * 16);
  for (let i = 0; i < n; i++) {
    const t = pick(TYPES);
    const depth = 2 + Math.floor(rand() * 5);
    funcs.push(`  (func (export "e${i}") (param i32 i64 f32 f64) (result ${t})\n` +
      `    (local i32 i64 f32 f64)\n    ${expr(t, depth)})`);
  }
  const data = Array.from({ length: 64 }, () => '\\' + Math.floor(rand() * 256).toString(16).padStart(2, '0')).join('');
  return `(module\n  (memory (export "memory") 1 1)\n  (data (i32.const 0) "${data}")\n${funcs.join('\n')})\n`;
}
