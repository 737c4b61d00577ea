/* Error recovery with setjmp/longjmp, the way C interpreters (Lua's
 * luaD_throw) do it: a recursive-descent calculator longjmps out of any
 * depth on a syntax error or a division by zero, the driver reports the
 * error and goes on with the next line. Also: nested protected calls (an
 * inner handler re-raises to the outer one), longjmp(env, 0) returning 1,
 * locals kept across the jump when volatile, and many jumps in a loop.
 * Built for wasm32-wasi with clang's Wasm-EH lowering and natively; the
 * outputs must be equal (tests/wasm3-programs/run). */
#include <setjmp.h>
#include <stdio.h>

/* The error message goes to the caller's variable: a local of the function
 * that called setjmp, changed after setjmp, would be indeterminate after the
 * jump unless volatile (C11 7.13.2.1). */
struct parser {
  const char *p;
  jmp_buf *on_error;
  const char **error;
};

static void fail(struct parser *ps, const char *why) {
  *ps->error = why;
  longjmp(*ps->on_error, 1);
}

static long expr(struct parser *ps);

static void skip(struct parser *ps) {
  while (*ps->p == ' ')
    ps->p++;
}

static long primary(struct parser *ps) {
  skip(ps);
  if (*ps->p == '(') {
    ps->p++;
    long v = expr(ps);
    skip(ps);
    if (*ps->p != ')')
      fail(ps, "missing )");
    ps->p++;
    return v;
  }
  if (*ps->p == '-') {
    ps->p++;
    return -primary(ps);
  }
  if (*ps->p < '0' || *ps->p > '9')
    fail(ps, "number expected");
  long v = 0;
  while (*ps->p >= '0' && *ps->p <= '9')
    v = v * 10 + (*ps->p++ - '0');
  return v;
}

static long term(struct parser *ps) {
  long v = primary(ps);
  for (;;) {
    skip(ps);
    char op = *ps->p;
    if (op != '*' && op != '/' && op != '%')
      return v;
    ps->p++;
    long r = primary(ps);
    if (op == '*') {
      v *= r;
    } else {
      if (r == 0)
        fail(ps, "division by zero");
      v = op == '/' ? v / r : v % r;
    }
  }
}

static long expr(struct parser *ps) {
  long v = term(ps);
  for (;;) {
    skip(ps);
    char op = *ps->p;
    if (op != '+' && op != '-')
      return v;
    ps->p++;
    long r = term(ps);
    v = op == '+' ? v + r : v - r;
  }
}

/* A protected call: 0 and *out on success, 1 with ps->error on failure. */
static int eval(const char *src, long *out, const char **error) {
  jmp_buf jb;
  struct parser ps = {src, &jb, error};
  if (setjmp(jb))
    return 1;
  long v = expr(&ps);
  skip(&ps);
  if (*ps.p)
    fail(&ps, "trailing input");
  *out = v;
  return 0;
}

/* Nested handlers: the inner one catches a jump from deep down, notes it
 * and raises again to the outer one, with longjmp(env, 0): setjmp must
 * then return 1. */
static jmp_buf outer;

static int deep(jmp_buf *to, int depth, int val) {
  if (depth > 0)
    return deep(to, depth - 1, val) + 1;
  if (val >= 0) /* always; a path that returns keeps gcc 12 from calling deep() infinite */
    longjmp(*to, val);
  return 0;
}

static int nested(void) {
  volatile int stage = 0;
  int r = setjmp(outer);
  if (r) {
    printf("outer handler: setjmp returned %d at stage %d\n", r, stage);
    return stage;
  }
  stage = 1;
  jmp_buf inner;
  int ri = setjmp(inner);
  if (ri == 0) {
    stage = 2;
    deep(&inner, 5, 7);
  }
  printf("inner handler: setjmp returned %d at stage %d\n", ri, stage);
  stage = 3;
  deep(&outer, 3, 0);
  return -1; /* not reached */
}

static int counter(int n) {
  jmp_buf jb;
  volatile int total = 0;
  volatile int i = 0;
  if (setjmp(jb) < n) {
    total += i;
    i++;
    longjmp(jb, i + 1);
  }
  return total;
}

int main(void) {
  static const char *lines[] = {
      "1 + 2 * 3", "(1 + 2) * 3", "10 / (5 - 5)", "7 % 4 + -3", "(((42)))",
      "2 * (3 + ", "12 $ 4", "100 / 7 / 2", "-(-(-5))", "8 % 0",
  };
  int errors = 0;
  for (unsigned i = 0; i < sizeof lines / sizeof *lines; i++) {
    long v;
    const char *err;
    if (eval(lines[i], &v, &err)) {
      printf("%-12s -> error: %s\n", lines[i], err);
      errors++;
    } else {
      printf("%-12s -> %ld\n", lines[i], v);
    }
  }
  printf("%d errors recovered\n", errors);
  printf("nested returned %d\n", nested());
  printf("counter(1000) = %d\n", counter(1000));
  /* Many protected calls in a row: each failing one longjmps. */
  long sum = 0;
  int fails = 0;
  char buf[32];
  for (int i = 0; i < 20000; i++) {
    long v;
    const char *err;
    snprintf(buf, sizeof buf, "%d / (%d %% 3)", i, i);
    if (eval(buf, &v, &err))
      fails++;
    else
      sum += v;
  }
  printf("20000 evaluations: sum %ld, %d failed\n", sum, fails);
  return 0;
}
