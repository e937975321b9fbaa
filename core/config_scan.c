/* SPDX-License-Identifier: MIT */
/*
 * core/config_scan.c - the checks libconfig 1.5 does not make.
 *
 * Every file of a configuration, the one named and each it @includes, is
 * read here and scanned token by token, the way libconfig's scanner will
 * see it, before libconfig parses anything.  Refused, naming file and line:
 *  - a file that is not a regular file (a FIFO would block forever, a
 *    directory makes flex print and exit the process), or more than
 *    SCHED__CONFIG_MAX_BYTES in all;
 *  - a string, comment or @include path still open at the end of a file
 *    (libconfig silently drops the rest of the file);
 *  - a NUL byte (libconfig would stop reading at it);
 *  - an integer libconfig would truncate (it reads 4294967300 as 4);
 *  - more than SCHED__CONFIG_MAX_SETTINGS settings, or groups and lists
 *    nested deeper than SCHED__CONFIG_MAX_NESTING (libconfig's duplicate
 *    check is quadratic, its destructor recursive);
 *  - a byte-order mark anywhere but at the start of the main file, where
 *    it is skipped.
 * libconfig opens an included file again itself; between the two opens
 * the file is protected only by the ownership rules of its directory.
 * The texts are kept until the parse is over, so that libconfig's terse
 * messages can quote the line they are about.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BOM "\xef\xbb\xbf"
#define OOM "out of memory reading the configuration"
/* libconfig's MAX_INCLUDE_DEPTH. */
#define MAX_INCLUDE_DEPTH 10

/* One open group, array or list, and the setting it is the value of. */
struct frame {
    char kind;              /* '{', '[' or '(' */
    const char *name;       /* NULL for an element of a list */
    size_t name_len;
    size_t file;            /* where it was opened */
    int line;
};

/* Where libconfig's grammar is, across @include boundaries (libconfig
 * splices an included file's tokens into the including file's). */
enum expect {
    SETTING,                /* a name, or the end of the group */
    EQUALS,                 /* '=' or ':' */
    VALUE,                  /* the value of a setting */
    AFTER_SETTING,          /* ';' or ',' (optional), more strings */
    FIRST_ELEMENT,          /* a value, or the end of the array or list */
    ELEMENT,                /* a value, after a ',' */
    AFTER_ELEMENT           /* ',', the end, more strings */
};

struct grammar {
    enum expect expect;
    struct frame stack[SCHED__CONFIG_MAX_NESTING];
    int nstack;
    const char *name;       /* the last name seen */
    size_t name_len;
    const char *cur;        /* the setting whose value comes next, or NULL */
    size_t cur_len;
    int prev_string;        /* the last token was a string (they concatenate) */
};

struct lexer {
    struct sched__config_scan *sc;
    struct grammar *g;
    size_t file;            /* index into sc->files */
    const char *start, *p, *end;
    int line;
    int depth;              /* @include depth of this file */
    sched_error **err;
};

static int scan_file(struct sched__config_scan *sc, struct grammar *g, const char *path,
                     size_t from, int from_line, int depth, sched_error **err);

void sched__config_scan_init(struct sched__config_scan *sc,
                             char *(*include_path)(void *, const char *, const char *, char *, size_t),
                             void *arg)
{
    memset(sc, 0, sizeof *sc);
    sc->include_path = include_path;
    sc->arg = arg;
}

void sched__config_scan_free(struct sched__config_scan *sc)
{
    for (size_t i = 0; i < sc->nfiles; i++) {
        free(sc->files[i].path);
        free(sc->files[i].text);
        free(sc->files[i].includes);
    }
    free(sc->files);
    sc->files = NULL;
    sc->nfiles = 0;
}

static const char *file_name(const struct lexer *lx)
{
    return lx->sc->files[lx->file].path;
}

