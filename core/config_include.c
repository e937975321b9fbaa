/* SPDX-License-Identifier: MIT */
/*
 * core/config_include.c - @include as sched.conf(5) defines it.
 *
 * libconfig 1.5 opens an @include'd file by the path as written, so a
 * relative one resolves against the process's working directory: the
 * caller of a set-uid program could supply settings of their own.  Its
 * config_set_include_dir sets one directory for every file, nested ones
 * too, and is prepended even to absolute paths.  So libconfig never opens
 * a file here.  The scan (config_scan.c) reads every file, resolving each
 * @include against the directory of the file that holds it and, in a
 * set-uid or set-gid process, only after the file passes the ownership
 * rule of plugins (sched__trusted_path); libconfig then parses one text,
 * each @include replaced by the text it names.  The lines of that text
 * are mapped back afterwards, so every setting and every error still
 * names its own file and line.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "internal.h"

/* Expanded lines from `start` on are lines `line`, `line` + 1, ... of
 * file `file` (an index into names). */
struct seg {
    int start;
    size_t file;
    int line;
};

struct sched__config_lines {
    char **names;           /* each file's path; [0] the main file */
    size_t nnames;
    struct seg *segs;
    size_t nsegs, capsegs;
};

/* The text being built. */
struct out {
    char *buf;
    size_t len, cap;
    int line;               /* the expanded line being written, from 1 */
    struct sched__config_lines *map;
};

char *sched__include_resolve(const char *including, const char *path)
{
    if (sched__path_is_absolute(path))
        return strdup(path);
    const char *sep = strrchr(including, '/');
#if defined(_WIN32)
    const char *bs = strrchr(including, '\\');
    if (bs != NULL && (sep == NULL || bs > sep))
        sep = bs;
#endif
    if (sep == NULL)
        return strdup(path);    /* beside a file named relative to the cwd */
    size_t ld = (size_t)(sep - including) + 1, lp = strlen(path);
    char *s = malloc(ld + lp + 1);
    if (s != NULL) {
        memcpy(s, including, ld);
        memcpy(s + ld, path, lp + 1);
    }
    return s;
}

static int put(struct out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *b = realloc(o->buf, cap);
        if (b == NULL)
            return SCHED_ENOMEM;
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
    for (size_t i = 0; i < n; i++)
        o->line += s[i] == '\n';
    return 0;
}

static int seg(struct out *o, size_t file, int line)
{
    struct sched__config_lines *m = o->map;
    if (m->nsegs == m->capsegs) {
        size_t cap = m->capsegs ? m->capsegs * 2 : 16;
        struct seg *v = realloc(m->segs, cap * sizeof *v);
        if (v == NULL)
            return SCHED_ENOMEM;
        m->segs = v;
        m->capsegs = cap;
    }
    m->segs[m->nsegs++] = (struct seg){ o->line, file, line };
    return 0;
}

static int newlines(const char *s, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '\n';
    return k;
}

/* File i's text into o, each of its @includes replaced by the file it
 * read.  An @include starts a line, so the included text does too; a
 * newline after it ends its last line before the rest of the including
 * line goes on. */
static int emit(const struct sched__config_scan *sc, size_t i, struct out *o)
{
    const struct sched__scan_file *f = &sc->files[i];
    size_t pos = f->skip;
    int line = 1, rc = seg(o, i, 1);
    for (size_t k = 0; rc == 0 && k < f->nincludes; k++) {
        const struct sched__scan_include *inc = &f->includes[k];
        line += newlines(f->text + pos, inc->start - pos);
        rc = put(o, f->text + pos, inc->start - pos);
        if (rc == 0)
            rc = emit(sc, inc->file, o);
        line += newlines(f->text + inc->start, inc->end - inc->start);
        if (rc == 0)
            rc = put(o, "\n", 1);
        if (rc == 0)
            rc = seg(o, i, line);
        pos = inc->end;
    }
    if (rc == 0)
        rc = put(o, f->text + pos, f->len - pos);
    return rc;
}

void sched__include_lines_free(struct sched__config_lines *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nnames; i++)
        free(m->names[i]);
    free(m->names);
    free(m->segs);
    free(m);
}

int sched__include_expand(const struct sched__config_scan *sc, char **text,
                          struct sched__config_lines **lines)
{
    *text = NULL;
    *lines = NULL;
    struct sched__config_lines *m = calloc(1, sizeof *m);
    if (m == NULL)
        return SCHED_ENOMEM;
    m->names = calloc(sc->nfiles, sizeof *m->names);
    if (m->names == NULL) {
        free(m);
        return SCHED_ENOMEM;
    }
    for (; m->nnames < sc->nfiles; m->nnames++) {
        if ((m->names[m->nnames] = strdup(sc->files[m->nnames].path)) == NULL) {
            sched__include_lines_free(m);
            return SCHED_ENOMEM;
        }
    }
    struct out o = { NULL, 0, 0, 1, m };
    int rc = emit(sc, 0, &o);
    if (rc != 0) {
        free(o.buf);
        sched__include_lines_free(m);
        return rc;
    }
    *text = o.buf;
    *lines = m;
    return 0;
}

void sched__include_locate(const struct sched__config_lines *m, int line, const char **file, int *orig)
{
    size_t lo = 0, hi = m->nsegs;
    /* The last segment starting at or before line. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->segs[mid].start <= line)
            lo = mid;
        else
            hi = mid;
    }
    const struct seg *s = &m->segs[lo];
    *file = m->names[s->file];
    *orig = s->line + (line - s->start);
}

/* Every setting's file and line, from the expanded text to its own.  A
 * setting of the main file keeps no file name, as libconfig gives it. */
static void relocate(const struct sched__config_lines *m, config_setting_t *s)
{
    const char *file;
    int line;
    sched__include_locate(m, (int)s->line, &file, &line);
    s->line = (unsigned)line;
    s->file = file == m->names[0] ? NULL : file;
    int n = config_setting_length(s);
    for (int i = 0; config_setting_is_aggregate(s) && i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (e != NULL)
            relocate(m, e);
    }
}

void sched__include_relocate(const struct sched__config_lines *m, config_setting_t *root)
{
    int n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(root, (unsigned)i);
        if (e != NULL)
            relocate(m, e);
    }
}
