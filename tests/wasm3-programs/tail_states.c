/* State machines written as functions that tail-call the next state
 * (clang's musttail, which -mtail-call turns into return_call and
 * return_call_indirect): a scanner that classifies the characters of a long
 * generated text, one call per character, and a table-driven machine that
 * dispatches through function pointers. Millions of states deep in calls:
 * only constant stack space makes them run. Built for wasm32-wasi with
 * -mtail-call and natively with clang (musttail there too); the outputs must
 * be equal (tests/wasm3-programs/run). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define TAIL __attribute__((musttail))

struct counts {
  unsigned long words, numbers, spaces, others;
  uint32_t hash;
};

typedef unsigned long (*state_fn)(const char *p, struct counts *c);

static unsigned long s_space(const char *p, struct counts *c);
static unsigned long s_word(const char *p, struct counts *c);
static unsigned long s_number(const char *p, struct counts *c);

static int is_alpha(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* The states return how many characters they read in all. */
static unsigned long s_space(const char *p, struct counts *c) {
  if (!*p)
    return 0;
  c->hash = c->hash * 31 + (uint8_t)*p;
  if (is_alpha(*p)) {
    c->words++;
    TAIL return s_word(p + 1, c);
  }
  if (is_digit(*p)) {
    c->numbers++;
    TAIL return s_number(p + 1, c);
  }
  if (*p == ' ')
    c->spaces++;
  else
    c->others++;
  TAIL return s_space(p + 1, c);
}

static unsigned long s_word(const char *p, struct counts *c) {
  if (is_alpha(*p) || is_digit(*p)) {
    c->hash = c->hash * 31 + (uint8_t)*p;
    TAIL return s_word(p + 1, c);
  }
  TAIL return s_space(p, c);
}

static unsigned long s_number(const char *p, struct counts *c) {
  if (is_digit(*p)) {
    c->hash = c->hash * 31 + (uint8_t)*p;
    TAIL return s_number(p + 1, c);
  }
  TAIL return s_space(p, c);
}

/* A table-driven machine: the next state comes from a table of function
 * pointers (an indirect tail call per step). Collatz steps, each step one
 * call, until the value reaches 1. */
struct collatz {
  uint64_t n;
  unsigned long steps;
};
typedef unsigned long (*cstate)(struct collatz *z);
static unsigned long c_even(struct collatz *z);
static unsigned long c_odd(struct collatz *z);
static unsigned long c_done(struct collatz *z) { return z->steps; }
static cstate volatile table[3] = {c_even, c_odd, c_done};

static cstate next_state(uint64_t n) { return table[n == 1 ? 2 : (n & 1)]; }

static unsigned long c_even(struct collatz *z) {
  z->n /= 2;
  z->steps++;
  TAIL return next_state(z->n)(z);
}

static unsigned long c_odd(struct collatz *z) {
  z->n = 3 * z->n + 1;
  z->steps++;
  TAIL return next_state(z->n)(z);
}

/* Mutual recursion a million deep with an accumulator. */
static uint64_t ping(uint64_t n, uint64_t acc);
static uint64_t pong(uint64_t n, uint64_t acc) {
  if (n == 0)
    return acc;
  TAIL return ping(n - 1, acc * 3 + n);
}
static uint64_t ping(uint64_t n, uint64_t acc) {
  if (n == 0)
    return acc;
  TAIL return pong(n - 1, acc ^ (n << 7));
}

int main(void) {
  enum { LEN = 3 * 1000 * 1000 };
  char *text = malloc(LEN + 1);
  if (!text)
    return 1;
  uint32_t seed = 12345;
  for (int i = 0; i < LEN; i++) {
    seed = seed * 1103515245u + 12345u;
    unsigned r = (seed >> 16) % 40;
    text[i] = r < 20 ? (char)('a' + r) : r < 30 ? (char)('0' + r - 20) : r < 38 ? ' ' : ',';
  }
  text[LEN] = 0;
  struct counts c = {0, 0, 0, 0, 0};
  s_space(text, &c);
  printf("scanner: %lu words, %lu numbers, %lu spaces, %lu others, hash %08x\n", c.words,
         c.numbers, c.spaces, c.others, (unsigned)c.hash);
  unsigned long total = 0, longest = 0;
  uint64_t arg = 0;
  for (uint64_t n = 1; n <= 100000; n++) {
    struct collatz z = {n, 0};
    unsigned long s = next_state(n)(&z);
    total += s;
    if (s > longest) {
      longest = s;
      arg = n;
    }
  }
  printf("collatz 1..100000: %lu steps, longest %lu at %llu\n", total, longest,
         (unsigned long long)arg);
  printf("ping-pong 1000000: %llu\n", (unsigned long long)ping(1000000, 1));
  free(text);
  return 0;
}