/* "linux.threads": the settings open around the value, then its own. */
static void value_name(const struct lexer *lx, char *buf, size_t len)
{
    const struct grammar *g = lx->g;
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i <= g->nstack; i++) {
        const char *n = i < g->nstack ? g->stack[i].name : g->cur;
        size_t nl = i < g->nstack ? g->stack[i].name_len : g->cur_len;
        if (n == NULL)
            continue;
        int k = snprintf(buf + used, len - used, "%s%.*s", used ? "." : "", (int)nl, n);
        if (k < 0 || (size_t)k >= len - used)
            break;
        used += (size_t)k;
    }
}

static int too_many_settings(struct lexer *lx)
{
    if (++lx->sc->settings <= SCHED__CONFIG_MAX_SETTINGS)
        return 0;
    return sched__error_set(lx->err, SCHED_ECONFIG,
                            "%s:%d: more than %d settings (the limit of sched.conf(5))",
                            file_name(lx), lx->line, SCHED__CONFIG_MAX_SETTINGS);
}

static int syntax_error(const struct lexer *lx)
{
    char context[512];
    sched__config_scan_context(lx->sc, file_name(lx), lx->line, context, sizeof context);
    return sched__error_set(lx->err, SCHED_ECONFIG, "%s:%d: syntax error%s", file_name(lx),
                            lx->line, context);
}

/* A value is complete: what may follow depends on what holds it. */
static void value_done(struct grammar *g, int is_string)
{
    int in_group = g->nstack == 0 || g->stack[g->nstack - 1].kind == '{';
    g->expect = in_group ? AFTER_SETTING : AFTER_ELEMENT;
    g->prev_string = is_string;
}

/*
 * Feed one token to libconfig's grammar (grammar.y of libconfig 1.5):
 * 'N' a name, 'S' a string, 'V' another scalar, '=' (or ':'), ';', ',',
 * a bracket, or '?' for anything libconfig calls garbage.  A syntax error
 * is reported here, so that libconfig never meets one: it leaks the
 * string it was looking at when it does.
 */
static int token(struct lexer *lx, char t)
{
    struct grammar *g = lx->g;
    char top = g->nstack > 0 ? g->stack[g->nstack - 1].kind : 0;
    int is_string = t == 'S';
    int is_value = t == 'S' || t == 'V' || t == '{' || t == '[' || t == '(';
    switch (g->expect) {
    case AFTER_SETTING:
        if (is_string && g->prev_string)
            return 0;
        g->cur = NULL;
        g->expect = SETTING;
        if (t == ';' || t == ',')
            return 0;
        /* The terminator may be left out. */
        /* fall through */
    case SETTING:
        if (t == 'N') {
            g->expect = EQUALS;
            return 0;
        }
        if (t == '}' && top == '{')
            break;
        return syntax_error(lx);
    case EQUALS:
        if (t != '=')
            return syntax_error(lx);
        g->cur = g->name;
        g->cur_len = g->name_len;
        g->expect = VALUE;
        return too_many_settings(lx);
    case VALUE:
        if (!is_value)
            return syntax_error(lx);
        break;
    case AFTER_ELEMENT:
        if (is_string && g->prev_string)
            return 0;
        if (t == ',') {
            g->expect = ELEMENT;
            return 0;
        }
        if ((t == ']' && top == '[') || (t == ')' && top == '('))
            break;
        return syntax_error(lx);
    case FIRST_ELEMENT:
        if ((t == ']' && top == '[') || (t == ')' && top == '('))
            break;
        /* fall through */
    case ELEMENT:
        /* An array holds scalars only. */
        if (!is_value || (top == '[' && t != 'S' && t != 'V'))
            return syntax_error(lx);
        int rc = too_many_settings(lx);
        if (rc != 0)
            return rc;
        break;
    }
    if (t == '}' || t == ']' || t == ')') {
        g->nstack--;
        value_done(g, 0);
    } else if (t == '{' || t == '[' || t == '(') {
        if (g->nstack == SCHED__CONFIG_MAX_NESTING)
            return sched__error_set(lx->err, SCHED_ECONFIG,
                                    "%s:%d: groups and lists nested more than %d deep",
                                    file_name(lx), lx->line, SCHED__CONFIG_MAX_NESTING);
        int named = top == 0 || top == '{';
        g->stack[g->nstack++] = (struct frame){ t, named ? g->cur : NULL, named ? g->cur_len : 0,
                                                lx->file, lx->line };
        g->cur = NULL;
        g->expect = t == '{' ? SETTING : FIRST_ELEMENT;
        g->prev_string = 0;
    } else {
        value_done(g, is_string);
    }
    return 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*'; }
static int is_name_char(char c) { return is_name_start(c) || is_digit(c) || c == '-' || c == '_'; }

/* strncasecmp for ASCII: not in every C runtime. */
static int word_is(const char *s, size_t len, const char *word)
{
    if (strlen(word) != len)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if ((s[i] | 0x20) != word[i])
            return 0;
    }
    return 1;
}

