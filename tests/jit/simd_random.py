#!/usr/bin/env python3
"""Random chains of SIMD instructions, invoked with awkward inputs.

    simd_random.py SEED NFUNCS > FILE.wast

Writes a spec script of NFUNCS functions, each a random chain of 3-10 SIMD
instructions over three v128 parameters (the first may hold NaNs of every
kind; the others hold none), constants and an i32 shift count, ending in a
lane test,
and three `invoke` actions per function with inputs drawn from the edges
(NaN payloads, signalling NaNs, +-0, +-inf, integer limits). Run through
whirl-jit-diff (tests/jit/run), each action must give the same bits in the
interpreter and the LLVM tier. Float add/sub/mul/div always take one
NaN-free parameter: when both operands are NaNs, which payload survives is
the spec's free choice (and differs between the tiers). The same SEED gives
the same script.

    simd_random.py SEED NFUNCS relaxed > FILE.wast

mixes in the relaxed SIMD instructions (wast2json --enable-relaxed-simd;
wabt 1.0.32's names for the dot products); without it, the script is the
same as before they existed.
"""
import random
import sys

seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
nfuncs = int(sys.argv[2]) if len(sys.argv) > 2 else 200
rng = random.Random(seed)
relaxed = len(sys.argv) > 3 and sys.argv[3] == "relaxed"

RELAXED_VV = """i8x16.relaxed_swizzle f32x4.relaxed_min f32x4.relaxed_max f64x2.relaxed_min
f64x2.relaxed_max i16x8.relaxed_q15mulr_s i16x8.dot_i8x16_i7x16_s""".split()
RELAXED_V = """i32x4.relaxed_trunc_f32x4_s i32x4.relaxed_trunc_f32x4_u i32x4.relaxed_trunc_f64x2_s_zero
i32x4.relaxed_trunc_f64x2_u_zero""".split()
RELAXED_VVV = """i8x16.relaxed_laneselect i16x8.relaxed_laneselect i32x4.relaxed_laneselect
i64x2.relaxed_laneselect i32x4.dot_i8x16_i7x16_add_s""".split()
# a * b + c: as ARITH, b and c NaN-free.
RELAXED_MADD = "f32x4.relaxed_madd f32x4.relaxed_nmadd f64x2.relaxed_madd f64x2.relaxed_nmadd".split()

