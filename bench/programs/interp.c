/* interp: a tokenizer, recursive-descent compiler and stack-based bytecode
 * VM (switch dispatch) for a tiny C-like scripting language, running a
 * script of classic loops (sieve, collatz, insertion sort, gcd, recursion).
 * Measures branchy, unpredictable code: an interpreter inside the engine. */
#include "common.h"

static const char script[] =
    "// integer-only script; arrays live on a word heap (new)\n"
    "fn fib(n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2); }\n"
    "fn sieve(n) {\n"
    "  var a = new(n + 1); var i = 2; var count = 0;\n"
    "  while (i <= n) { a[i] = 1; i = i + 1; }\n"
    "  i = 2;\n"
    "  while (i <= n) {\n"
    "    if (a[i]) { count = count + 1; var j = i * i;\n"
    "      while (j <= n) { a[j] = 0; j = j + i; } }\n"
    "    i = i + 1;\n"
    "  }\n"
    "  return count;\n"
    "}\n"
    "fn collatz(limit) {\n"
    "  var best = 0; var bi = 0; var i = 1;\n"
    "  while (i < limit) {\n"
    "    var n = i; var steps = 0;\n"
    "    while (n != 1) { if (n % 2 == 0) n = n / 2; else n = 3 * n + 1; steps = steps + 1; }\n"
    "    if (steps > best) { best = steps; bi = i; }\n"
    "    i = i + 1;\n"
    "  }\n"
    "  return bi * 1000 + best;\n"
    "}\n"
    "fn sort(n, seed) {\n"
    "  var a = new(n); var i = 0; var x = seed;\n"
    "  while (i < n) { x = x * 1103515245 + 12345; a[i] = (x / 65536) % 32768; i = i + 1; }\n"
    "  i = 1;\n"
    "  while (i < n) {\n"
    "    var v = a[i]; var j = i - 1;\n"
    "    while (j >= 0 && a[j] > v) { a[j + 1] = a[j]; j = j - 1; }\n"
    "    a[j + 1] = v; i = i + 1;\n"
    "  }\n"
    "  var h = 0; i = 0;\n"
    "  while (i < n) { h = h * 31 + a[i]; i = i + 1; }\n"
    "  return h;\n"
    "}\n"
    "fn gcd(a, b) { while (b != 0) { var t = a % b; a = b; b = t; } return a; }\n"
    "fn gcdsum(n) {\n"
    "  var s = 0; var i = 1;\n"
    "  while (i <= n) { var j = 1; while (j <= n) { s = s + gcd(i, j); j = j + 1; } i = i + 1; }\n"
    "  return s;\n"
    "}\n"
    "fn main(seed) {\n"
    "  return fib(16 + seed % 3) + sieve(20000) * 7 + collatz(1500 + seed % 5)\n"
    "       + sort(200, seed) + gcdsum(60) * 3 - (seed > 3 || !seed && seed >= 0);\n"
    "}\n";

/* ---- tokens ---- */
enum {
    T_EOF, T_NUM, T_ID, T_FN, T_VAR, T_IF, T_ELSE, T_WHILE, T_RETURN,
    T_LE, T_GE, T_EQ, T_NE, T_AND, T_OR, T_CHAR /* single-char token: value in .ch */
};

typedef struct {
    int kind;
    char ch;
    int32_t num;
    const char *start;
    int len;
} token_t;

typedef struct {
    const char *p;
    token_t tok;
} lexer_t;

static void fail(const char *what)
{
    printf("script error: %s\n", what);
    exit(1);
}

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