static size_t digits(const char *p, const char *end)
{
    size_t n = 0;
    while (p + n < end && is_digit(p[n]))
        n++;
    return n;
}

/* Length of libconfig's float at p: ([-+]?[0-9]*\.[0-9]*([eE][-+]?[0-9]+)?)
 * or ([-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+); 0 when none. */
static size_t float_len(const char *p, const char *end)
{
    size_t i = (p < end && (*p == '-' || *p == '+')) ? 1 : 0;
    size_t intd = digits(p + i, end);
    i += intd;
    int dot = p + i < end && p[i] == '.';
    if (dot)
        i += 1 + digits(p + i + 1, end);
    if (!dot && intd == 0)
        return 0;
    if (p + i < end && (p[i] == 'e' || p[i] == 'E')) {
        size_t j = i + 1;
        if (p + j < end && (p[j] == '-' || p[j] == '+'))
            j++;
        size_t ed = digits(p + j, end);
        if (ed > 0)
            return j + ed;
    }
    return dot ? i : 0;
}

/* An optional "L" or "LL" after an integer: its length. */
static size_t long_suffix(const char *p, const char *end)
{
    if (p >= end || *p != 'L')
        return 0;
    return (p + 1 < end && p[1] == 'L') ? 2 : 1;
}

/* Does the hexadecimal number of n digits at p exceed max? */
static int hex_exceeds(const char *p, size_t n, uint64_t max)
{
    while (n > 0 && *p == '0') {
        p++;
        n--;
    }
    if (n > 16)
        return 1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 16 + (uint64_t)(is_digit(p[i]) ? p[i] - '0' : (p[i] | 0x20) - 'a' + 10);
    return v > max;
}

static int range_error(struct lexer *lx, const char *tok, size_t n, const char *what)
{
    char name[256];
    value_name(lx, name, sizeof name);
    if (name[0] == '\0')
        return sched__error_set(lx->err, SCHED_ECONFIG, "%s:%d: %.*s is %s", file_name(lx),
                                lx->line, (int)n, tok, what);
    return sched__error_set(lx->err, SCHED_ECONFIG, "%s:%d: setting \"%s\" is %.*s, %s",
                            file_name(lx), lx->line, name, (int)n, tok, what);
}

#define INT_RANGE "outside the range of an integer [-2147483648, 2147483647]"
#define INT64_RANGE \
    "outside the range of a 64-bit integer [-9223372036854775808, 9223372036854775807]"

/* A number: longest match among libconfig's float, integer, integer64,
 * hex and hex64, checked against what libconfig will store it in.
 * Returns 0 with *n the token's length (0: not a number), or an error. */
