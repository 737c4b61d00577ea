/* Values of Spin's PostgreSQL interfaces as PostgreSQL's text format:
 * what spin_pg.c (connections, statements, the older cases) and
 * spin_pg_types.c (version 4's cases and errors) share. */
#ifndef WHIRL_SERVE_SPIN_PG_H
#define WHIRL_SERVE_SPIN_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "whirl/component.h"

/* The kinds of values the interface versions know; each version numbers
 * its variant cases and data types its own way (pg_api_t in spin_pg.c). */
typedef enum pg_kind {
    K_BOOL, K_I8, K_I16, K_I32, K_I64, K_U8, K_U16, K_U32, K_U64, K_F32, K_F64, K_STR, K_BIN,
    K_DATE, K_TIME, K_DATETIME, K_TIMESTAMP, K_NULL, K_OTHER,
    /* spin:postgres@4.0.0 */
    K_UUID, K_JSONB, K_DECIMAL, K_RANGE_I32, K_RANGE_I64, K_RANGE_DEC, K_ARR_I32, K_ARR_I64,
    K_ARR_DEC, K_ARR_STR, K_INTERVAL,
    K_KINDS
} pg_kind_t;

/* The kind of a column of type OID t that version 4 added (K_OTHER if
 * none). */
pg_kind_t pg_v4_column_kind(Oid t);

/* A version-4 parameter value `p` of kind k (K_UUID..K_INTERVAL) as text
 * for PostgreSQL, and its type; NULL with *why when the value cannot be
 * written (a NUL in a string, say, or out of memory). The caller frees the
 * text. */
char *pg_v4_param_text(pg_kind_t k, const whirl_cval_t *p, Oid *type, char *why, size_t whylen);

/* Fills `p` (the db-value case's payload) from a column value of kind k
 * (K_UUID..K_INTERVAL) in text format. Returns false, with `p` untouched,
 * when the text is not in the form expected (a multi-dimensional array, a
 * non-default IntervalStyle): the caller answers `unsupported`. *e is set
 * only when memory ran out. */
bool pg_v4_cell(pg_kind_t k, const char *s, size_t len, whirl_cval_t *p, whirl_error_t **e);

/* res = err(query-failed(...)) of version 4: db-error with the server's
 * fields when `failed` holds an error result, else text(why). */
whirl_error_t *pg_v4_query_error(whirl_cval_t *res, const PGresult *failed, const char *why);

#endif
