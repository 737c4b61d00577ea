/* A C view of a TOML document parsed by tomlplusplus (toml_shim.cpp), for
 * spin.toml. Nodes are borrowed from the document and live as long as it. */
#ifndef WHIRL_SERVE_TOML_SHIM_H
#define WHIRL_SERVE_TOML_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct toml_shim_doc toml_shim_doc_t;
typedef struct toml_shim_node toml_shim_node_t;

typedef enum toml_shim_kind {
    TOML_SHIM_NONE = 0,
    TOML_SHIM_TABLE,
    TOML_SHIM_ARRAY,
    TOML_SHIM_STRING,
    TOML_SHIM_INTEGER,
    TOML_SHIM_FLOAT,
    TOML_SHIM_BOOL,
    TOML_SHIM_DATETIME, /* date, time or date-time */
} toml_shim_kind_t;

/* Parses the file at `path`. NULL on failure, with the reason (and line and
 * column) in `err`. */
toml_shim_doc_t *toml_shim_parse_file(const char *path, char *err, size_t errlen);
/* Parses `len` bytes of text (the name is for messages). */
toml_shim_doc_t *toml_shim_parse(const char *text, size_t len, const char *name, char *err,
                                 size_t errlen);
void toml_shim_free(toml_shim_doc_t *doc);

const toml_shim_node_t *toml_shim_root(const toml_shim_doc_t *doc);
toml_shim_kind_t toml_shim_kind(const toml_shim_node_t *node);
/* "table", "string", ... for messages. */
const char *toml_shim_kind_name(toml_shim_kind_t kind);
/* Line of the node in the source (0 if unknown). */
unsigned toml_shim_line(const toml_shim_node_t *node);

/* Table access: a key's value (NULL if absent or not a table), and the
 * number of keys and the i-th key and value (in key order). */
const toml_shim_node_t *toml_shim_get(const toml_shim_node_t *table, const char *key);
size_t toml_shim_table_size(const toml_shim_node_t *table);
const toml_shim_node_t *toml_shim_table_at(const toml_shim_node_t *table, size_t i,
                                           const char **key);

size_t toml_shim_array_size(const toml_shim_node_t *array);
const toml_shim_node_t *toml_shim_array_at(const toml_shim_node_t *array, size_t i);

/* Scalars; NULL / false when the node is of another kind. */
const char *toml_shim_string(const toml_shim_node_t *node);
bool toml_shim_integer(const toml_shim_node_t *node, int64_t *out);
bool toml_shim_bool(const toml_shim_node_t *node, bool *out);

#ifdef __cplusplus
}
#endif

#endif