static void next(lexer_t *lx)
{
    const char *p = lx->p;
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == '\t')
            p++;
        if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        break;
    }
    token_t *t = &lx->tok;
    t->start = p;
    if (!*p) {
        t->kind = T_EOF;
    } else if (is_digit(*p)) {
        uint32_t v = 0;
        while (is_digit(*p))
            v = v * 10 + (uint32_t)(*p++ - '0');
        t->kind = T_NUM;
        t->num = (int32_t)v;
    } else if (is_alpha(*p)) {
        while (is_alpha(*p) || is_digit(*p))
            p++;
        t->len = (int)(p - t->start);
        static const struct { const char *s; int k; } kw[] = {
            {"fn", T_FN}, {"var", T_VAR}, {"if", T_IF}, {"else", T_ELSE},
            {"while", T_WHILE}, {"return", T_RETURN},
        };
        t->kind = T_ID;
        for (int i = 0; i < 6; i++)
            if ((int)strlen(kw[i].s) == t->len && memcmp(kw[i].s, t->start, (size_t)t->len) == 0)
                t->kind = kw[i].k;
    } else {
        static const struct { char a, b; int k; } two[] = {
            {'<', '=', T_LE}, {'>', '=', T_GE}, {'=', '=', T_EQ},
            {'!', '=', T_NE}, {'&', '&', T_AND}, {'|', '|', T_OR},
        };
        t->kind = T_CHAR;
        t->ch = *p;
        for (int i = 0; i < 6; i++)
            if (p[0] == two[i].a && p[1] == two[i].b) {
                t->kind = two[i].k;
                p++;
                break;
            }
        p++;
    }
    lx->p = p;
}

/* ---- bytecode ---- */
enum {
    OP_PUSH, OP_LOAD, OP_STORE, OP_POP, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
    OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE, OP_NOT, OP_NEG, OP_JMP, OP_JZ,
    OP_JNZ_KEEP, OP_JZ_KEEP, OP_CALL, OP_RET, OP_INDEX, OP_STORE_INDEX, OP_NEW,
};

enum { MAX_CODE = 8192, MAX_FUNCS = 32, MAX_LOCALS = 32, MAX_FIXUPS = 256 };

typedef struct {
    const char *name;
    int name_len, entry, nparams, nlocals;
} func_t;

typedef struct {
    lexer_t lx;
    int32_t code[MAX_CODE];
    int ncode;
    func_t funcs[MAX_FUNCS];
    int nfuncs;
    struct { const char *s; int len; } locals[MAX_LOCALS];
    int nlocals;
    struct { int at; const char *s; int len; } fixups[MAX_FIXUPS];
    int nfixups;
} compiler_t;

static void emit(compiler_t *c, int32_t w)
{
    if (c->ncode >= MAX_CODE)
        fail("code too large");
    c->code[c->ncode++] = w;
}

static int is_char(compiler_t *c, char ch) { return c->lx.tok.kind == T_CHAR && c->lx.tok.ch == ch; }

static void expect_char(compiler_t *c, char ch)
{
    if (!is_char(c, ch))
        fail("unexpected token");
    next(&c->lx);
}

static int local_slot(compiler_t *c, const char *s, int len, int create)
{
    for (int i = 0; i < c->nlocals; i++)
        if (c->locals[i].len == len && memcmp(c->locals[i].s, s, (size_t)len) == 0)
            return i;
    if (!create)
        fail("unknown variable");
    if (c->nlocals >= MAX_LOCALS)
        fail("too many locals");
    c->locals[c->nlocals].s = s;
    c->locals[c->nlocals].len = len;
    return c->nlocals++;
}

static void expr(compiler_t *c);

static void primary(compiler_t *c)
{
    token_t t = c->lx.tok;
    if (t.kind == T_NUM) {
        next(&c->lx);
        emit(c, OP_PUSH);
        emit(c, t.num);
    } else if (t.kind == T_ID) {
        next(&c->lx);
        if (is_char(c, '(')) {
            next(&c->lx);
            int nargs = 0;
            while (!is_char(c, ')')) {
                expr(c);
                nargs++;
                if (!is_char(c, ','))
                    break;
                next(&c->lx);
            }
            expect_char(c, ')');
            if (t.len == 3 && memcmp(t.start, "new", 3) == 0) {
                if (nargs != 1)
                    fail("new takes one argument");
                emit(c, OP_NEW);
                return;
            }
            if (c->nfixups >= MAX_FIXUPS)
                fail("too many calls");
            emit(c, OP_CALL);
            c->fixups[c->nfixups].at = c->ncode;
            c->fixups[c->nfixups].s = t.start;
            c->fixups[c->nfixups++].len = t.len;
            emit(c, -1);
            emit(c, nargs);
        } else {
            emit(c, OP_LOAD);
            emit(c, local_slot(c, t.start, t.len, 0));
        }
    } else if (is_char(c, '(')) {
        next(&c->lx);
        expr(c);
        expect_char(c, ')');
    } else if (is_char(c, '-')) {
        next(&c->lx);
        primary(c);
        emit(c, OP_NEG);
    } else if (is_char(c, '!')) {
        next(&c->lx);
        primary(c);
        emit(c, OP_NOT);
    } else {
        fail("expected an expression");
    }
    while (is_char(c, '[')) {
        next(&c->lx);
        expr(c);
        expect_char(c, ']');
        emit(c, OP_INDEX);
    }
}

