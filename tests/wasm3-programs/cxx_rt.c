/* A minimal C++ exception runtime for wasm32-wasi guests built with
 * clang -fwasm-exceptions. Debian's libc++abi-19-dev-wasm32 is built without
 * exception support (its libc++abi.a defines no __cxa_throw,
 * __cxa_allocate_exception, __cxa_begin_catch or personality routine), so
 * cxx_eh.cc links against this instead, and no C++ library at all.
 *
 * What clang's code expects (the Itanium ABI as adapted to Wasm EH): a throw
 * calls __cxa_allocate_exception and __cxa_throw, which throws the
 * __cpp_exception tag with a pointer to the exception's unwind header
 * (cxx_rt.s). A landing pad with typed catches catches that tag, stores its
 * landing-pad index and its function's LSDA into __wasm_lpad_context, calls
 * _Unwind_CallPersonality, and compares the selector it leaves there with
 * each catch clause's type index; no match rethrows. Cleanups (destructors)
 * are catch_all + rethrow and need nothing from here.
 *
 * Kept small on purpose: catch matching handles exact types and single
 * public inheritance (__si_class_type_info chains), which is all cxx_eh.cc
 * throws; no exception specifications, no pointer conversions, one thread. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* std::type_info and its two subclasses the program uses: the compiler
 * emits typeinfo objects whose first word points into these vtables (at
 * offset 2 words: past offset-to-top and the typeinfo slot). */
struct type_info {
  const void *vptr;
  const char *name;
};
struct si_type_info {
  struct type_info base;
  const struct type_info *parent;
};
const void *_ZTVN10__cxxabiv117__class_type_infoE[4];
const void *_ZTVN10__cxxabiv120__si_class_type_infoE[4];
const void *_ZTVN10__cxxabiv123__fundamental_type_infoE[4];
#define FUNDAMENTAL(sym, nm) \
  const struct type_info sym = {&_ZTVN10__cxxabiv123__fundamental_type_infoE[2], nm}
FUNDAMENTAL(_ZTIi, "i"); /* int */
FUNDAMENTAL(_ZTIl, "l"); /* long */

/* Written by the compiler's landing pads, read back for the selector. */
struct lpad_context {
  uintptr_t lpad_index, lsda, selector;
};
struct lpad_context __wasm_lpad_context;

/* Lives just before the thrown object; the tag's payload points at unwind. */
struct cxa_exception {
  const struct type_info *type;
  void *(*dtor)(void *); /* Wasm's C++ ABI: destructors return this */
  int handlers;          /* catch clauses that have begun and not ended */
  int rethrown;
  struct cxa_exception *next_caught;
  uint64_t unwind[2];
} __attribute__((aligned(16)));

void __whirl_cxx_throw(void *payload) __attribute__((noreturn));

static struct cxa_exception *caught; /* innermost exception being handled */

static struct cxa_exception *from_payload(void *payload) {
  return (struct cxa_exception *)((char *)payload - offsetof(struct cxa_exception, unwind));
}

void *__cxa_allocate_exception(size_t size) {
  struct cxa_exception *h = calloc(1, sizeof *h + size);
  if (!h) {
    fputs("cxx_rt: out of memory allocating an exception\n", stderr);
    abort();
  }
  return h + 1;
}

void __cxa_throw(void *obj, const struct type_info *type, void *(*dtor)(void *)) {
  struct cxa_exception *h = (struct cxa_exception *)obj - 1;
  h->type = type;
  h->dtor = dtor;
  __whirl_cxx_throw(h->unwind);
}

static int catches(const struct type_info *thrown, const struct type_info *clause) {
  while (thrown) {
    if (thrown == clause)
      return 1;
    if (thrown->vptr != &_ZTVN10__cxxabiv120__si_class_type_infoE[2])
      return 0;
    thrown = ((const struct si_type_info *)thrown)->parent;
  }
  return 0;
}

