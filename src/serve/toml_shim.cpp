// C interface over tomlplusplus (toml_shim.h). The only C++ in whirl: it
// turns parse exceptions into messages and nodes into opaque pointers, so
// that spin.c stays C. Table keys are listed in the order toml++ keeps them.
#include "serve/toml_shim.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

struct toml_shim_doc {
    toml::table root;
};

namespace {

const toml::node *N(const toml_shim_node_t *n)
{
    return reinterpret_cast<const toml::node *>(n);
}

const toml_shim_node_t *C(const toml::node *n)
{
    return reinterpret_cast<const toml_shim_node_t *>(n);
}

toml_shim_doc_t *finish(toml::parse_result &&res, char *err, size_t errlen)
{
#if TOML_EXCEPTIONS
    auto *doc = new (std::nothrow) toml_shim_doc{std::move(res)};
#else
    if (!res) {
        const auto &e = res.error();
        std::snprintf(err, errlen, "%.*s (line %u, column %u)",
                      static_cast<int>(e.description().size()), e.description().data(),
                      static_cast<unsigned>(e.source().begin.line),
                      static_cast<unsigned>(e.source().begin.column));
        return nullptr;
    }
    auto *doc = new (std::nothrow) toml_shim_doc{std::move(res).table()};
#endif
    if (!doc)
        std::snprintf(err, errlen, "out of memory");
    return doc;
}

} // namespace

extern "C" toml_shim_doc_t *toml_shim_parse_file(const char *path, char *err, size_t errlen)
{
    try {
        return finish(toml::parse_file(path), err, errlen);
    } catch (const toml::parse_error &e) {
        std::snprintf(err, errlen, "%.*s (line %u, column %u)",
                      static_cast<int>(e.description().size()), e.description().data(),
                      static_cast<unsigned>(e.source().begin.line),
                      static_cast<unsigned>(e.source().begin.column));
    } catch (const std::exception &e) {
        std::snprintf(err, errlen, "%s", e.what());
    }
    return nullptr;
}

extern "C" toml_shim_doc_t *toml_shim_parse(const char *text, size_t len, const char *name,
                                            char *err, size_t errlen)
{
    try {
        return finish(toml::parse(std::string_view(text, len), std::string_view(name)), err,
                      errlen);
    } catch (const toml::parse_error &e) {
        std::snprintf(err, errlen, "%.*s (line %u, column %u)",
                      static_cast<int>(e.description().size()), e.description().data(),
                      static_cast<unsigned>(e.source().begin.line),
                      static_cast<unsigned>(e.source().begin.column));
    } catch (const std::exception &e) {
        std::snprintf(err, errlen, "%s", e.what());
    }
    return nullptr;
}

extern "C" void toml_shim_free(toml_shim_doc_t *doc)
{
    delete doc;
}

extern "C" const toml_shim_node_t *toml_shim_root(const toml_shim_doc_t *doc)
{
    return C(&doc->root);
}

extern "C" toml_shim_kind_t toml_shim_kind(const toml_shim_node_t *node)
{
    if (!node)
        return TOML_SHIM_NONE;
    switch (N(node)->type()) {
    case toml::node_type::table: return TOML_SHIM_TABLE;
    case toml::node_type::array: return TOML_SHIM_ARRAY;
    case toml::node_type::string: return TOML_SHIM_STRING;
    case toml::node_type::integer: return TOML_SHIM_INTEGER;
    case toml::node_type::floating_point: return TOML_SHIM_FLOAT;
    case toml::node_type::boolean: return TOML_SHIM_BOOL;
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return TOML_SHIM_DATETIME;
    default: return TOML_SHIM_NONE;
    }
}

extern "C" const char *toml_shim_kind_name(toml_shim_kind_t kind)
{
    switch (kind) {
    case TOML_SHIM_TABLE: return "table";
    case TOML_SHIM_ARRAY: return "array";
    case TOML_SHIM_STRING: return "string";
    case TOML_SHIM_INTEGER: return "integer";
    case TOML_SHIM_FLOAT: return "float";
    case TOML_SHIM_BOOL: return "boolean";
    case TOML_SHIM_DATETIME: return "date-time";
    default: return "nothing";
    }
}

extern "C" unsigned toml_shim_line(const toml_shim_node_t *node)
{
    return node ? static_cast<unsigned>(N(node)->source().begin.line) : 0;
}

extern "C" const toml_shim_node_t *toml_shim_get(const toml_shim_node_t *table, const char *key)
{
    const toml::table *t = table ? N(table)->as_table() : nullptr;
    return t ? C(t->get(std::string_view(key))) : nullptr;
}

extern "C" size_t toml_shim_table_size(const toml_shim_node_t *table)
{
    const toml::table *t = table ? N(table)->as_table() : nullptr;
    return t ? t->size() : 0;
}

extern "C" const toml_shim_node_t *toml_shim_table_at(const toml_shim_node_t *table, size_t i,
                                                      const char **key)
{
    const toml::table *t = table ? N(table)->as_table() : nullptr;
    if (!t || i >= t->size())
        return nullptr;
    auto it = t->begin();
    std::advance(it, static_cast<std::ptrdiff_t>(i));
    if (key)
        *key = it->first.str().data(); // keys are stored NUL-terminated std::strings
    return C(&it->second);
}

extern "C" size_t toml_shim_array_size(const toml_shim_node_t *array)
{
    const toml::array *a = array ? N(array)->as_array() : nullptr;
    return a ? a->size() : 0;
}

extern "C" const toml_shim_node_t *toml_shim_array_at(const toml_shim_node_t *array, size_t i)
{
    const toml::array *a = array ? N(array)->as_array() : nullptr;
    return a && i < a->size() ? C(a->get(i)) : nullptr;
}

extern "C" const char *toml_shim_string(const toml_shim_node_t *node)
{
    const toml::value<std::string> *s = node ? N(node)->as_string() : nullptr;
    // A string with an escaped NUL cannot be a C string: refuse it whole.
    if (!s || s->get().find('\0') != std::string::npos)
        return nullptr;
    return s->get().c_str();
}

extern "C" bool toml_shim_integer(const toml_shim_node_t *node, int64_t *out)
{
    const toml::value<int64_t> *v = node ? N(node)->as_integer() : nullptr;
    if (v)
        *out = v->get();
    return v != nullptr;
}

extern "C" bool toml_shim_bool(const toml_shim_node_t *node, bool *out)
{
    const toml::value<bool> *v = node ? N(node)->as_boolean() : nullptr;
    if (v)
        *out = v->get();
    return v != nullptr;
}
