/* Unit tests for the validator (src/wasm/validate.c).
 *
 * Each case is a module binary with an expected outcome: NULL for valid, else
 * a substring the error message must contain. The binaries were produced from
 * the WAT shown with `wat2wasm --no-check` (so invalid modules survive), or
 * written by hand where text cannot express the error; the common 8-byte
 * header is left out. Further tests build large modules programmatically
 * (deep nesting, huge operand stacks, many locals). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasm/module.h"
#include "whirl.h"

static int passed, failed;

static const uint8_t header[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

typedef struct test_case {
    const char *name;
    const char *expect; /* NULL: valid; else a substring of the error */
    const char *wat;    /* NULL for hand-written binaries */
    const char *bytes;  /* without the header */
    size_t len;
} test_case_t;

static const test_case_t cases[] = {
    /* Found by fuzz-validate under UBSan: a module with no table array of
     * its own (NULL) whose imported table is checked. */
    {"imported table, none defined", NULL, "(import \"test\" \"func\" (table 10 funcref))",
     "\x02\x0f\x01\x04test\x04" "func\x01\x70\x00\x0a", 17},
    {"numeric ok", NULL,
     "(func (result i32) i32.const 1 i32.const 2 i32.add)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x09\x01\x07\x00\x41\x01\x41\x02\x6a\x0b", 22},
    {"numeric operand mismatch", "type mismatch: expected i32, found i64",
     "(func (result i32) i32.const 1 i64.const 2 i32.add)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x09\x01\x07\x00\x41\x01\x42\x02\x6a\x0b", 22},
    {"conversion ok", NULL,
     "(func (result f64) i64.const 1 f64.convert_i64_s)",
     "\x01\x05\x01\x60\x00\x01\x7c\x03\x02\x01\x00\x0a\x07\x01\x05\x00\x42\x01\xb9\x0b", 20},
    {"conversion mismatch", "type mismatch",
     "(func (result f64) i32.const 1 f64.convert_i64_s)",
     "\x01\x05\x01\x60\x00\x01\x7c\x03\x02\x01\x00\x0a\x07\x01\x05\x00\x41\x01\xb9\x0b", 20},
    {"operand missing", "type mismatch: expected i32, found nothing",
     "(func (result i32) i32.const 1 i32.add)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x07\x01\x05\x00\x41\x01\x6a\x0b", 20},
    {"empty body with result", "type mismatch",
     "(func (result i32))",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x04\x01\x02\x00\x0b", 17},
    {"extra value at end", "type mismatch",
     "(func i32.const 1)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x41\x01\x0b", 18},
    {"wrong result type", "type mismatch: expected i32, found f64",
     "(func (result i32) f64.const 0)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0d\x01\x0b\x00\x44\x00\x00\x00\x00\x00\x00\x00"
     "\x00\x0b", 26},
    {"sat conversion ok", NULL,
     "(func (result i32) f32.const 1 i32.trunc_sat_f32_s)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0b\x01\x09\x00\x43\x00\x00\x80\x3f\xfc\x00\x0b", 24},
    {"sign extension ok", NULL,
     "(func (result i64) i64.const 1 i64.extend32_s)",
     "\x01\x05\x01\x60\x00\x01\x7e\x03\x02\x01\x00\x0a\x07\x01\x05\x00\x42\x01\xc4\x0b", 20},
    {"multi-value block", NULL,
     "(func (result i32 i64) (block (result i32 i64) i32.const 1 i64.const 2))",
     "\x01\x06\x01\x60\x00\x02\x7f\x7e\x03\x02\x01\x00\x0a\x0b\x01\x09\x00\x02\x00\x41\x01\x42\x02\x0b"
     "\x0b", 25},
    {"block with params", NULL,
     "(type $t (func (param i32) (result i32))) (func (result i32) i32.const 1 (block (type $t) i32.const 1 i32.add))",
     "\x01\x0a\x02\x60\x01\x7f\x01\x7f\x60\x00\x01\x7f\x03\x02\x01\x01\x0a\x0c\x01\x0a\x00\x41\x01\x02"
     "\x00\x41\x01\x6a\x0b\x0b", 30},
    {"block params missing", "type mismatch",
     "(type $t (func (param i32) (result i32))) (func (result i32) (block (type $t) i32.const 1 i32.add))",
     "\x01\x0a\x02\x60\x01\x7f\x01\x7f\x60\x00\x01\x7f\x03\x02\x01\x01\x0a\x0a\x01\x08\x00\x02\x00\x41"
     "\x01\x6a\x0b\x0b", 28},
    {"block cannot see outer operands", "type mismatch",
     "(func (result i32) i32.const 1 (block (result i32) i32.const 2 i32.add))",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0c\x01\x0a\x00\x41\x01\x02\x7f\x41\x02\x6a\x0b"
     "\x0b", 25},
    {"block result mismatch", "type mismatch",
     "(func (block (result i32) f32.const 0) drop)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0d\x01\x0b\x00\x02\x7f\x43\x00\x00\x00\x00\x0b\x1a"
     "\x0b", 25},
    {"loop with params", NULL,
     "(type $t (func (param i32))) (func i32.const 1 (loop (type $t) drop))",
     "\x01\x08\x02\x60\x01\x7f\x00\x60\x00\x00\x03\x02\x01\x01\x0a\x0a\x01\x08\x00\x41\x01\x03\x00\x1a"
     "\x0b\x0b", 26},
    {"br to loop takes params", NULL,
     "(type $t (func (param i32))) (func i32.const 1 (loop (type $t) i32.const 0 br_if 0 drop))",
     "\x01\x08\x02\x60\x01\x7f\x00\x60\x00\x00\x03\x02\x01\x01\x0a\x0e\x01\x0c\x00\x41\x01\x03\x00\x41"
     "\x00\x0d\x00\x1a\x0b\x0b", 30},
    {"br to loop param type", "type mismatch: expected i32, found f32",
     "(type $t (func (param i32))) (func i32.const 1 (loop (type $t) drop f32.const 0 i32.const 0 br_if 0 drop))",
     "\x01\x08\x02\x60\x01\x7f\x00\x60\x00\x00\x03\x02\x01\x01\x0a\x14\x01\x12\x00\x41\x01\x03\x00\x1a"
     "\x43\x00\x00\x00\x00\x41\x00\x0d\x00\x1a\x0b\x0b", 36},
    {"blocktype unknown type", "unknown type 5",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x07\x01\x05\x00\x02\x05\x0b\x0b", 19},
    {"blocktype malformed", "malformed",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x07\x01\x05\x00\x02\x60\x0b\x0b", 19},
    {"if/else ok", NULL,
     "(func (result i32) i32.const 1 (if (result i32) (then i32.const 2) (else i32.const 3)))",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0e\x01\x0c\x00\x41\x01\x04\x7f\x41\x02\x05\x41"
     "\x03\x0b\x0b", 27},
    {"if without else result", "type mismatch",
     "(func (result i32) i32.const 1 (if (result i32) (then i32.const 2)))",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0b\x01\x09\x00\x41\x01\x04\x7f\x41\x02\x0b\x0b", 24},
    {"if without else params=results", NULL,
     "(type $t (func (param i32) (result i32))) (func (param i32) (result i32) local.get 0 local.get 0 (if (type $t) (then i32.const 1 i32.add)))",
     "\x01\x06\x01\x60\x01\x7f\x01\x7f\x03\x02\x01\x00\x0a\x0e\x01\x0c\x00\x20\x00\x20\x00\x04\x00\x41"
     "\x01\x6a\x0b\x0b", 28},
    {"if condition missing", "type mismatch",
     "(func (if (then)))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x07\x01\x05\x00\x04\x40\x0b\x0b", 19},
    {"if condition type", "type mismatch",
     "(func i64.const 0 (if (then)))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x09\x01\x07\x00\x42\x00\x04\x40\x0b\x0b", 21},
    {"else branch mismatch", "type mismatch",
     "(func (result i32) i32.const 1 (if (result i32) (then i32.const 1) (else f32.const 0)))",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x11\x01\x0f\x00\x41\x01\x04\x7f\x41\x01\x05\x43"
     "\x00\x00\x00\x00\x0b\x0b", 30},
    {"then branch leaves extra", "type mismatch",
     "(func i32.const 1 (if (then i32.const 1)))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0b\x01\x09\x00\x41\x01\x04\x40\x41\x01\x0b\x0b", 23},
    {"else without if", "else",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x05\x01\x03\x00\x05\x0b", 17},
    {"missing final end", "END opcode expected",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x02\x40\x0b", 18},
    {"operators after final end", "after end of function",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x0b\x01\x0b", 18},
    {"illegal opcode", "illegal opcode",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x05\x01\x03\x00\xff\x0b", 17},
    {"illegal 0xfc opcode", "illegal opcode",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x06\x01\x04\x00\xfc\x40\x0b", 18},
    {"truncated immediate", "integer representation too long",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0a\x01\x08\x00\x41\x80\x80\x80\x80\x80\x0b", 22},
    {"unknown label", "unknown label 1",
     "(func br 1)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x0c\x01\x0b", 18},
    {"br arity", "type mismatch",
     "(func (block (result i32) br 0))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x09\x01\x07\x00\x02\x7f\x0c\x00\x0b\x0b", 21},
    {"br to function", NULL,
     "(func (result i32) i32.const 1 br 0)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x08\x01\x06\x00\x41\x01\x0c\x00\x0b", 21},
    {"br_if ok", NULL,
     "(func (result i32) (block (result i32) i32.const 1 i32.const 0 br_if 0))",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0d\x01\x0b\x00\x02\x7f\x41\x01\x41\x00\x0d\x00"
     "\x0b\x0b", 26},
    {"br_if condition", "type mismatch",
     "(func (block br_if 0))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x09\x01\x07\x00\x02\x40\x0d\x00\x0b\x0b", 21},
    {"br_if value type", "type mismatch",
     "(func (result i32) (block (result i32) f32.const 1 i32.const 0 br_if 0 drop i32.const 0))",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x13\x01\x11\x00\x02\x7f\x43\x00\x00\x80\x3f\x41"
     "\x00\x0d\x00\x1a\x41\x00\x0b\x0b", 32},
    {"br_table ok", NULL,
     "(func (param i32) (result i32) (block (result i32) (block (result i32) i32.const 1 local.get 0 br_table 0 1 1) i32.const 1 i32.add))",
     "\x01\x06\x01\x60\x01\x7f\x01\x7f\x03\x02\x01\x00\x0a\x16\x01\x14\x00\x02\x7f\x02\x7f\x41\x01\x20"
     "\x00\x0e\x02\x00\x01\x01\x0b\x41\x01\x6a\x0b\x0b", 36},
    {"br_table arity", "type mismatch",
     "(func (block (result i32) (block i32.const 0 br_table 0 1)) drop)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x11\x01\x0f\x00\x02\x7f\x02\x40\x41\x00\x0e\x01\x00"
     "\x01\x0b\x0b\x1a\x0b", 29},
    {"br_table target type", "type mismatch",
     "(func (result i32) (block (result f32) (block (result i32) i32.const 1 i32.const 0 br_table 0 1)) drop i32.const 0)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x15\x01\x13\x00\x02\x7d\x02\x7f\x41\x01\x41\x00"
     "\x0e\x01\x00\x01\x0b\x0b\x1a\x41\x00\x0b", 34},
    {"br_table unknown label", "unknown label",
     "(func (block i32.const 0 br_table 0 3))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0d\x01\x0b\x00\x02\x40\x41\x00\x0e\x01\x00\x03\x0b"
     "\x0b", 25},
    {"br_table unknown target", "unknown label",
     "(func (block i32.const 0 br_table 3 0))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0d\x01\x0b\x00\x02\x40\x41\x00\x0e\x01\x03\x00\x0b"
     "\x0b", 25},
    {"br_table polymorphic", NULL,
     "(func (block (result f32) (block (result i32) unreachable br_table 0 1) drop f32.const 0) drop)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x16\x01\x14\x00\x02\x7d\x02\x7f\x00\x0e\x01\x00\x01"
     "\x0b\x1a\x43\x00\x00\x00\x00\x0b\x1a\x0b", 34},
    {"br_table no index", "type mismatch",
     "(func (block br_table 0))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0a\x01\x08\x00\x02\x40\x0e\x00\x00\x0b\x0b", 22},
    {"return ok", NULL,
     "(func (result i32) (block i32.const 1 return) i32.const 2)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0c\x01\x0a\x00\x02\x40\x41\x01\x0f\x0b\x41\x02"
     "\x0b", 25},
    {"return leaves block unreachable only", "type mismatch",
     "(func (result i32) (block i32.const 1 return))",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0a\x01\x08\x00\x02\x40\x41\x01\x0f\x0b\x0b", 23},
    {"return type", "type mismatch",
     "(func (result i32) f32.const 0 return)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0a\x01\x08\x00\x43\x00\x00\x00\x00\x0f\x0b", 23},
    {"unreachable polymorphic", NULL,
     "(func (result i32) unreachable i32.add)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x00\x6a\x0b", 19},
    {"unreachable still typed", "type mismatch",
     "(func (result i32) unreachable i64.const 0 i32.add)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x08\x01\x06\x00\x00\x42\x00\x6a\x0b", 21},
    {"unreachable then extra", "type mismatch",
     "(func unreachable i32.const 0)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x07\x01\x05\x00\x00\x41\x00\x0b", 19},
    {"after br polymorphic", NULL,
     "(func (result i32) (block (result i32) i32.const 0 br 0 select))",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0c\x01\x0a\x00\x02\x7f\x41\x00\x0c\x00\x1b\x0b"
     "\x0b", 25},
    {"unreachable scoped to block", "type mismatch",
     "(func (result i32) (block unreachable) i32.add)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x09\x01\x07\x00\x02\x40\x00\x0b\x6a\x0b", 22},
    {"call ok", NULL,
     "(func $f (param i32) (result i64) i64.const 0) (func (result i64) i32.const 1 call $f)",
     "\x01\x0a\x02\x60\x01\x7f\x01\x7e\x60\x00\x01\x7e\x03\x03\x02\x00\x01\x0a\x0d\x02\x04\x00\x42\x00"
     "\x0b\x06\x00\x41\x01\x10\x00\x0b", 32},
    {"call unknown", "unknown function 7",
     "(func call 7)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x10\x07\x0b", 18},
    {"call arg mismatch", "type mismatch",
     "(func $f (param i32)) (func f32.const 0 call $f)",
     "\x01\x08\x02\x60\x01\x7f\x00\x60\x00\x00\x03\x03\x02\x00\x01\x0a\x0e\x02\x02\x00\x0b\x09\x00\x43"
     "\x00\x00\x00\x00\x10\x00\x0b", 31},
    {"call imported", NULL,
     "(import \"m\" \"f\" (func $f (param i32))) (func i32.const 0 call $f)",
     "\x01\x08\x02\x60\x01\x7f\x00\x60\x00\x00\x02\x07\x01\x01\x6d\x01\x66\x00\x00\x03\x02\x01\x01\x0a"
     "\x08\x01\x06\x00\x41\x00\x10\x00\x0b", 33},
    {"call_indirect ok", NULL,
     "(type $t (func (param i32) (result i32))) (table 1 funcref) (func (result i32) i32.const 1 i32.const 0 call_indirect (type $t))",
     "\x01\x0a\x02\x60\x01\x7f\x01\x7f\x60\x00\x01\x7f\x03\x02\x01\x01\x04\x04\x01\x70\x00\x01\x0a\x0b"
     "\x01\x09\x00\x41\x01\x41\x00\x11\x00\x00\x0b", 35},
    {"call_indirect no table", "unknown table 0",
     "(type $t (func)) (func i32.const 0 call_indirect (type $t))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x09\x01\x07\x00\x41\x00\x11\x00\x00\x0b", 21},
    {"call_indirect externref table", "type mismatch",
     "(type $t (func)) (table 1 externref) (func i32.const 0 call_indirect 0 (type $t))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x04\x04\x01\x6f\x00\x01\x0a\x09\x01\x07\x00\x41\x00\x11"
     "\x00\x00\x0b", 27},
    {"call_indirect unknown type", "unknown type 9",
     "(table 1 funcref) (func i32.const 0 call_indirect (type 9))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x04\x04\x01\x70\x00\x01\x0a\x09\x01\x07\x00\x41\x00\x11"
     "\x09\x00\x0b", 27},
    {"call_indirect index type", "type mismatch",
     "(type $t (func)) (table 1 funcref) (func i64.const 0 call_indirect (type $t))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x04\x04\x01\x70\x00\x01\x0a\x09\x01\x07\x00\x42\x00\x11"
     "\x00\x00\x0b", 27},
    {"select ok", NULL,
     "(func (result f64) f64.const 1 f64.const 2 i32.const 0 select)",
     "\x01\x05\x01\x60\x00\x01\x7c\x03\x02\x01\x00\x0a\x19\x01\x17\x00\x44\x00\x00\x00\x00\x00\x00\xf0"
     "\x3f\x44\x00\x00\x00\x00\x00\x00\x00\x40\x41\x00\x1b\x0b", 38},
    {"select operand mismatch", "type mismatch",
     "(func (result i32) i32.const 1 i64.const 2 i32.const 0 select)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0b\x01\x09\x00\x41\x01\x42\x02\x41\x00\x1b\x0b", 24},
    {"select untyped ref", "type mismatch",
     "(func (param externref) local.get 0 local.get 0 i32.const 1 select drop)",
     "\x01\x05\x01\x60\x01\x6f\x00\x03\x02\x01\x00\x0a\x0c\x01\x0a\x00\x20\x00\x20\x00\x41\x01\x1b\x1a"
     "\x0b", 25},
    {"select typed ref", NULL,
     "(func (param externref) (result externref) local.get 0 local.get 0 i32.const 1 select (result externref))",
     "\x01\x06\x01\x60\x01\x6f\x01\x6f\x03\x02\x01\x00\x0a\x0d\x01\x0b\x00\x20\x00\x20\x00\x41\x01\x1c"
     "\x01\x6f\x0b", 27},
    {"select typed arity 2", "invalid result arity",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x14\x01\x12\x00\x41\x00\x41\x00\x41\x00\x41\x00\x41"
     "\x00\x1c\x02\x7f\x7f\x1a\x1a\x0b", 32},
    {"select typed arity 0", "invalid result arity",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0c\x01\x0a\x00\x41\x00\x41\x00\x41\x00\x1c\x00\x0b", 24},
    {"select unreachable", NULL,
     "(func (result i32) unreachable select)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x00\x1b\x0b", 19},
    {"select unreachable ref", "type mismatch: select without type annotation on funcref",
     "(func (param funcref) (result funcref) unreachable local.get 0 i32.const 1 select)",
     "\x01\x06\x01\x60\x01\x70\x01\x70\x03\x02\x01\x00\x0a\x0a\x01\x08\x00\x00\x20\x00\x41\x01\x1b\x0b", 24},
    {"drop empty", "type mismatch",
     "(func drop)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x05\x01\x03\x00\x1a\x0b", 17},
    {"locals runs", NULL,
     "(func (param i32) (result f64) (local i64 i64 f32) (local f64) local.get 4)",
     "\x01\x06\x01\x60\x01\x7f\x01\x7c\x03\x02\x01\x00\x0a\x0c\x01\x0a\x03\x02\x7e\x01\x7d\x01\x7c\x20"
     "\x04\x0b", 26},
    {"local wrong type", "type mismatch",
     "(func (param i32) (result f32) (local i64 f32) local.get 1)",
     "\x01\x06\x01\x60\x01\x7f\x01\x7d\x03\x02\x01\x00\x0a\x0a\x01\x08\x02\x01\x7e\x01\x7d\x20\x01\x0b", 24},
    {"unknown local", "unknown local 2",
     "(func (param i32) (local i64) local.get 2 drop)",
     "\x01\x05\x01\x60\x01\x7f\x00\x03\x02\x01\x00\x0a\x09\x01\x07\x01\x01\x7e\x20\x02\x1a\x0b", 22},
    {"local.set type", "type mismatch",
     "(func (local i32) f32.const 0 local.set 0)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0d\x01\x0b\x01\x01\x7f\x43\x00\x00\x00\x00\x21\x00"
     "\x0b", 25},
    {"local.tee ok", NULL,
     "(func (result i32) (local i32) i32.const 1 local.tee 0)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x0a\x01\x08\x01\x01\x7f\x41\x01\x22\x00\x0b", 23},
    {"global.get ok", NULL,
     "(import \"m\" \"g\" (global i64)) (global f32 (f32.const 0)) (func (result f32) global.get 1)",
     "\x01\x05\x01\x60\x00\x01\x7d\x02\x08\x01\x01\x6d\x01\x67\x03\x7e\x00\x03\x02\x01\x00\x06\x09\x01"
     "\x7d\x00\x43\x00\x00\x00\x00\x0b\x0a\x06\x01\x04\x00\x23\x01\x0b", 40},
    {"unknown global", "unknown global 1",
     "(global i32 (i32.const 0)) (func global.get 1 drop)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x06\x06\x01\x7f\x00\x41\x00\x0b\x0a\x07\x01\x05\x00\x23"
     "\x01\x1a\x0b", 27},
    {"global is immutable", "global is immutable",
     "(global i32 (i32.const 0)) (func i32.const 1 global.set 0)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x06\x06\x01\x7f\x00\x41\x00\x0b\x0a\x08\x01\x06\x00\x41"
     "\x01\x24\x00\x0b", 28},
    {"global.set mutable", NULL,
     "(global (mut i32) (i32.const 0)) (func i32.const 1 global.set 0)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x06\x06\x01\x7f\x01\x41\x00\x0b\x0a\x08\x01\x06\x00\x41"
     "\x01\x24\x00\x0b", 28},
    {"global.set type", "type mismatch",
     "(global (mut i32) (i32.const 0)) (func i64.const 1 global.set 0)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x06\x06\x01\x7f\x01\x41\x00\x0b\x0a\x08\x01\x06\x00\x42"
     "\x01\x24\x00\x0b", 28},
    {"load ok", NULL,
     "(memory 1) (func (result i64) i32.const 0 i64.load offset=8 align=8)",
     "\x01\x05\x01\x60\x00\x01\x7e\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0a\x09\x01\x07\x00\x41\x00\x29"
     "\x03\x08\x0b", 27},
    {"load no memory", "unknown memory 0",
     "(func i32.const 0 i32.load drop)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0a\x01\x08\x00\x41\x00\x28\x02\x00\x1a\x0b", 22},
    {"load alignment", "alignment must not be larger than natural",
     "(memory 1) (func i32.const 0 i32.load align=8 drop)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0a\x0a\x01\x08\x00\x41\x00\x28\x03"
     "\x00\x1a\x0b", 27},
    {"load8 alignment", "alignment must not be larger than natural",
     "(memory 1) (func i32.const 0 i32.load8_u align=2 drop)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0a\x0a\x01\x08\x00\x41\x00\x2d\x01"
     "\x00\x1a\x0b", 27},
    {"store ok", NULL,
     "(memory 1) (func i32.const 0 f64.const 1 f64.store align=4)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0a\x12\x01\x10\x00\x41\x00\x44\x00"
     "\x00\x00\x00\x00\x00\xf0\x3f\x39\x02\x00\x0b", 35},
    {"store value type", "type mismatch",
     "(memory 1) (func i32.const 0 f32.const 1 f64.store)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0a\x0e\x01\x0c\x00\x41\x00\x43\x00"
     "\x00\x80\x3f\x39\x03\x00\x0b", 31},
    {"store address type", "type mismatch",
     "(memory 1) (func i64.const 0 i32.const 1 i32.store)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0a\x0b\x01\x09\x00\x42\x00\x41\x01"
     "\x36\x02\x00\x0b", 28},
    {"memory.size/grow ok", NULL,
     "(memory 1) (func (result i32) memory.size memory.grow)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0a\x08\x01\x06\x00\x3f\x00\x40"
     "\x00\x0b", 26},
    {"memory.grow no memory", "unknown memory",
     "(func (result i32) i32.const 1 memory.grow)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x08\x01\x06\x00\x41\x01\x40\x00\x0b", 21},
    {"memory.size zero byte", "zero byte expected",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0a\x07\x01\x05\x00\x3f\x01\x1a\x0b", 24},
    {"memory.fill/copy ok", NULL,
     "(memory 1) (func i32.const 0 i32.const 0 i32.const 0 memory.fill i32.const 0 i32.const 0 i32.const 0 memory.copy)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0a\x17\x01\x15\x00\x41\x00\x41\x00"
     "\x41\x00\xfc\x0b\x00\x41\x00\x41\x00\x41\x00\xfc\x0a\x00\x00\x0b", 40},
    {"memory.fill type", "type mismatch",
     "(memory 1) (func i32.const 0 i64.const 0 i32.const 0 memory.fill)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0a\x0d\x01\x0b\x00\x41\x00\x42\x00"
     "\x41\x00\xfc\x0b\x00\x0b", 30},
    {"memory.copy no memory", "unknown memory 0",
     "(func i32.const 0 i32.const 0 i32.const 0 memory.copy)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x0e\x01\x0c\x00\x41\x00\x41\x00\x41\x00\xfc\x0a\x00"
     "\x00\x0b", 26},
    {"memory.init ok", NULL,
     "(memory 1) (data \"abc\") (func i32.const 0 i32.const 0 i32.const 1 memory.init 0 data.drop 0)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0c\x01\x01\x0a\x11\x01\x0f\x00\x41"
     "\x00\x41\x00\x41\x01\xfc\x08\x00\x00\xfc\x09\x00\x0b\x0b\x06\x01\x01\x03\x61\x62\x63", 45},
    {"data.drop unknown segment", "unknown data segment 1",
     "(memory 1) (data \"abc\") (func data.drop 1)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0c\x01\x01\x0a\x07\x01\x05\x00\xfc"
     "\x09\x01\x0b\x0b\x06\x01\x01\x03\x61\x62\x63", 35},
    {"memory.init unknown segment", "unknown data segment 2",
     "(memory 1) (data \"abc\") (func i32.const 0 i32.const 0 i32.const 1 memory.init 2)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0c\x01\x01\x0a\x0e\x01\x0c\x00\x41"
     "\x00\x41\x00\x41\x01\xfc\x08\x02\x00\x0b\x0b\x06\x01\x01\x03\x61\x62\x63", 42},
    {"data.drop without datacount", "data count section required",
     "(memory 1) (func data.drop 0)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x05\x03\x01\x00\x01\x0a\x07\x01\x05\x00\xfc\x09\x00\x0b", 24},
    {"table ops ok", NULL,
     "(table $t 1 funcref) (table $e 1 externref) (elem $s funcref (ref.func 0)) (func (param externref) (result i32) i32.const 0 table.get $t drop i32.const 0 local.get 0 table.set $e ref.null func i32.const 1 table.grow $t drop i32.const 0 ref.null extern i32.const 1 table.fill $e i32.const 0 i32.const 0 i32.const 0 table.copy $t $t i32.const 0 i32.const 0 i32.const 0 table.init $t $s elem.drop $s table.size $e)",
     "\x01\x06\x01\x60\x01\x6f\x01\x7f\x03\x02\x01\x00\x04\x07\x02\x70\x00\x01\x6f\x00\x01\x09\x05\x01"
     "\x01\x00\x01\x00\x0a\x3a\x01\x38\x00\x41\x00\x25\x00\x1a\x41\x00\x20\x00\x26\x01\xd0\x70\x41\x01"
     "\xfc\x0f\x00\x1a\x41\x00\xd0\x6f\x41\x01\xfc\x11\x01\x41\x00\x41\x00\x41\x00\xfc\x0e\x00\x00\x41"
     "\x00\x41\x00\x41\x00\xfc\x0c\x00\x00\xfc\x0d\x00\xfc\x10\x01\x0b", 88},
    {"table.get unknown table", "unknown table 0",
     "(func i32.const 0 table.get 0 drop)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x09\x01\x07\x00\x41\x00\x25\x00\x1a\x0b", 21},
    {"table.set value type", "type mismatch",
     "(table 1 funcref) (func (param externref) i32.const 0 local.get 0 table.set 0)",
     "\x01\x05\x01\x60\x01\x6f\x00\x03\x02\x01\x00\x04\x04\x01\x70\x00\x01\x0a\x0a\x01\x08\x00\x41\x00"
     "\x20\x00\x26\x00\x0b", 29},
    {"table.size unknown table", "unknown table 1",
     "(table 1 funcref) (func table.size 1 drop)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x04\x04\x01\x70\x00\x01\x0a\x08\x01\x06\x00\xfc\x10\x01"
     "\x1a\x0b", 26},
    {"table.grow type", "type mismatch",
     "(table 1 externref) (func ref.null func i32.const 1 table.grow 0 drop)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x04\x04\x01\x6f\x00\x01\x0a\x0c\x01\x0a\x00\xd0\x70\x41"
     "\x01\xfc\x0f\x00\x1a\x0b", 30},
    {"table.fill type", "type mismatch",
     "(table 1 externref) (func i32.const 0 ref.null func i32.const 1 table.fill 0)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x04\x04\x01\x6f\x00\x01\x0a\x0d\x01\x0b\x00\x41\x00\xd0"
     "\x70\x41\x01\xfc\x11\x00\x0b", 31},
    {"table.copy types differ", "type mismatch",
     "(table $a 1 funcref) (table $b 1 externref) (func i32.const 0 i32.const 0 i32.const 0 table.copy $a $b)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x04\x07\x02\x70\x00\x01\x6f\x00\x01\x0a\x0e\x01\x0c\x00"
     "\x41\x00\x41\x00\x41\x00\xfc\x0e\x00\x01\x0b", 35},
    {"table.copy unknown table", "unknown table 2",
     "(table 1 funcref) (func i32.const 0 i32.const 0 i32.const 0 table.copy 0 2)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x04\x04\x01\x70\x00\x01\x0a\x0e\x01\x0c\x00\x41\x00\x41"
     "\x00\x41\x00\xfc\x0e\x00\x02\x0b", 32},
    {"table.init elem type", "type mismatch",
     "(table 1 funcref) (elem externref (ref.null extern)) (func i32.const 0 i32.const 0 i32.const 0 table.init 0 0)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x04\x04\x01\x70\x00\x01\x09\x07\x01\x05\x6f\x01\xd0\x6f"
     "\x0b\x0a\x0e\x01\x0c\x00\x41\x00\x41\x00\x41\x00\xfc\x0c\x00\x00\x0b", 41},
    {"table.init unknown elem", "unknown elem segment 3",
     "(table 1 funcref) (func i32.const 0 i32.const 0 i32.const 0 table.init 0 3)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x04\x04\x01\x70\x00\x01\x0a\x0e\x01\x0c\x00\x41\x00\x41"
     "\x00\x41\x00\xfc\x0c\x03\x00\x0b", 32},
    {"elem.drop unknown", "unknown elem segment 0",
     "(func elem.drop 0)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x0a\x07\x01\x05\x00\xfc\x0d\x00\x0b", 19},
    {"ref.null ok", NULL,
     "(func (result externref) ref.null extern)",
     "\x01\x05\x01\x60\x00\x01\x6f\x03\x02\x01\x00\x0a\x06\x01\x04\x00\xd0\x6f\x0b", 19},
    {"ref.null type", "type mismatch",
     "(func (result externref) ref.null func)",
     "\x01\x05\x01\x60\x00\x01\x6f\x03\x02\x01\x00\x0a\x06\x01\x04\x00\xd0\x70\x0b", 19},
    {"ref.is_null ok", NULL,
     "(func (result i32) ref.null func ref.is_null)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x07\x01\x05\x00\xd0\x70\xd1\x0b", 20},
    {"ref.is_null on number", "type mismatch",
     "(func (result i32) i32.const 0 ref.is_null)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x07\x01\x05\x00\x41\x00\xd1\x0b", 20},
    {"ref.is_null unreachable", NULL,
     "(func (result i32) unreachable ref.is_null)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x0a\x06\x01\x04\x00\x00\xd1\x0b", 19},
    {"ref.func declared by elem", NULL,
     "(func $f) (elem declare func $f) (func (result funcref) ref.func $f)",
     "\x01\x08\x02\x60\x00\x00\x60\x00\x01\x70\x03\x03\x02\x00\x01\x09\x05\x01\x03\x00\x01\x00\x0a\x09"
     "\x02\x02\x00\x0b\x04\x00\xd2\x00\x0b", 33},
    {"ref.func declared by export", NULL,
     "(func $f (export \"f\")) (func (result funcref) ref.func $f)",
     "\x01\x08\x02\x60\x00\x00\x60\x00\x01\x70\x03\x03\x02\x00\x01\x07\x05\x01\x01\x66\x00\x00\x0a\x09"
     "\x02\x02\x00\x0b\x04\x00\xd2\x00\x0b", 33},
    {"ref.func declared by global", NULL,
     "(func $f) (global funcref (ref.func $f)) (func (result funcref) ref.func $f)",
     "\x01\x08\x02\x60\x00\x00\x60\x00\x01\x70\x03\x03\x02\x00\x01\x06\x06\x01\x70\x00\xd2\x00\x0b\x0a"
     "\x09\x02\x02\x00\x0b\x04\x00\xd2\x00\x0b", 34},
    {"ref.func undeclared", "undeclared function reference",
     "(func $f) (func (result funcref) ref.func $f)",
     "\x01\x08\x02\x60\x00\x00\x60\x00\x01\x70\x03\x03\x02\x00\x01\x0a\x09\x02\x02\x00\x0b\x04\x00\xd2"
     "\x00\x0b", 26},
    {"ref.func unknown", "unknown function 9",
     "(func (result funcref) ref.func 9)",
     "\x01\x05\x01\x60\x00\x01\x70\x03\x02\x01\x00\x0a\x06\x01\x04\x00\xd2\x09\x0b", 19},
    {"func unknown type", "unknown type 3",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x03\x0a\x04\x01\x02\x00\x0b", 16},
    {"import unknown type", "unknown type 4",
     NULL,
     "\x01\x04\x01\x60\x00\x00\x02\x07\x01\x01\x6d\x01\x66\x00\x04", 15},
    {"table min > max", "size minimum must not be greater than maximum",
     "(table 2 1 funcref)",
     "\x04\x05\x01\x70\x01\x02\x01", 7},
    {"memory min > max", "size minimum must not be greater than maximum",
     "(memory 2 1)",
     "\x05\x04\x01\x01\x02\x01", 6},
    {"memory too large", "memory size must be at most 65536 pages (4GiB)",
     "(memory 65537)",
     "\x05\x05\x01\x00\x81\x80\x04", 7},
    {"memory max too large", "memory size must be at most 65536 pages (4GiB)",
     "(memory 0 65537)",
     "\x05\x06\x01\x01\x00\x81\x80\x04", 8},
    {"memory 65536 ok", NULL,
     "(memory 65536 65536)",
     "\x05\x08\x01\x01\x80\x80\x04\x80\x80\x04", 10},
    {"multiple memories", "multiple memories",
     "(import \"m\" \"mem\" (memory 1)) (memory 1)",
     "\x02\x0a\x01\x01\x6d\x03\x6d\x65\x6d\x02\x00\x01\x05\x03\x01\x00\x01", 17},
    {"multiple tables ok", NULL,
     "(table 1 funcref) (table 1 externref)",
     "\x04\x07\x02\x70\x00\x01\x6f\x00\x01", 9},
    {"global init type", "type mismatch",
     "(global i32 (i64.const 0))",
     "\x06\x06\x01\x7f\x00\x42\x00\x0b", 8},
    {"global init empty", "type mismatch",
     "(global i32)",
     "\x06\x04\x01\x7f\x00\x0b", 6},
    {"global init two values", "type mismatch",
     "(global i32 (i32.const 0) (i32.const 1))",
     "\x06\x08\x01\x7f\x00\x41\x00\x41\x01\x0b", 10},
    {"global init not constant", "constant expression required",
     "(global i32 (i32.add (i32.const 0) (i32.const 1)))",
     "\x06\x09\x01\x7f\x00\x41\x00\x41\x01\x6a\x0b", 11},
    {"global init imported const", NULL,
     "(import \"m\" \"g\" (global i32)) (global i32 (global.get 0))",
     "\x02\x08\x01\x01\x6d\x01\x67\x03\x7f\x00\x06\x06\x01\x7f\x00\x23\x00\x0b", 18},
    {"global init imported mutable", "constant expression required",
     "(import \"m\" \"g\" (global (mut i32))) (global i32 (global.get 0))",
     "\x02\x08\x01\x01\x6d\x01\x67\x03\x7f\x01\x06\x06\x01\x7f\x00\x23\x00\x0b", 18},
    {"global init defined global", "unknown global 0",
     "(global i32 (i32.const 0)) (global i32 (global.get 0))",
     "\x06\x0b\x02\x7f\x00\x41\x00\x0b\x7f\x00\x23\x00\x0b", 13},
    {"global init ref.func", NULL,
     "(func $f) (global funcref (ref.func $f))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x06\x06\x01\x70\x00\xd2\x00\x0b\x0a\x04\x01\x02\x00\x0b", 24},
    {"global init ref.func unknown", "unknown function 3",
     "(global funcref (ref.func 3))",
     "\x06\x06\x01\x70\x00\xd2\x03\x0b", 8},
    {"global init ref.null type", "type mismatch",
     "(global funcref (ref.null extern))",
     "\x06\x06\x01\x70\x00\xd0\x6f\x0b", 8},
    {"duplicate export", "duplicate export name",
     "(func (export \"a\")) (global (export \"a\") i32 (i32.const 0))",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x06\x06\x01\x7f\x00\x41\x00\x0b\x07\x09\x02\x01\x61\x00"
     "\x00\x01\x61\x03\x00\x0a\x04\x01\x02\x00\x0b", 35},
    {"distinct exports", NULL,
     "(func (export \"a\")) (func (export \"b\")) (memory (export \"ab\") 1)",
     "\x01\x04\x01\x60\x00\x00\x03\x03\x02\x00\x00\x05\x03\x01\x00\x01\x07\x0e\x03\x01\x61\x00\x00\x01"
     "\x62\x00\x01\x02\x61\x62\x02\x00\x0a\x07\x02\x02\x00\x0b\x02\x00\x0b", 41},
    {"export unknown func", "unknown function 4",
     "(export \"f\" (func 4))",
     "\x07\x05\x01\x01\x66\x00\x04", 7},
    {"export unknown global", "unknown global 0",
     "(export \"g\" (global 0))",
     "\x07\x05\x01\x01\x67\x03\x00", 7},
    {"export unknown memory", "unknown memory 0",
     "(export \"m\" (memory 0))",
     "\x07\x05\x01\x01\x6d\x02\x00", 7},
    {"export unknown table", "unknown table 1",
     "(export \"t\" (table 1)) (table 1 funcref)",
     "\x04\x04\x01\x70\x00\x01\x07\x05\x01\x01\x74\x01\x01", 13},
    {"start ok", NULL,
     "(func $s) (start $s)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x08\x01\x00\x0a\x04\x01\x02\x00\x0b", 19},
    {"start unknown", "unknown function 5",
     "(start 5)",
     "\x08\x01\x05", 3},
    {"start signature", "start function",
     "(func $s (param i32)) (start $s)",
     "\x01\x05\x01\x60\x01\x7f\x00\x03\x02\x01\x00\x08\x01\x00\x0a\x04\x01\x02\x00\x0b", 20},
    {"start result", "start function",
     "(func $s (result i32) i32.const 0) (start $s)",
     "\x01\x05\x01\x60\x00\x01\x7f\x03\x02\x01\x00\x08\x01\x00\x0a\x06\x01\x04\x00\x41\x00\x0b", 22},
    {"elem ok", NULL,
     "(table 2 funcref) (func $f) (elem (i32.const 0) $f $f)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x04\x04\x01\x70\x00\x02\x09\x08\x01\x00\x41\x00\x0b\x02"
     "\x00\x00\x0a\x04\x01\x02\x00\x0b", 32},
    {"elem unknown table", "unknown table 0",
     "(func $f) (elem (i32.const 0) $f)",
     "\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00\x09\x07\x01\x00\x41\x00\x0b\x01\x00\x0a\x04\x01\x02\x00"
     "\x0b", 25},
    {"elem table type", "type mismatch",
     "(table 1 externref) (elem (table 0) (i32.const 0) funcref (ref.null func))",
     "\x04\x04\x01\x6f\x00\x01\x09\x09\x01\x04\x41\x00\x0b\x01\xd0\x70\x0b", 17},
    {"elem item type", "type mismatch",
     "(elem funcref (ref.null extern))",
     "\x09\x07\x01\x05\x70\x01\xd0\x6f\x0b", 9},
    {"elem item not constant", "constant expression required",
     "(elem funcref (item i32.const 0 drop ref.null func))",
     "\x09\x0a\x01\x05\x70\x01\x41\x00\x1a\xd0\x70\x0b", 12},
    {"elem offset type", "type mismatch",
     "(table 1 funcref) (elem (i64.const 0) func)",
     "\x04\x04\x01\x70\x00\x01\x09\x06\x01\x00\x42\x00\x0b\x00", 14},
    {"elem item unknown func", "unknown function 3",
     "(table 1 funcref) (elem (i32.const 0) func 3)",
     "\x04\x04\x01\x70\x00\x01\x09\x07\x01\x00\x41\x00\x0b\x01\x03", 15},
    {"data ok", NULL,
     "(memory 1) (data (i32.const 0) \"ab\")",
     "\x05\x03\x01\x00\x01\x0b\x08\x01\x00\x41\x00\x0b\x02\x61\x62", 15},
    {"data unknown memory", "unknown memory 0",
     "(data (i32.const 0) \"ab\")",
     "\x0b\x08\x01\x00\x41\x00\x0b\x02\x61\x62", 10},
    {"data offset type", "type mismatch",
     "(memory 1) (data (f32.const 0) \"ab\")",
     "\x05\x03\x01\x00\x01\x0b\x0b\x01\x00\x43\x00\x00\x00\x00\x0b\x02\x61\x62", 18},
    {"data offset imported global", NULL,
     "(import \"m\" \"g\" (global i32)) (memory 1) (data (global.get 0) \"ab\")",
     "\x02\x08\x01\x01\x6d\x01\x67\x03\x7f\x00\x05\x03\x01\x00\x01\x0b\x08\x01\x00\x23\x00\x0b\x02\x61"
     "\x62", 25},
    {"data offset defined global", "unknown global 0",
     "(global i32 (i32.const 0)) (memory 1) (data (global.get 0) \"ab\")",
     "\x05\x03\x01\x00\x01\x06\x06\x01\x7f\x00\x41\x00\x0b\x0b\x08\x01\x00\x23\x00\x0b\x02\x61\x62", 23},
};

static uint32_t decode_features = 0;

/* Decodes `bytes` (header included) and validates. Returns the validation
 * error message in `msg` (empty when valid); false if decoding failed. */
static bool decode_validate(const uint8_t *bytes, size_t len, char *msg, size_t msg_size)
{
    wasm_module_t *m = NULL;
    /* 2.0 rules: the cases predate later features (the feature cases below
     * switch them on). */
    whirl_error_t *e = wasm_decode_features(bytes, len, decode_features, &m);
    if (e) {
        snprintf(msg, msg_size, "%s", whirl_error_message(e));
        whirl_error_delete(e);
        return false;
    }
    e = wasm_validate(m);
    snprintf(msg, msg_size, "%s", e ? whirl_error_message(e) : "");
    whirl_error_delete(e);
    wasm_module_free(m);
    return true;
}

static void check(bool ok, const char *name, const char *fmt, const char *detail)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s: ", name);
    printf(fmt, detail);
    printf("\n");
}

static void expect_outcome(const char *name, const uint8_t *bytes, size_t len,
                           const char *expect)
{
    char msg[1024];
    if (!decode_validate(bytes, len, msg, sizeof msg)) {
        check(false, name, "decode failed: %s", msg);
        return;
    }
    if (getenv("VERBOSE"))
        printf("%-45s %s\n", name, msg[0] ? msg : "(valid)");
    if (!expect)
        check(msg[0] == 0, name, "expected valid, got: %s", msg);
    else if (!msg[0])
        check(false, name, "expected an error containing \"%s\", module validated", expect);
    else
        check(strstr(msg, expect) != NULL, name, "unexpected error: %s", msg);
}

/* WebAssembly 3.0 rules (every feature on). */
static const test_case_t feature_cases[] = {
    {"extended const global", NULL,
     "(global i32 (i32.add (i32.const 0) (i32.const 1)))",
     "\x06\x09\x01\x7f\x00\x41\x00\x41\x01\x6a\x0b", 11},
    {"extended const operand types", "type mismatch",
     "(global i32 (i32.add (i64.const 0) (i32.const 1)))",
     "\x06\x09\x01\x7f\x00\x42\x00\x41\x01\x6a\x0b", 11},
    {"extended const one operand", "type mismatch",
     "(global i64 (i64.mul (i64.const 1)))",
     "\x06\x07\x01\x7e\x00\x42\x01\x7e\x0b", 9},
    {"extended const result type", "type mismatch",
     "(global i64 (i32.sub (i32.const 2) (i32.const 1)))",
     "\x06\x09\x01\x7e\x00\x41\x02\x41\x01\x6b\x0b", 11},
    {"extended const deep", NULL,
     "(global i32 (i32.add (i32.const 1) ... 17 deep))",
     "\x06\x36\x01\x7f\x00"
     "\x41\x01\x41\x01\x41\x01\x41\x01\x41\x01\x41\x01\x41\x01\x41\x01"
     "\x41\x01\x41\x01\x41\x01\x41\x01\x41\x01\x41\x01\x41\x01\x41\x01\x41\x01"
     "\x6a\x6a\x6a\x6a\x6a\x6a\x6a\x6a\x6a\x6a\x6a\x6a\x6a\x6a\x6a\x6a\x0b", 56},
    {"global init earlier defined global", NULL,
     "(global i32 (i32.const 0)) (global i32 (global.get 0))",
     "\x06\x0b\x02\x7f\x00\x41\x00\x0b\x7f\x00\x23\x00\x0b", 13},
    /* memory64's u64 offset is read whole before the rule is applied. */
    {"global init load with a u64 offset", "constant expression required",
     "(memory i64 1) (global i64 (i64.load offset=0x100000000 (i64.const 0)))",
     "\x05\x03\x01\x04\x01\x06\x0d\x01\x7e\x00\x42\x00\x29\x03\x80\x80\x80\x80\x10\x0b", 20},
    {"global init later defined global", "unknown global 1",
     "(global i32 (global.get 1)) (global i32 (i32.const 0))",
     "\x06\x0b\x02\x7f\x00\x23\x01\x0b\x7f\x00\x41\x00\x0b", 13},
};

static void run_cases(void)
{
    decode_features = WASM_FEATURES_ALL;
    for (size_t i = 0; i < sizeof feature_cases / sizeof feature_cases[0]; i++) {
        const test_case_t *t = &feature_cases[i];
        size_t len = sizeof header + t->len;
        uint8_t *buf = malloc(len);
        memcpy(buf, header, sizeof header);
        memcpy(buf + sizeof header, t->bytes, t->len);
        expect_outcome(t->name, buf, len, t->expect);
        free(buf);
    }
    decode_features = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const test_case_t *t = &cases[i];
        size_t len = sizeof header + t->len;
        uint8_t *buf = malloc(len);
        memcpy(buf, header, sizeof header);
        memcpy(buf + sizeof header, t->bytes, t->len);
        expect_outcome(t->name, buf, len, t->expect);
        free(buf);
    }
}

/* --- A tiny module builder for the programmatic tests --------------------- */

typedef struct buf {
    uint8_t *data;
    size_t len, cap;
} buf_t;

static void put(buf_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->data = realloc(b->data, b->cap);
        if (!b->data)
            abort();
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u8(buf_t *b, uint8_t v) { put(b, &v, 1); }

static void put_leb(buf_t *b, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        put_u8(b, byte | (v ? 0x80 : 0));
    } while (v);
}

/* Appends section `id` with the contents of `payload`, then frees it. */
static void put_section(buf_t *b, uint8_t id, buf_t *payload)
{
    put_u8(b, id);
    put_leb(b, payload->len);
    put(b, payload->data, payload->len);
    free(payload->data);
    *payload = (buf_t){0};
}

/* Module with type 0 = [] -> [result], one defined function of that type
 * with `locals` (already encoded) and `code`. */
static buf_t simple_module(int result, const buf_t *locals, const buf_t *code)
{
    buf_t m = {0}, s = {0};
    put(&m, header, sizeof header);
    put_u8(&s, 1);
    put_u8(&s, 0x60);
    put_u8(&s, 0);
    if (result) {
        put_u8(&s, 1);
        put_u8(&s, (uint8_t)result);
    } else {
        put_u8(&s, 0);
    }
    put_section(&m, 1, &s);
    put_u8(&s, 1);
    put_u8(&s, 0);
    put_section(&m, 3, &s);
    put_u8(&s, 1);
    size_t body_len = (locals ? locals->len : 1) + code->len;
    put_leb(&s, body_len);
    if (locals)
        put(&s, locals->data, locals->len);
    else
        put_u8(&s, 0);
    put(&s, code->data, code->len);
    put_section(&m, 10, &s);
    return m;
}

static void test_deep_nesting(void)
{
    enum { DEPTH = 200000 };
    for (int variant = 0; variant < 3; variant++) {
        buf_t code = {0};
        for (int i = 0; i < DEPTH; i++) {
            put_u8(&code, variant == 1 ? 0x03 : 0x02); /* block / loop */
            put_u8(&code, i == DEPTH - 1 && variant == 2 ? 0x7f : 0x40);
        }
        if (variant == 2)
            put_u8(&code, 0x0b); /* innermost block (result i32) ends empty */
        else
            put_u8(&code, 0x01);
        for (int i = variant == 2 ? 1 : 0; i < DEPTH; i++)
            put_u8(&code, 0x0b);
        put_u8(&code, 0x0b);
        buf_t m = simple_module(0, NULL, &code);
        static const char *const names[] = {"200000 nested blocks", "200000 nested loops",
                                            "200000 nested blocks, innermost wrong"};
        expect_outcome(names[variant], m.data, m.len, variant == 2 ? "type mismatch" : NULL);
        free(code.data);
        free(m.data);
    }
}

/* An imported function with many results, called repeatedly: the operand
 * stack would grow far beyond the body size. */
static void test_operand_stack_limit(void)
{
    enum { RESULTS = 70000, CALLS = 70 };
    buf_t m = {0}, s = {0};
    put(&m, header, sizeof header);
    put_u8(&s, 2);
    put_u8(&s, 0x60);
    put_u8(&s, 0);
    put_leb(&s, RESULTS);
    for (int i = 0; i < RESULTS; i++)
        put_u8(&s, 0x7f);
    put(&s, "\x60\x00\x00", 3);
    put_section(&m, 1, &s);
    put(&s, "\x01\x01" "m" "\x01" "f" "\x00\x00", 7);
    put_section(&m, 2, &s);
    put(&s, "\x01\x01", 2);
    put_section(&m, 3, &s);
    put_u8(&s, 1);
    put_leb(&s, 2 + 2 * CALLS);
    put_u8(&s, 0);
    for (int i = 0; i < CALLS; i++)
        put(&s, "\x10\x00", 2);
    put_u8(&s, 0x0b);
    put_section(&m, 10, &s);
    expect_outcome("operand stack limit", m.data, m.len, "operand stack");
    free(m.data);
}

/* Locals looked up by binary search over runs (too many for a flat table
 * relative to the tiny body). */
static void test_many_locals(void)
{
    static const uint8_t types[] = {0x7f, 0x7e, 0x7d, 0x7c, 0x70};
    struct {
        uint32_t index;
        int result;
        const char *expect;
    } probes[] = {
        {0, 0x7f, NULL},     {9999, 0x7f, NULL},  {10000, 0x7e, NULL}, {25000, 0x7d, NULL},
        {39999, 0x7c, NULL}, {49999, 0x70, NULL}, {40000, 0x7f, "type mismatch"},
        {50000, 0x7f, "unknown local 50000"},
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        buf_t locals = {0}, code = {0};
        put_u8(&locals, 5);
        for (int k = 0; k < 5; k++) {
            put_leb(&locals, 10000);
            put_u8(&locals, types[k]);
        }
        put_u8(&code, 0x20);
        put_leb(&code, probes[i].index);
        put_u8(&code, 0x0b);
        buf_t m = simple_module(probes[i].result, &locals, &code);
        char name[64];
        snprintf(name, sizeof name, "50000 locals, local.get %u", probes[i].index);
        expect_outcome(name, m.data, m.len, probes[i].expect);
        free(locals.data);
        free(code.data);
        free(m.data);
    }
}

/* The message names the function by its index in the whole function space
 * (imports first) and the offset of the offending instruction. */
static void test_error_format(void)
{
    static const uint8_t mod[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                       /* type 0: [] -> [] */
        0x02, 0x07, 0x01, 0x01, 'm', 0x01, 'f', 0x00, 0x00,       /* import func 0 */
        0x03, 0x03, 0x02, 0x00, 0x00,                             /* funcs 1, 2 */
        0x0a, 0x0a, 0x02,                                         /* code section */
        0x02, 0x00, 0x0b,                                         /* func 1: valid */
        0x05, 0x00, 0x42, 0x00, 0x6a, 0x0b,                       /* func 2: i64.const 0 i32.add */
    };
    char msg[512];
    bool decoded = decode_validate(mod, sizeof mod, msg, sizeof msg);
    check(decoded, "error format", "decode failed: %s", msg);
    if (decoded)
        check(strcmp(msg, "invalid module: func 2 at offset 0x26: type mismatch: expected i32, "
                          "found i64") == 0,
              "error format", "got: %s", msg);
}

/* Module-level errors name the entity. */
static void test_module_error_format(void)
{
    /* (global i32 (i64.const 0)) */
    static const uint8_t mod[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x06, 0x06, 0x01, 0x7f, 0x00, 0x42, 0x00, 0x0b,
    };
    char msg[512];
    bool decoded = decode_validate(mod, sizeof mod, msg, sizeof msg);
    check(decoded, "module error format", "decode failed: %s", msg);
    if (decoded)
        check(strncmp(msg, "invalid module: global 0", 24) == 0 &&
                  strstr(msg, "type mismatch: expected i32, found i64"),
              "module error format", "got: %s", msg);
}

int main(void)
{
    run_cases();
    test_deep_nesting();
    test_operand_stack_limit();
    test_many_locals();
    test_error_format();
    test_module_error_format();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