/* Binary operators by precedence climbing; && and || short-circuit. */
static int binop(const token_t *t, int *prec)
{
    switch (t->kind) {
    case T_OR: *prec = 1; return -1;
    case T_AND: *prec = 2; return -2;
    case T_EQ: *prec = 3; return OP_EQ;
    case T_NE: *prec = 3; return OP_NE;
    case T_LE: *prec = 4; return OP_LE;
    case T_GE: *prec = 4; return OP_GE;
    case T_CHAR:
        switch (t->ch) {
        case '<': *prec = 4; return OP_LT;
        case '>': *prec = 4; return OP_GT;
        case '+': *prec = 5; return OP_ADD;
        case '-': *prec = 5; return OP_SUB;
        case '*': *prec = 6; return OP_MUL;
        case '/': *prec = 6; return OP_DIV;
        case '%': *prec = 6; return OP_MOD;
        }
    }
    return 0;
}

static void expr_prec(compiler_t *c, int min_prec)
{
    primary(c);
    for (;;) {
        int prec, op = binop(&c->lx.tok, &prec);
        if (!op || prec < min_prec)
            return;
        next(&c->lx);
        if (op < 0) {
            emit(c, op == -1 ? OP_JNZ_KEEP : OP_JZ_KEEP);
            int patch = c->ncode;
            emit(c, 0);
            emit(c, OP_POP);
            expr_prec(c, prec + 1);
            c->code[patch] = c->ncode;
            emit(c, OP_PUSH); /* both paths normalise to 0/1 */
            emit(c, 0);
            emit(c, OP_NE);
        } else {
            expr_prec(c, prec + 1);
            emit(c, op);
        }
    }
}

static void expr(compiler_t *c) { expr_prec(c, 1); }

static void statement(compiler_t *c);

static void block(compiler_t *c)
{
    expect_char(c, '{');
    while (!is_char(c, '}')) {
        if (c->lx.tok.kind == T_EOF)
            fail("unterminated block");
        statement(c);
    }
    next(&c->lx);
}

static void statement(compiler_t *c)
{
    token_t t = c->lx.tok;
    if (is_char(c, '{')) {
        block(c);
    } else if (t.kind == T_VAR || t.kind == T_ID) {
        next(&c->lx);
        if (t.kind == T_VAR) {
            t = c->lx.tok;
            if (t.kind != T_ID)
                fail("expected a name");
            next(&c->lx);
        }
        if (is_char(c, '[')) {
            /* name[index] = value */
            emit(c, OP_LOAD);
            emit(c, local_slot(c, t.start, t.len, 0));
            next(&c->lx);
            expr(c);
            expect_char(c, ']');
            expect_char(c, '=');
            expr(c);
            emit(c, OP_STORE_INDEX);
        } else {
            int slot = local_slot(c, t.start, t.len, 1);
            expect_char(c, '=');
            expr(c);
            emit(c, OP_STORE);
            emit(c, slot);
        }
        expect_char(c, ';');
    } else if (t.kind == T_IF) {
        next(&c->lx);
        expect_char(c, '(');
        expr(c);
        expect_char(c, ')');
        emit(c, OP_JZ);
        int patch = c->ncode;
        emit(c, 0);
        statement(c);
        if (c->lx.tok.kind == T_ELSE) {
            next(&c->lx);
            emit(c, OP_JMP);
            int over = c->ncode;
            emit(c, 0);
            c->code[patch] = c->ncode;
            statement(c);
            c->code[over] = c->ncode;
        } else {
            c->code[patch] = c->ncode;
        }
    } else if (t.kind == T_WHILE) {
        next(&c->lx);
        int top = c->ncode;
        expect_char(c, '(');
        expr(c);
        expect_char(c, ')');
        emit(c, OP_JZ);
        int patch = c->ncode;
        emit(c, 0);
        statement(c);
        emit(c, OP_JMP);
        emit(c, top);
        c->code[patch] = c->ncode;
    } else if (t.kind == T_RETURN) {
        next(&c->lx);
        expr(c);
        emit(c, OP_RET);
        expect_char(c, ';');
    } else {
        fail("expected a statement");
    }
}

