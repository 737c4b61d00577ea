/* The shared option parser of the `whirl` commands (see options.h). It
 * depends on nothing else in src/cli, so that a command's pieces can be
 * compiled into a unit test on their own. */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "options.h"

/* "error: COMMAND: MESSAGE" and the hint to the command's help, with
 * control bytes escaped: arguments may carry anything. */
__attribute__((format(printf, 2, 3)))
static void args_error(const cli_args_t *a, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "error: %s: ", a->command);
    for (const char *p = buf; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            fprintf(stderr, "\\x%02x", c);
        else
            fputc(c, stderr);
    }
    fprintf(stderr, "\nRun `whirl help %s` for usage.\n", a->command);
}

void cli_args_init(cli_args_t *a, const char *command, const cli_option_t *options,
                   size_t noptions, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->command = command;
    a->options = options;
    a->noptions = noptions;
    a->argc = argc;
    a->argv = argv;
}

static const cli_option_t *find_long(const cli_args_t *a, const char *name, size_t len)
{
    for (size_t i = 0; i < a->noptions; i++) {
        const char *n = a->options[i].long_name;
        if (n && strlen(n) == len && strncmp(n, name, len) == 0)
            return &a->options[i];
    }
    return NULL;
}

static const cli_option_t *find_short(const cli_args_t *a, char c)
{
    for (size_t i = 0; i < a->noptions; i++)
        if (a->options[i].short_name && a->options[i].short_name == c)
            return &a->options[i];
    return NULL;
}

int cli_args_next(cli_args_t *a)
{
    a->value = NULL;
    a->option = NULL;
    a->name[0] = '\0';
    if (a->next >= a->argc)
        return CLI_ARGS_END;
    const char *arg = a->argv[a->next++];
    if (a->options_done || arg[0] != '-' || arg[1] == '\0') {
        if (a->stop_at_positional)
            a->options_done = true;
        a->value = arg;
        return CLI_ARGS_POSITIONAL;
    }
    if (strcmp(arg, "--") == 0) {
        a->options_done = true;
        return cli_args_next(a);
    }
    const cli_option_t *o;
    const char *inline_value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        snprintf(a->name, sizeof a->name, "--%.*s", (int)(len > 60 ? 60 : len), name);
        o = find_long(a, name, len);
        if (!o) {
            args_error(a, "unknown option '%s'", a->name);
            return CLI_ARGS_ERROR;
        }
        inline_value = eq ? eq + 1 : NULL;
        if (inline_value && o->arg == CLI_NO_ARG) {
            args_error(a, "option %s takes no value (got '%s')", a->name, arg);
            return CLI_ARGS_ERROR;
        }
    } else {
        snprintf(a->name, sizeof a->name, "-%c", arg[1]);
        o = find_short(a, arg[1]);
        if (!o) {
            args_error(a, "unknown option '%s'", arg);
            return CLI_ARGS_ERROR;
        }
        if (arg[2]) {
            if (o->arg == CLI_NO_ARG) {
                args_error(a, "unknown option '%s' (%s takes no value)", arg, a->name);
                return CLI_ARGS_ERROR;
            }
            inline_value = arg + 2;
        }
    }
    a->option = o;
    if (o->arg == CLI_REQUIRED_ARG && !inline_value) {
        if (a->next >= a->argc) {
            args_error(a, "option %s needs a value (%s)", a->name,
                       o->value_name ? o->value_name : "VALUE");
            return CLI_ARGS_ERROR;
        }
        inline_value = a->argv[a->next++];
    }
    a->value = inline_value;
    return o->id;
}

/* "-o, --output FILE" or "--cache[=DIR]" into buf. */
static void option_synopsis(const cli_option_t *o, char *buf, size_t len)
{
    size_t n = 0;
    if (o->short_name)
        n += (size_t)snprintf(buf + n, len - n, "-%c%s", o->short_name, o->long_name ? ", " : "");
    if (o->long_name && n < len)
        n += (size_t)snprintf(buf + n, len - n, "--%s", o->long_name);
    if (n < len && o->value_name)
        snprintf(buf + n, len - n, o->arg == CLI_OPTIONAL_ARG ? "[=%s]" : " %s", o->value_name);
}

/* Prints `help` in a column from `indent` after `used` characters already
 * on the line, word-wrapped at 79 columns (its own newlines count as
 * spaces). */
static void put_help(FILE *f, size_t used, size_t indent, const char *help)
{
    if (used >= indent) {
        fputc('\n', f);
        used = 0;
    }
    fprintf(f, "%*s", (int)(indent - used), "");
    size_t col = indent;
    const char *p = help;
    while (*p) {
        while (*p == ' ' || *p == '\n')
            p++;
        size_t n = strcspn(p, " \n");
        if (!n)
            break;
        if (col > indent && col + 1 + n > 79) {
            fprintf(f, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, n, f);
        col += n;
        p += n;
    }
    fputc('\n', f);
}

void cli_options_help(FILE *f, const cli_option_t *options, size_t noptions)
{
    for (size_t i = 0; i < noptions; i++) {
        if (!options[i].help)
            continue;
        char syn[96];
        option_synopsis(&options[i], syn, sizeof syn);
        fprintf(f, "  %s", syn);
        put_help(f, 2 + strlen(syn), 26, options[i].help);
    }
}

bool cli_group_next(const char **cursor, char *buf, size_t len)
{
    const char *s = *cursor;
    while (*s == ',')
        s++;
    if (!*s)
        return false;
    const char *end = strchr(s, ',');
    size_t n = end ? (size_t)(end - s) : strlen(s);
    snprintf(buf, len, "%.*s", (int)n, s);
    *cursor = s + n;
    return true;
}

const cli_group_key_t *cli_group_find(const cli_group_key_t *keys, size_t nkeys, char *item,
                                      const char **value)
{
    char *eq = strchr(item, '=');
    *value = NULL;
    if (eq) {
        *eq = '\0';
        *value = eq + 1;
    }
    for (size_t i = 0; i < nkeys; i++)
        if (strcmp(keys[i].name, item) == 0)
            return &keys[i];
    return NULL;
}

int cli_parse_switch(const char *value)
{
    static const char *const yes[] = {"y", "yes", "true", "on", "1"};
    static const char *const no[] = {"n", "no", "false", "off", "0"};
    if (!value)
        return 1;
    for (size_t i = 0; i < CLI_COUNT(yes); i++) {
        if (!strcasecmp(value, yes[i]))
            return 1;
        if (!strcasecmp(value, no[i]))
            return 0;
    }
    return -1;
}

void cli_group_help(FILE *f, char group, const cli_group_key_t *keys, size_t nkeys)
{
    for (size_t i = 0; i < nkeys; i++) {
        if (!keys[i].help)
            continue;
        const char *v = keys[i].value_name;
        char syn[96];
        snprintf(syn, sizeof syn, "-%c %s%s%s", group, keys[i].name,
                 v && v[0] != '[' ? "=" : "", v ? v : "");
        fprintf(f, "  %s", syn);
        put_help(f, 2 + strlen(syn), 34, keys[i].help);
    }
}