static int number(struct lexer *lx, size_t *n)
{
    const char *p = lx->p, *end = lx->end;
    size_t fl = float_len(p, end);
    size_t sign = (*p == '-' || *p == '+') ? 1 : 0;
    size_t il = digits(p + sign, end);
    il = il > 0 ? sign + il : 0;
    size_t hl = 0;
    if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && is_hex(p[2])) {
        hl = 2;
        while (p + hl < end && is_hex(p[hl]))
            hl++;
    }
    size_t ilong = il > 0 ? il + long_suffix(p + il, end) : 0;
    size_t hlong = hl > 0 ? hl + long_suffix(p + hl, end) : 0;
    size_t best = fl;
    if (ilong > best)
        best = ilong;
    if (hlong > best)
        best = hlong;
    *n = best;
    if (best == 0)
        return 0;
    char tok[512];
    if (best >= sizeof tok)
        return range_error(lx, p, 40, "a number too long to read");
    memcpy(tok, p, best);
    tok[best] = '\0';
    if (best == fl) {
        double d = strtod(tok, NULL);
        if (!isfinite(d))
            return range_error(lx, p, best, "not a finite number");
        return 0;
    }
    if (hlong > 0 && best == hlong) {
        int is64 = hlong > hl;
        if (hex_exceeds(p + 2, hl - 2, is64 ? INT64_MAX : INT32_MAX))
            return range_error(lx, p, best,
                               is64 ? "outside the range of a 64-bit integer [0, 0x7fffffffffffffffL]"
                                    : "outside the range of an integer [0, 0x7fffffff] (write it with L for a 64-bit integer)");
        return 0;
    }
    errno = 0;
    long long v = strtoll(tok, NULL, 10);
    int out64 = errno == ERANGE;
    if (ilong > il) {
        if (out64)
            return range_error(lx, p, best, INT64_RANGE);
        return 0;
    }
    if (out64)
        return range_error(lx, p, best, INT_RANGE);
    if (v < INT_MIN || v > INT_MAX) {
        char what[256];
        snprintf(what, sizeof what, INT_RANGE " (write %.24sL for a 64-bit integer)", tok);
        return range_error(lx, p, best, what);
    }
    return 0;
}