VV = """i8x16.swizzle i8x16.eq i8x16.ne i8x16.lt_s i8x16.lt_u i8x16.gt_s i8x16.gt_u i8x16.le_s i8x16.le_u
i8x16.ge_s i8x16.ge_u i16x8.eq i16x8.ne i16x8.lt_s i16x8.lt_u i16x8.gt_s i16x8.gt_u i16x8.le_s i16x8.le_u
i16x8.ge_s i16x8.ge_u i32x4.eq i32x4.ne i32x4.lt_s i32x4.lt_u i32x4.gt_s i32x4.gt_u i32x4.le_s i32x4.le_u
i32x4.ge_s i32x4.ge_u f32x4.eq f32x4.ne f32x4.lt f32x4.gt f32x4.le f32x4.ge f64x2.eq f64x2.ne f64x2.lt
f64x2.gt f64x2.le f64x2.ge v128.and v128.andnot v128.or v128.xor i8x16.narrow_i16x8_s i8x16.narrow_i16x8_u
i8x16.add i8x16.add_sat_s i8x16.add_sat_u i8x16.sub i8x16.sub_sat_s i8x16.sub_sat_u i8x16.min_s i8x16.min_u
i8x16.max_s i8x16.max_u i8x16.avgr_u i16x8.q15mulr_sat_s i16x8.narrow_i32x4_s i16x8.narrow_i32x4_u
i16x8.add i16x8.add_sat_s i16x8.add_sat_u i16x8.sub i16x8.sub_sat_s i16x8.sub_sat_u i16x8.mul i16x8.min_s
i16x8.min_u i16x8.max_s i16x8.max_u i16x8.avgr_u i16x8.extmul_low_i8x16_s i16x8.extmul_high_i8x16_s
i16x8.extmul_low_i8x16_u i16x8.extmul_high_i8x16_u i32x4.add i32x4.sub i32x4.mul i32x4.min_s i32x4.min_u
i32x4.max_s i32x4.max_u i32x4.dot_i16x8_s i32x4.extmul_low_i16x8_s i32x4.extmul_high_i16x8_s
i32x4.extmul_low_i16x8_u i32x4.extmul_high_i16x8_u i64x2.add i64x2.sub i64x2.mul i64x2.eq i64x2.ne
i64x2.lt_s i64x2.gt_s i64x2.le_s i64x2.ge_s i64x2.extmul_low_i32x4_s i64x2.extmul_high_i32x4_s
i64x2.extmul_low_i32x4_u i64x2.extmul_high_i32x4_u f32x4.min f32x4.max f32x4.pmin f32x4.pmax
f64x2.min f64x2.max f64x2.pmin f64x2.pmax""".split()
# Arithmetic whose NaN result depends on operand order when both are NaN:
# one operand always comes from a NaN-free parameter.
ARITH = "f32x4.add f32x4.sub f32x4.mul f32x4.div f64x2.add f64x2.sub f64x2.mul f64x2.div".split()
V = """v128.not f32x4.demote_f64x2_zero f64x2.promote_low_f32x4 i8x16.abs i8x16.neg i8x16.popcnt f32x4.ceil
f32x4.floor f32x4.trunc f32x4.nearest f64x2.ceil f64x2.floor f64x2.trunc f64x2.nearest
i16x8.extadd_pairwise_i8x16_s i16x8.extadd_pairwise_i8x16_u i32x4.extadd_pairwise_i16x8_s
i32x4.extadd_pairwise_i16x8_u i16x8.abs i16x8.neg i16x8.extend_low_i8x16_s i16x8.extend_high_i8x16_s
i16x8.extend_low_i8x16_u i16x8.extend_high_i8x16_u i32x4.abs i32x4.neg i32x4.extend_low_i16x8_s
i32x4.extend_high_i16x8_s i32x4.extend_low_i16x8_u i32x4.extend_high_i16x8_u i64x2.abs i64x2.neg
i64x2.extend_low_i32x4_s i64x2.extend_high_i32x4_s i64x2.extend_low_i32x4_u i64x2.extend_high_i32x4_u
f32x4.abs f32x4.neg f32x4.sqrt f64x2.abs f64x2.neg f64x2.sqrt i32x4.trunc_sat_f32x4_s
i32x4.trunc_sat_f32x4_u f32x4.convert_i32x4_s f32x4.convert_i32x4_u i32x4.trunc_sat_f64x2_s_zero
i32x4.trunc_sat_f64x2_u_zero f64x2.convert_low_i32x4_s f64x2.convert_low_i32x4_u""".split()
VI = [f"{s}.{o}" for s in ("i8x16", "i16x8", "i32x4", "i64x2") for o in ("shl", "shr_s", "shr_u")]
TEST = """v128.any_true i8x16.all_true i8x16.bitmask i16x8.all_true i16x8.bitmask i32x4.all_true
i32x4.bitmask i64x2.all_true i64x2.bitmask""".split()
LANES = {"i8x16": 16, "i16x8": 8, "i32x4": 4, "i64x2": 2, "f32x4": 4, "f64x2": 2}

F32 = [0x7fc00000, 0xffc00000, 0x7fa00000, 0xff800001, 0x7f800001, 0x7fffffff, 0x7f800000, 0xff800000,
       0, 0x80000000, 0x3f800000, 0xbf800000, 0x00000001, 0x807fffff, 0x4f000000, 0xcf000000,
       0x4f800000, 0x7f7fffff, 0x3f000000, 0x40200000, 0xc0600000, 0x4b000001, 0x5f000000]
F64_HI = [0x7ff80000, 0xfff80000, 0x7ff40000, 0x7ff00000, 0xfff00000, 0x00000000, 0x80000000, 0x3ff00000,
          0xbff00000, 0x41e00000, 0xc1e00000, 0x41f00000, 0x3fe00000, 0x43300000]
INTS = [0, 1, 0xff, 0x80, 0x7f, 0x8000, 0x7fff, 0xffff, 0x80000000, 0x7fffffff, 0xffffffff, 0x12345678]


def nanfree(bits):
    return (bits & 0x7f800000) != 0x7f800000 or (bits & 0x7fffff) == 0