static void compile(compiler_t *c, const char *src)
{
    c->lx.p = src;
    c->ncode = c->nfuncs = c->nfixups = 0;
    next(&c->lx);
    while (c->lx.tok.kind == T_FN) {
        next(&c->lx);
        if (c->lx.tok.kind != T_ID || c->nfuncs >= MAX_FUNCS)
            fail("bad function");
        func_t *f = &c->funcs[c->nfuncs++];
        f->name = c->lx.tok.start;
        f->name_len = c->lx.tok.len;
        f->entry = c->ncode;
        c->nlocals = 0;
        next(&c->lx);
        expect_char(c, '(');
        while (c->lx.tok.kind == T_ID) {
            local_slot(c, c->lx.tok.start, c->lx.tok.len, 1);
            next(&c->lx);
            if (!is_char(c, ','))
                break;
            next(&c->lx);
        }
        f->nparams = c->nlocals;
        expect_char(c, ')');
        block(c);
        emit(c, OP_PUSH); /* falling off the end returns 0 */
        emit(c, 0);
        emit(c, OP_RET);
        f->nlocals = c->nlocals;
    }
    if (c->lx.tok.kind != T_EOF)
        fail("expected fn");
    for (int i = 0; i < c->nfixups; i++) {
        int found = -1;
        for (int k = 0; k < c->nfuncs; k++)
            if (c->funcs[k].name_len == c->fixups[i].len &&
                memcmp(c->funcs[k].name, c->fixups[i].s, (size_t)c->fixups[i].len) == 0)
                found = k;
        if (found < 0 || c->funcs[found].nparams != c->code[c->fixups[i].at + 1])
            fail("unknown function or wrong argument count");
        c->code[c->fixups[i].at] = found;
    }
}

/* ---- VM ---- */
enum { STACK = 4096, FRAMES = 256, HEAP = 1 << 16 };

typedef struct {
    int32_t stack[STACK];
    struct { int ret, base; } frames[FRAMES];
    int32_t heap[HEAP];
    int32_t heap_top;
    uint64_t steps;
} vm_t;