/* At the start of a line: ^[ \t]*@include[ \t]+\" -- its length, or 0. */
static size_t include_open(const char *p, const char *end)
{
    size_t i = 0;
    while (p + i < end && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if ((size_t)(end - (p + i)) < 8 || memcmp(p + i, "@include", 8) != 0)
        return 0;
    i += 8;
    size_t ws = i;
    while (p + i < end && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (i == ws || p + i >= end || p[i] != '"')
        return 0;
    return i + 1;
}

/* An error in an included file: say where it was included from, once. */
static void add_included_from(const struct lexer *lx, int line)
{
    if (lx->err == NULL || *lx->err == NULL || sched_error_code(*lx->err) == SCHED_ENOMEM)
        return;
    const char *msg = sched_error_message(*lx->err);
    size_t n = strlen(file_name(lx));
    if (strstr(msg, "@included from ") != NULL ||
        (strncmp(msg, file_name(lx), n) == 0 && msg[n] == ':'))
        return;     /* already said, or about the including file itself */
    sched_error *e = NULL;
    int code = sched_error_code(*lx->err);
    sched__error_set(&e, code, "%s (in a file @included from %s:%d)", msg, file_name(lx), line);
    if (sched_error_code(e) != code)
        return;     /* out of memory: keep the first */
    sched_error_free(*lx->err);
    *lx->err = e;
}

/* The path of an @include after its opening quote, unescaped the way
 * libconfig does (only \\ and \"), then the file it names, scanned. */
static int include(struct lexer *lx, size_t start)
{
    int line = lx->line;
    size_t cap = 64, n = 0;
    char *path = malloc(cap);
    if (path == NULL)
        return sched__error_set(lx->err, SCHED_ENOMEM, OOM);
    for (;;) {
        if (lx->p >= lx->end) {
            free(path);
            return sched__error_set(lx->err, SCHED_ECONFIG,
                                    "%s:%d: the @include path is never closed (a '\"' is missing)",
                                    file_name(lx), line);
        }
        char c = *lx->p;
        if (c == '"') {
            lx->p++;
            break;
        }
        if (c == '\\') {
            if (lx->p + 1 >= lx->end || (lx->p[1] != '\\' && lx->p[1] != '"')) {
                free(path);
                return sched__error_set(lx->err, SCHED_ECONFIG,
                                        "%s:%d: in an @include path a backslash may only escape '\\' or '\"'",
                                        file_name(lx), lx->line);
            }
            c = lx->p[1];
            lx->p++;
        } else if (c == '\n') {
            lx->line++;
        } else if (c == '\0') {
            free(path);
            return sched__error_set(lx->err, SCHED_ECONFIG, "%s:%d: a NUL byte: this is not a text file",
                                    file_name(lx), lx->line);
        }
        lx->p++;
        if (n + 1 == cap) {
            char *np = realloc(path, cap *= 2);
            if (np == NULL) {
                free(path);
                return sched__error_set(lx->err, SCHED_ENOMEM, OOM);
            }
            path = np;
        }
        path[n++] = c;
    }
    path[n] = '\0';
    if (lx->depth == MAX_INCLUDE_DEPTH) {
        free(path);
        return sched__error_set(lx->err, SCHED_ECONFIG,
                                "%s:%d: @include nested more than %d deep (does a file include itself?)",
                                file_name(lx), line, MAX_INCLUDE_DEPTH);
    }
    char why[1024] = "";
    char *target = lx->sc->include_path(lx->sc->arg, file_name(lx), path, why, sizeof why);
    if (target == NULL) {
        int rc = why[0] == '\0' ? sched__error_set(lx->err, SCHED_ENOMEM, OOM)
                                 : sched__error_set(lx->err, SCHED_ECONFIG, "%s:%d: cannot @include \"%s\": %s",
                                                    file_name(lx), line, path, why);
        free(path);
        return rc;
    }
    free(path);
    /* Where the included text goes (config_include.c), recorded before
     * the file is read: its own @includes come after it. */
    struct sched__scan_file *f = &lx->sc->files[lx->file];
    struct sched__scan_include *v = realloc(f->includes, (f->nincludes + 1) * sizeof *v);
    if (v == NULL) {
        free(target);
        return sched__error_set(lx->err, SCHED_ENOMEM, OOM);
    }
    f->includes = v;
    v[f->nincludes++] = (struct sched__scan_include){ start, (size_t)(lx->p - lx->start) + f->skip,
                                                      lx->sc->nfiles };
    int rc = scan_file(lx->sc, lx->g, target, lx->file, line, lx->depth + 1, lx->err);
    free(target);
    if (rc != 0)
        add_included_from(lx, line);
    return rc;
}

/* A "..." string, after its opening quote; escapes as libconfig reads them. */
static int string(struct lexer *lx)
{
    int line = lx->line;
    for (; lx->p < lx->end; lx->p++) {
        char c = *lx->p;
        if (c == '"') {
            lx->p++;
            return token(lx, 'S');
        }
        if (c == '\\' && lx->p + 1 < lx->end && (lx->p[1] == '"' || lx->p[1] == '\\'))
            lx->p++;
        else if (c == '\n')
            lx->line++;
        else if (c == '\0')
            return sched__error_set(lx->err, SCHED_ECONFIG, "%s:%d: a NUL byte: this is not a text file",
                                    file_name(lx), lx->line);
    }
    return sched__error_set(lx->err, SCHED_ECONFIG,
                            "%s:%d: a string opened on this line is never closed (a '\"' is missing)",
                            file_name(lx), line);
}

static int comment(struct lexer *lx)
{
    int line = lx->line;
    for (lx->p += 2; lx->p + 1 < lx->end; lx->p++) {
        if (lx->p[0] == '*' && lx->p[1] == '/') {
            lx->p += 2;
            return 0;
        }
        if (*lx->p == '\n')
            lx->line++;
    }
    return sched__error_set(lx->err, SCHED_ECONFIG,
                            "%s:%d: a comment opened on this line is never closed (a \"*/\" is missing)",
                            file_name(lx), line);
}

/* Scan one file's text, token by token. */
static int lex(struct lexer *lx)
{
    int rc = 0;
    while (rc == 0 && lx->p < lx->end) {
        char c = *lx->p;
        int bol = lx->p == lx->start || lx->p[-1] == '\n';
        size_t n;
        if (bol && (n = include_open(lx->p, lx->end)) > 0) {
            size_t start = (size_t)(lx->p - lx->start) + lx->sc->files[lx->file].skip;
            lx->p += n;
            rc = include(lx, start);
        } else if (c == '\0') {
            rc = sched__error_set(lx->err, SCHED_ECONFIG, "%s:%d: a NUL byte: this is not a text file",
                                  file_name(lx), lx->line);
        } else if (c == '\n') {
            lx->line++;
            lx->p++;
        } else if (c == '#' || (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '/')) {
            while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '\0')
                lx->p++;
            /* libconfig's comment ends at a newline: without one it is
             * garbage.  The main file gets one added (scan_file). */
            if (lx->p == lx->end)
                rc = sched__error_set(lx->err, SCHED_ECONFIG,
                                      "%s:%d: the comment on the last line must end with a newline",
                                      file_name(lx), lx->line);
        } else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
            rc = comment(lx);
        } else if (c == '"') {
            lx->p++;
            rc = string(lx);
        } else if (is_name_start(c)) {
            const char *s = lx->p;
            while (lx->p < lx->end && is_name_char(*lx->p))
                lx->p++;
            size_t len = (size_t)(lx->p - s);
            if (word_is(s, len, "true") || word_is(s, len, "false")) {
                rc = token(lx, 'V');
            } else {
                lx->g->name = s;
                lx->g->name_len = len;
                rc = token(lx, 'N');
            }
        } else if (c == '=' || c == ':') {
            lx->p++;
            rc = token(lx, '=');
        } else if (strchr("{}[]();,", c) != NULL) {
            lx->p++;
            rc = token(lx, c);
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
            lx->p++;
        } else if ((rc = number(lx, &n)) == 0 && n > 0) {
            lx->p += n;
            rc = token(lx, 'V');
        } else if (rc == 0) {
            lx->p++;
            rc = token(lx, '?');
        }
    }
    return rc;
}

