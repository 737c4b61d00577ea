/* Typed function references: reading heap types from code bytes and
 * comparing types across modules (see reftypes.h for the representation). */
#include "module.h"
#include "proposals.h"
#include "reader.h"

wasm_valtype_t wasm_read_heaptype(reader_t *r, bool nullable, const char **proposal)
{
    *proposal = NULL;
    const uint8_t *at = r->p;
    int64_t ht = read_s33(r);
    if (!reader_ok(r))
        return 0;
    wasm_valtype_t nn = nullable ? 0 : WASM_NONNULL;
    if (ht >= 0) {
        if ((uint64_t)ht > WASM_TYPEIDX_MAX)
            return 0;
        return wasm_ref_concrete((uint32_t)ht, nullable);
    }
    uint32_t code = (uint32_t)(ht & 0x7F);
    if (r->p == at + 1 && wasm_heaptype_is_abstract(code))
        return code | nn;
    *proposal = wasm_proposal_valtype((uint8_t)code);
    return 0;
}

void wasm_skip_valtype(reader_t *r)
{
    uint8_t b = read_u8(r);
    if (b == WASM_REF_NULL_PREFIX || b == WASM_REF_PREFIX)
        read_s33(r);
}

wasm_valtype_t wasm_blocktype_ref(reader_t *r, int64_t bt)
{
    if (bt != -0x1d && bt != -0x1c)
        return 0;
    const char *proposal;
    return wasm_read_heaptype(r, bt == -0x1d, &proposal);
}

/* Whether concrete references `ia` (in a's module) and `ib` are to equal
 * types; a reference to the type being compared itself (recursion) equals
 * only the same on the other side. */
static bool concrete_match(const wasm_functype_t *a, uint32_t ia, const wasm_functype_t *b,
                           uint32_t ib)
{
    bool self_a = ia == a->canonical, self_b = ib == b->canonical;
    if (self_a || self_b)
        return self_a && self_b;
    if (!a->module_types || !b->module_types)
        return false;
    return wasm_functype_match(&a->module_types[ia], &b->module_types[ib]);
}

static bool valtype_equal_in(wasm_valtype_t x, const wasm_functype_t *a, wasm_valtype_t y,
                             const wasm_functype_t *b)
{
    if (!wasm_ref_is_concrete(x) || !wasm_ref_is_concrete(y))
        return x == y;
    if ((x & WASM_NONNULL) != (y & WASM_NONNULL))
        return false;
    return concrete_match(a, wasm_ref_typeidx(x), b, wasm_ref_typeidx(y));
}

bool wasm_functype_match(const wasm_functype_t *a, const wasm_functype_t *b)
{
    if (a == b)
        return true;
    if (a->nparams != b->nparams || a->nresults != b->nresults ||
        a->has_concrete != b->has_concrete)
        return false;
    if (!a->has_concrete) {
        return (a->nparams == 0 ||
                memcmp(a->params, b->params, a->nparams * sizeof *a->params) == 0) &&
               (a->nresults == 0 ||
                memcmp(a->results, b->results, a->nresults * sizeof *a->results) == 0);
    }
    if (a->module_types == b->module_types && a->module_types)
        return a->canonical == b->canonical;
    for (uint32_t i = 0; i < a->nparams; i++)
        if (!valtype_equal_in(a->params[i], a, b->params[i], b))
            return false;
    for (uint32_t i = 0; i < a->nresults; i++)
        if (!valtype_equal_in(a->results[i], a, b->results[i], b))
            return false;
    return true;
}

bool wasm_valtype_match(wasm_valtype_t a, const wasm_functype_t *types_a, wasm_valtype_t b,
                        const wasm_functype_t *types_b)
{
    if (!wasm_ref_is_concrete(a) || !wasm_ref_is_concrete(b))
        return wasm_valtype_sub(a, b);
    if (wasm_ref_nullable(a) && !wasm_ref_nullable(b))
        return false;
    if (!types_a || !types_b)
        return false;
    return wasm_functype_match(&types_a[wasm_ref_typeidx(a)], &types_b[wasm_ref_typeidx(b)]);
}