static int32_t run(vm_t *vm, const compiler_t *c, int fn, int32_t arg)
{
    const int32_t *code = c->code;
    int32_t *st = vm->stack;
    int sp = 0, fp = 0, base = 0;
    st[sp++] = arg;
    int pc = c->funcs[fn].entry;
    for (int i = 1; i < c->funcs[fn].nlocals; i++)
        st[sp++] = 0;
    vm->frames[fp].ret = -1;
    vm->frames[fp++].base = 0;
    vm->heap_top = 0;
    for (;;) {
        vm->steps++;
        if (sp > STACK - 40)
            fail("stack overflow");
        int32_t op = code[pc++];
        switch (op) {
        case OP_PUSH: st[sp++] = code[pc++]; break;
        case OP_LOAD: st[sp++] = st[base + code[pc++]]; break;
        case OP_STORE: st[base + code[pc++]] = st[--sp]; break;
        case OP_POP: sp--; break;
#define BIN(OP, EXPR) case OP: { int32_t b = st[--sp], a = st[sp - 1]; st[sp - 1] = (EXPR); } break;
        BIN(OP_ADD, (int32_t)((uint32_t)a + (uint32_t)b))
        BIN(OP_SUB, (int32_t)((uint32_t)a - (uint32_t)b))
        BIN(OP_MUL, (int32_t)((uint32_t)a * (uint32_t)b))
        BIN(OP_DIV, b == 0 ? 0 : (b == -1 ? (int32_t)(0u - (uint32_t)a) : a / b))
        BIN(OP_MOD, b == 0 || b == -1 ? 0 : a % b)
        BIN(OP_LT, a < b)
        BIN(OP_LE, a <= b)
        BIN(OP_GT, a > b)
        BIN(OP_GE, a >= b)
        BIN(OP_EQ, a == b)
        BIN(OP_NE, a != b)
#undef BIN
        case OP_NOT: st[sp - 1] = !st[sp - 1]; break;
        case OP_NEG: st[sp - 1] = (int32_t)(0u - (uint32_t)st[sp - 1]); break;
        case OP_JMP: pc = code[pc]; break;
        case OP_JZ: pc = st[--sp] ? pc + 1 : code[pc]; break;
        case OP_JNZ_KEEP: pc = st[sp - 1] ? code[pc] : pc + 1; break;
        case OP_JZ_KEEP: pc = st[sp - 1] ? pc + 1 : code[pc]; break;
        case OP_CALL: {
            const func_t *f = &c->funcs[code[pc]];
            if (fp >= FRAMES)
                fail("call stack overflow");
            vm->frames[fp].ret = pc + 2;
            vm->frames[fp++].base = base;
            base = sp - f->nparams;
            for (int i = f->nparams; i < f->nlocals; i++)
                st[sp++] = 0;
            pc = f->entry;
            break;
        }
        case OP_RET: {
            int32_t v = st[--sp];
            sp = base;
            fp--;
            if (vm->frames[fp].ret < 0)
                return v;
            pc = vm->frames[fp].ret;
            base = vm->frames[fp].base;
            st[sp++] = v;
            break;
        }
        case OP_INDEX: {
            int32_t i = st[--sp], a = st[sp - 1];
            uint32_t at = (uint32_t)a + (uint32_t)i;
            st[sp - 1] = at < (uint32_t)vm->heap_top ? vm->heap[at] : 0;
            break;
        }
        case OP_STORE_INDEX: {
            int32_t v = st[--sp], i = st[--sp], a = st[--sp];
            uint32_t at = (uint32_t)a + (uint32_t)i;
            if (at < (uint32_t)vm->heap_top)
                vm->heap[at] = v;
            break;
        }
        case OP_NEW: {
            int32_t n = st[sp - 1];
            if (n < 0 || n > HEAP - vm->heap_top)
                fail("heap exhausted");
            st[sp - 1] = vm->heap_top;
            memset(vm->heap + vm->heap_top, 0, sizeof(int32_t) * (size_t)n);
            vm->heap_top += n;
            break;
        }
        default:
            fail("bad opcode");
        }
    }
}

int main(int argc, char **argv)
{
    uint32_t reps = bench_reps(argc, argv, 68);
    compiler_t *c = xmalloc(sizeof *c);
    vm_t *vm = xmalloc(sizeof *vm);
    vm->steps = 0;
    uint32_t h = 0;
    for (uint32_t r = 0; r < reps; r++) {
        compile(c, script);
        int main_fn = -1;
        for (int i = 0; i < c->nfuncs; i++)
            if (c->funcs[i].name_len == 4 && memcmp(c->funcs[i].name, "main", 4) == 0)
                main_fn = i;
        if (main_fn < 0)
            fail("no main");
        int32_t v = run(vm, c, main_fn, (int32_t)r);
        if (r == 0)
            printf("main(0) = %d, code %d words\n", v, c->ncode);
        h = mix32(h, (uint32_t)v);
    }
    printf("vm steps %llu\n", (unsigned long long)vm->steps);
    bench_result("interp", reps, h);
    free(c);
    free(vm);
    return 0;
}