/* The end of the main file is the end of the input: is anything open? */
static int end_of_input(const struct lexer *lx)
{
    const struct grammar *g = lx->g;
    if (g->nstack > 0) {
        const struct frame *f = &g->stack[g->nstack - 1];
        const char *what = f->kind == '{' ? "group" : f->kind == '[' ? "array" : "list";
        char close = f->kind == '{' ? '}' : f->kind == '[' ? ']' : ')';
        return sched__error_set(lx->err, SCHED_ECONFIG,
                                "%s:%d: a %s opened on this line is never closed (a '%c' is missing)",
                                lx->sc->files[f->file].path, f->line, what, close);
    }
    if (g->expect != SETTING && g->expect != AFTER_SETTING)
        return sched__error_set(lx->err, SCHED_ECONFIG,
                                "%s:%d: the file ends before the setting \"%.*s\" has a value",
                                file_name(lx), lx->line, (int)g->name_len, g->name);
    return 0;
}

/* Read path (a file of depth includes), keep its text, scan it. */
static int scan_file(struct sched__config_scan *sc, struct grammar *g, const char *path,
                     size_t from, int from_line, int depth, sched_error **err)
{
    const char *from_name = depth > 0 ? sc->files[from].path : NULL;
    char *text;
    size_t len;
    int e = sched__read_file(path, SCHED__CONFIG_MAX_BYTES - sc->bytes, &text, &len);
    if (e != 0) {
        char why[256];
        if (e == SCHED__ENOTREG)
            snprintf(why, sizeof why, "not a regular file");
        else if (e == SCHED__EFBIG)
            snprintf(why, sizeof why, "larger than the limit of %d bytes%s",
                     SCHED__CONFIG_MAX_BYTES, depth > 0 ? " for all the files of a configuration" : "");
        else
            snprintf(why, sizeof why, "%s", strerror(e));
        int rc = e == ENOMEM ? SCHED_ENOMEM : e == ENOENT && depth == 0 ? SCHED_ENOENT : SCHED_ECONFIG;
        if (depth == 0)
            return sched__error_set(err, rc, "cannot read config file %s: %s", path, why);
        return sched__error_set(err, rc, "%s:%d: cannot @include \"%s\": %s", from_name, from_line, path,
                                why);
    }
    sc->bytes += len;
    if (depth == 0 && (len == 0 || text[len - 1] != '\n')) {
        /* Give libconfig the final newline its comments need. */
        char *t = realloc(text, len + 2);
        if (t == NULL) {
            free(text);
            return sched__error_set(err, SCHED_ENOMEM, OOM);
        }
        text = t;
        text[len++] = '\n';
        text[len] = '\0';
    }
    size_t skip = 0;
    if (len >= 3 && memcmp(text, BOM, 3) == 0) {
        if (depth > 0) {
            free(text);
            return sched__error_set(err, SCHED_ECONFIG,
                                    "%s:1: starts with a byte-order mark, which is accepted only at the start of the main file",
                                    path);
        }
        skip = 3;
    }
    struct sched__scan_file *nf = realloc(sc->files, (sc->nfiles + 1) * sizeof *nf);
    char *p = strdup(path);
    if (nf == NULL || p == NULL) {
        if (nf != NULL)
            sc->files = nf;
        free(p);
        free(text);
        return sched__error_set(err, SCHED_ENOMEM, OOM);
    }
    sc->files = nf;
    size_t me = sc->nfiles++;
    nf[me] = (struct sched__scan_file){ p, text, len, skip, depth > 0 ? from : me, from_line, NULL, 0 };

    struct lexer *lx = calloc(1, sizeof *lx);
    if (lx == NULL)
        return sched__error_set(err, SCHED_ENOMEM, OOM);
    lx->sc = sc;
    lx->g = g;
    lx->file = me;
    lx->start = lx->p = text + skip;
    lx->end = text + len;
    lx->line = 1;
    lx->depth = depth;
    lx->err = err;
    int rc = lex(lx);
    if (rc == 0 && depth == 0)
        rc = end_of_input(lx);
    free(lx);
    return rc;
}