def rand_v128(allow_nan):
    """A v128.const of edge values. NaN-free words are NaN-free seen as f32
    lanes, and so (their high words being no f32 NaN) as f64 lanes."""
    kind = rng.randrange(4)
    if kind == 0:
        words = [rng.choice(F32) for _ in range(4)]
    elif kind == 1:
        words = []
        for _ in range(2):
            words += [rng.choice([0, 1, 0x80000000, 0xffffffff]), rng.choice(F64_HI)]
    elif kind == 2:
        words = [rng.choice(INTS) for _ in range(4)]
    else:
        words = [rng.getrandbits(32) for _ in range(4)]
    if not allow_nan:
        words = [w if nanfree(w) else w & 0x3fffffff for w in words]
    return "(v128.const i32x4 " + " ".join(f"0x{w:08x}" for w in words) + ")"


def gen_func():
    # params: 0 the i32 shift count, 1 a v128 that may hold NaNs, 2-3 NaN-free
    body = []
    nlocals = 4
    vals = [1, 2, 3]
    def fresh(expr):
        nonlocal nlocals
        body.append(f"(local.set {nlocals} {expr})")
        vals.append(nlocals)
        nlocals += 1
    def operand():
        # Constants too: LLVM folds what it can, and must fold as the
        # interpreter computes.
        if rng.random() < 0.2:
            return rand_v128(True)
        return f"(local.get {rng.choice(vals)})"
    def safe_operand():
        return rand_v128(False) if rng.random() < 0.2 else f"(local.get {rng.choice([2, 3])})"
    for _ in range(rng.randrange(3, 10)):
        if relaxed and rng.random() < 0.4:
            k = rng.random()
            a, b = operand(), operand()
            if k < 0.35:
                fresh(f"({rng.choice(RELAXED_VV)} {a} {b})")
            elif k < 0.55:
                fresh(f"({rng.choice(RELAXED_V)} {a})")
            elif k < 0.8:
                fresh(f"({rng.choice(RELAXED_VVV)} {a} {b} {operand()})")
            else:
                fresh(f"({rng.choice(RELAXED_MADD)} {a} {safe_operand()} {safe_operand()})")
            continue
        r = rng.random()
        a, b = operand(), operand()
        if r < 0.35:
            fresh(f"({rng.choice(VV)} {a} {b})")
        elif r < 0.5:
            safe = rand_v128(False) if rng.random() < 0.2 else f"(local.get {rng.choice([2, 3])})"
            x, y = (a, safe) if rng.random() < 0.5 else (safe, a)
            fresh(f"({rng.choice(ARITH)} {x} {y})")
        elif r < 0.7:
            fresh(f"({rng.choice(V)} {a})")
        elif r < 0.78:
            fresh(f"({rng.choice(VI)} {a} (local.get 0))")
        elif r < 0.83:
            idx = " ".join(str(rng.randrange(32)) for _ in range(16))
            fresh(f"(i8x16.shuffle {idx} {a} {b})")
        elif r < 0.88:
            c = operand()
            fresh(f"(v128.bitselect {a} {b} {c})")
        elif r < 0.94:
            shape = rng.choice(list(LANES))
            lane = rng.randrange(LANES[shape])
            suffix = "_s" if shape in ("i8x16", "i16x8") else ""
            fresh(f"({shape}.replace_lane {lane} {a} ({shape}.extract_lane{suffix} {rng.randrange(LANES[shape])} {b}))")
        else:
            shape = rng.choice(list(LANES))
            suffix = "_u" if shape in ("i8x16", "i16x8") else ""
            fresh(f"({shape}.splat ({shape}.extract_lane{suffix} {rng.randrange(LANES[shape])} {a}))")
    t = rng.choice(TEST)
    fresh(f"(i32x4.replace_lane 0 (local.get {vals[-1]}) ({t} (local.get {rng.choice(vals)})))")
    return " ".join(body), nlocals - 4, vals[-1]

print(";; generated by tests/jit/simd_random.py, seed", seed)
print("(module")
for i in range(nfuncs):
    body, nl, ret = gen_func()
    print(f'  (func (export "f{i}") (param i32 v128 v128 v128) (result v128) (local' + " v128" * nl + ")")
    print(f"    {body}")
    print(f"    (local.get {ret}))")
print(")")
for i in range(nfuncs):
    for _ in range(3):
        args = " ".join([rand_v128(True), rand_v128(False), rand_v128(False)])
        print(f'(invoke "f{i}" (i32.const {rng.choice([0, 1, 7, 8, 15, 31, 33, 63, 64, 65, -1])}) {args})')