static uintptr_t read_uleb(const uint8_t **p) {
  uintptr_t v = 0;
  unsigned shift = 0;
  uint8_t b;
  do {
    b = *(*p)++;
    v |= (uintptr_t)(b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  return v;
}

static intptr_t read_sleb(const uint8_t **p) {
  uintptr_t v = 0;
  unsigned shift = 0;
  uint8_t b;
  do {
    b = *(*p)++;
    v |= (uintptr_t)(b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  if (shift < 8 * sizeof v && (b & 0x40))
    v |= ~(uintptr_t)0 << shift;
  return (intptr_t)v;
}

/* The LSDA as LLVM writes it for Wasm: lpStart omitted; the type table's
 * encoding and offset; a call-site table of (landing-pad index, action)
 * pairs in uleb128; action records (type filter, offset to the next); type
 * table entries (4-byte typeinfo addresses) indexed backwards by filter. */
int _Unwind_CallPersonality(void *payload) {
  enum { URC_HANDLER_FOUND = 6, URC_CONTINUE_UNWIND = 8 };
  struct cxa_exception *h = from_payload(payload);
  const uint8_t *p = (const uint8_t *)__wasm_lpad_context.lsda;
  const uint8_t *types = NULL;
  __wasm_lpad_context.selector = 0;
  if (*p++ != 0xff)
    abort(); /* lpStart: always omitted */
  if (*p++ != 0xff) {
    uintptr_t off = read_uleb(&p);
    types = p + off;
  }
  if (*p++ != 0x01)
    abort(); /* call-site encoding: uleb128 */
  uintptr_t cs_len = read_uleb(&p);
  const uint8_t *actions = p + cs_len;
  uintptr_t action = 0;
  while (p < actions) {
    uintptr_t index = read_uleb(&p), act = read_uleb(&p);
    if (index == __wasm_lpad_context.lpad_index) {
      action = act;
      break;
    }
  }
  if (!action || !types)
    return URC_CONTINUE_UNWIND; /* cleanups only */
  const uint8_t *a = actions + action - 1;
  for (;;) {
    intptr_t filter = read_sleb(&a);
    const uint8_t *next_at = a;
    intptr_t next = read_sleb(&a);
    if (filter > 0) {
      const struct type_info *clause;
      __builtin_memcpy(&clause, types - 4 * filter, 4);
      if (!clause || catches(h->type, clause)) { /* NULL: catch (...) */
        __wasm_lpad_context.selector = (uintptr_t)filter;
        return URC_HANDLER_FOUND;
      }
    }
    if (!next)
      return URC_CONTINUE_UNWIND;
    a = next_at + next;
  }
}

void *__cxa_begin_catch(void *payload) {
  struct cxa_exception *h = from_payload(payload);
  h->rethrown = 0;
  if (h->handlers++ == 0) {
    h->next_caught = caught;
    caught = h;
  }
  return h + 1;
}

void __cxa_end_catch(void) {
  struct cxa_exception *h = caught;
  if (!h || --h->handlers > 0)
    return;
  caught = h->next_caught;
  if (h->rethrown)
    return; /* still in flight: the next catch begins it again */
  if (h->dtor)
    h->dtor(h + 1);
  free(h);
}

void __cxa_rethrow(void) {
  if (!caught) {
    fputs("cxx_rt: throw; with no exception being handled\n", stderr);
    abort();
  }
  caught->rethrown = 1;
  __whirl_cxx_throw(caught->unwind);
}

void _ZSt9terminatev(void) { /* std::terminate() */
  fputs("cxx_rt: std::terminate\n", stderr);
  abort();
}
void _ZdlPv(void *p) { free(p); }                   /* operator delete(void *) */
void _ZdlPvm(void *p, size_t n) { (void)n; free(p); } /* operator delete(void *, size_t) */
void __cxa_pure_virtual(void) { abort(); }