/*
 * Read and check path and everything it includes.  Once the main file is
 * read (even when it is then refused), *text is its text to give libconfig
 * (after any byte-order mark, with a final newline), valid until
 * sched__config_scan_free.
 */
int sched__config_scan(struct sched__config_scan *sc, const char *path, const char **text,
                       sched_error **err)
{
    struct grammar *g = calloc(1, sizeof *g);
    if (g == NULL)
        return sched__error_set(err, SCHED_ENOMEM, OOM);
    int rc = scan_file(sc, g, path, 0, 0, 0, err);
    free(g);
    if (sc->nfiles > 0) {
        const struct sched__scan_file *f = &sc->files[0];
        *text = f->text + (f->len >= 3 && memcmp(f->text, BOM, 3) == 0 ? 3 : 0);
    }
    return rc;
}

/*
 * What to add to libconfig's message about file:line: the line itself
 * (' near "threads = = 4;"', except in a set-uid or set-gid process) and,
 * for an included file, where it was included from.  Empty when the file
 * is not one of sc's.
 */
void sched__config_scan_context(const struct sched__config_scan *sc, const char *file, int line,
                                char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < sc->nfiles; i++) {
        const struct sched__scan_file *f = &sc->files[i];
        if (strcmp(f->path, file) != 0)
            continue;
        const char *s = f->text, *end = f->text + f->len;
        for (int l = 1; l < line && s < end; s++)
            l += *s == '\n';
        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        size_t n = 0;
        while (s + n < end && s[n] != '\n' && s[n] != '\r')
            n++;
        int k = 0;
        /* A set-uid or set-gid program can read what its caller cannot
         * (a config named on its command line, a root-only @include):
         * the message must not hand the caller a line of it. */
        if (n > 0 && !sched__privileged())
            k = snprintf(buf, len, " near \"%.*s%s\"", n > 60 ? 60 : (int)n, s, n > 60 ? "..." : "");
        if (f->from != i && k >= 0 && (size_t)k < len)
            snprintf(buf + k, len - (size_t)k, " (in a file @included from %s:%d)",
                     sc->files[f->from].path, f->from_line);
        return;
    }
}
