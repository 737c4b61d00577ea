// C++ exceptions: throw and catch by base class, unwinding that runs
// destructors frame by frame, rethrow, catch (...), exceptions thrown while
// another is being handled, throw of a fundamental type, and a loop of many
// throws (each exception freed: the guest's memory stays small). Built for
// wasm32-wasi with -fwasm-exceptions (cxx_rt.c is the runtime) and natively;
// the outputs must be equal (tests/wasm3-programs/run). Uses no C++ library:
// Debian's wasm32 libc++abi is built without exception support.
#include <stdio.h>

struct Error {
  int code;
  explicit Error(int c) : code(c) {}
  virtual ~Error() {}
  virtual const char *what() const { return "error"; }
};
struct ParseError : Error {
  explicit ParseError(int c) : Error(c) {}
  const char *what() const override { return "parse error"; }
};
struct DeepError : ParseError {
  explicit DeepError(int c) : ParseError(c) {}
  const char *what() const override { return "deep error"; }
};
struct Other {
  virtual ~Other() {}
};

static int live; // objects with destructors alive now

struct Guard {
  const char *name;
  int n;
  Guard(const char *nm, int i) : name(nm), n(i) { live++; }
  ~Guard() {
    live--;
    if (n < 3)
      printf("  ~Guard %s %d\n", name, n);
  }
};

static int depth(int n, int code) {
  Guard g("depth", n);
  if (n == 0) {
    if (code < 0)
      throw Other();
    if (code >= 100)
      throw DeepError(code);
    throw ParseError(code);
  }
  return depth(n - 1, code) + 1;
}

static void classify(int code) {
  try {
    depth(4, code);
    printf("not reached\n");
  } catch (DeepError &e) {
    printf("DeepError %s %d\n", e.what(), e.code);
  } catch (Error &e) {
    printf("Error %s %d\n", e.what(), e.code);
  } catch (...) {
    printf("something else\n");
  }
}

static void rethrower() {
  try {
    throw ParseError(7);
  } catch (Error &e) {
    printf("rethrowing %s %d\n", e.what(), e.code);
    throw;
  }
}

static int handled_twice() {
  try {
    try {
      throw Error(1);
    } catch (Error &e) {
      Guard g("handler", 0);
      // A new exception while the first is being handled.
      try {
        throw ParseError(e.code + 1);
      } catch (ParseError &p) {
        printf("inner %s %d while handling %d\n", p.what(), p.code, e.code);
      }
      throw DeepError(e.code + 100);
    }
  } catch (Error &e) {
    printf("outer %s %d\n", e.what(), e.code);
    return e.code;
  }
  return 0;
}

int main() {
  classify(5);
  classify(150);
  classify(-1);
  try {
    rethrower();
  } catch (ParseError &e) {
    printf("caught rethrown %s %d\n", e.what(), e.code);
  }
  printf("handled_twice = %d\n", handled_twice());
  try {
    throw 42;
  } catch (long) {
    printf("wrong: long\n");
  } catch (int i) {
    printf("int %d\n", i);
  }
  long sum = 0;
  for (int i = 0; i < 100000; i++) {
    try {
      if (i % 3 == 0)
        throw Error(i);
      sum += i;
    } catch (Error &e) {
      sum -= e.code;
    }
  }
  printf("100000 iterations: sum %ld, live guards %d\n", sum, live);
  return 0;
}
