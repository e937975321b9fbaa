/* SPDX-License-Identifier: MIT */
/*
 * core/loader.c - finding, checking and loading backend plugins.
 *
 * Loading a plugin is a security boundary and the place users first meet
 * a broken installation, so every refusal is one sentence naming the file
 * and the reason, and nothing falls back silently: a fallback backend is
 * tried only when the config lists one, and the switch is logged.
 */
#include "config.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifndef SCHED_PLUGINDIR
#error "SCHED_PLUGINDIR must name the built-in plugin directory"
#endif

#define MSG_MAX 2048

size_t sched__plugin_search_dirs(const struct sched__config *cfg, const char ***dirs)
{
    const char *const *cdirs;
    size_t n = sched__config_plugin_dirs(cfg, &cdirs);
    const char **v = malloc((n + 1) * sizeof *v);
    if (v == NULL) {
        *dirs = NULL;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = cdirs[i];
    if (sched__nosystem()) {
        *dirs = v;
        return n;
    }
    v[n] = sched__builtin_plugin_dir();
    *dirs = v;
    return n + 1;
}

/* The last directory separator in path, or NULL.  Windows accepts '/'
 * as well as its own separator, so both count there. */
static char *last_sep(const char *path)
{
    const char *sep = strrchr(path, SCHED__PATH_SEP);
    const char *slash = strrchr(path, '/');
    if (sep == NULL || (slash != NULL && slash > sep))
        sep = slash;
    return (char *)sep;
}

static char *path_join(const char *dir, const char *name, const char *suffix)
{
    size_t ld = strlen(dir), ln = strlen(name), ls = strlen(suffix);
    while (ld > 1 && dir[ld - 1] == SCHED__PATH_SEP)
        ld--;
    char *p = malloc(ld + 1 + ln + ls + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, dir, ld);
    p[ld] = SCHED__PATH_SEP;
    memcpy(p + ld + 1, name, ln);
    memcpy(p + ld + 1 + ln, suffix, ls + 1);
    return p;
}

/* The backend name a plugin file stands for ("linux" for .../linux.so),
 * or 0 when the file is not named like a plugin. */
static int name_of_file(const char *file, char *name, size_t len)
{
    const char *base = last_sep(file);
    base = base != NULL ? base + 1 : file;
    size_t lb = strlen(base), ls = strlen(SCHED__PLUGIN_SUFFIX);
    if (lb <= ls || strcmp(base + lb - ls, SCHED__PLUGIN_SUFFIX) != 0 || lb - ls >= len)
        return 0;
    memcpy(name, base, lb - ls);
    name[lb - ls] = '\0';
    return sched__backend_name_valid(name);
}

struct each_state {
    const char *dir;
    char **seen;            /* names already reported */
    size_t nseen, cap;
    void (*fn)(const char *name, const char *path, void *arg);
    void *arg;
};

static void each_entry(const char *file, void *arg)
{
    struct each_state *st = arg;
    char name[256];
    if (!name_of_file(file, name, sizeof name))
        return;
    for (size_t i = 0; i < st->nseen; i++) {
        if (strcmp(st->seen[i], name) == 0)
            return;
    }
    char *path = path_join(st->dir, file, "");
    if (path == NULL || !sched__file_exists(path)) {
        free(path);
        return;
    }
    if (st->nseen == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 8;
        char **v = realloc(st->seen, cap * sizeof *v);
        if (v == NULL) {
            free(path);
            return;
        }
        st->seen = v;
        st->cap = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL) {
        free(path);
        return;
    }
    st->seen[st->nseen++] = copy;
    st->fn(name, path, st->arg);
    free(path);
}

struct file_list {
    char **v;
    size_t n, cap;
};

static void collect_file(const char *file, void *arg)
{
    struct file_list *fl = arg;
    if (fl->n == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 16;
        char **v = realloc(fl->v, cap * sizeof *v);
        if (v == NULL)
            return;
        fl->v = v;
        fl->cap = cap;
    }
    char *copy = strdup(file);
    if (copy != NULL)
        fl->v[fl->n++] = copy;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every plugin file along dirs, each name once (the one a load would
 * pick), in search order and by name within a directory.  Listing is best
 * effort: a directory that cannot be read lists nothing. */
void sched__plugin_each(const char *const *dirs, size_t ndirs,
                        void (*fn)(const char *name, const char *path, void *arg), void *arg)
{
    struct each_state st = { .fn = fn, .arg = arg };
    for (size_t i = 0; i < ndirs; i++) {
        struct file_list fl = { 0 };
        st.dir = dirs[i];
        if (sched__path_is_absolute(dirs[i]))
            sched__dir_list(dirs[i], collect_file, &fl);
        if (fl.n > 0)
            qsort(fl.v, fl.n, sizeof *fl.v, compare_names);
        for (size_t j = 0; j < fl.n; j++) {
            each_entry(fl.v[j], &st);
            free(fl.v[j]);
        }
        free(fl.v);
    }
    for (size_t i = 0; i < st.nseen; i++)
        free(st.seen[i]);
    free(st.seen);
}

struct names_buf {
    char *buf;
    size_t len, used;
};

static void append_name(const char *name, const char *path, void *arg)
{
    (void)path;
    struct names_buf *nb = arg;
    int n = snprintf(nb->buf + nb->used, nb->len - nb->used, "%s%s", nb->used ? ", " : "", name);
    if (n > 0 && (size_t)n < nb->len - nb->used)
        nb->used += (size_t)n;
}

/*
 * Find <name>.so along dirs.  0 with *path (malloc'd), or SCHED_ELOAD for
 * an invalid name, or SCHED_ENOENT with a sentence naming where the name
 * was set (origin, "file:line" or a variable; may be NULL), the files
 * tried and the backends that are available.
 */
static int find_from(const char *name, const char *origin, const char *const *dirs, size_t ndirs,
                     char **path, sched_error **err)
{
    *path = NULL;
    if (!sched__backend_name_valid(name))
        return sched__error_set(err, SCHED_ELOAD,
                                "backend name \"%s\" is invalid: use only a-z, 0-9, '_' and '-'",
                                name != NULL ? name : "");
    char tried[MSG_MAX] = "";
    size_t used = 0;
    for (size_t i = 0; i < ndirs; i++) {
        if (!sched__path_is_absolute(dirs[i]))
            continue;
        char *p = path_join(dirs[i], name, SCHED__PLUGIN_SUFFIX);
        if (p == NULL)
            return sched__error_set(err, SCHED_ENOMEM, "out of memory loading a backend");
        if (sched__file_exists(p)) {
            *path = p;
            return 0;
        }
        int n = snprintf(tried + used, sizeof tried - used, "%s%s", used ? ", " : "", p);
        if (n > 0 && (size_t)n < sizeof tried - used)
            used += (size_t)n;
        free(p);
    }
    char avail[MSG_MAX] = "";
    struct names_buf nb = { avail, sizeof avail, 0 };
    sched__plugin_each(dirs, ndirs, append_name, &nb);
    char where[MSG_MAX] = "";
    if (origin != NULL)
        snprintf(where, sizeof where, " (set at %s)", origin);
    return sched__error_set(err, SCHED_ENOENT, "backend \"%s\"%s not found: searched %s; %s%s", name,
                            where, used ? tried : "no directories",
                            nb.used ? "available backends: " : "no backends are installed",
                            avail);
}

int sched__plugin_find(const char *name, const char *const *dirs, size_t ndirs, char **path,
                       sched_error **err)
{
    return find_from(name, NULL, dirs, ndirs, path, err);
}

static int refuse(sched_error **err, const char *path, const char *reason)
{
    return sched__error_set(err, SCHED_ELOAD, "plugin %s refused: %s", path, reason);
}

/* The required ops, by name, for the refusal sentence. */
static const char *missing_required_op(const sched_backend_ops *ops)
{
    if (ops->create == NULL) return "create";
    if (ops->destroy == NULL) return "destroy";
    if (ops->schedule == NULL) return "schedule";
    if (ops->schedule_main == NULL) return "schedule_main";
    if (ops->run == NULL) return "run";
    if (ops->stop == NULL) return "stop";
    return NULL;
}

/* A name libconfig can write as a setting: [A-Za-z*][-A-Za-z0-9_*]*. */
static int key_name_valid(const char *n)
{
    if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || *n == '*'))
        return 0;
    for (; *n; n++) {
        if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') ||
              *n == '-' || *n == '_' || *n == '*'))
            return 0;
    }
    return 1;
}

/* The backend's own config_keys, which the host validates config groups
 * against: a key the host cannot check is the plugin's bug, refused here
 * rather than turned into a confusing config error later. */
static int check_config_keys(const sched_config_key *keys, char *why, size_t len)
{
    for (const sched_config_key *k = keys; k != NULL && k->name != NULL; k++) {
        if (!key_name_valid(k->name)) {
            snprintf(why, len, "its config key \"%s\" is not a valid setting name", k->name);
            return SCHED_ELOAD;
        }
        if (k->type < SCHED_CONFIG_INT || k->type > SCHED_CONFIG_STRING) {
            snprintf(why, len, "its config key \"%s\" has the unknown type %d", k->name, (int)k->type);
            return SCHED_ELOAD;
        }
        if (k->type == SCHED_CONFIG_INT && k->min > k->max) {
            snprintf(why, len,
                     "its config key \"%s\" has a minimum (%" PRId64 ") greater than its maximum (%" PRId64 ")",
                     k->name, k->min, k->max);
            return SCHED_ELOAD;
        }
        for (const sched_config_key *e = keys; e != k; e++) {
            if (strcmp(e->name, k->name) == 0) {
                snprintf(why, len, "its config key \"%s\" is declared twice", k->name);
                return SCHED_ELOAD;
            }
        }
    }
    return 0;
}

/* Check the descriptor of an opened plugin; 0 or a refusal reason. */
static int check_descriptor(const sched_plugin_descriptor *d, const char *expect,
                            sched_backend_ops *ops, char *why, size_t len)
{
    if (d == NULL) {
        snprintf(why, len, "its entry function returned no descriptor");
        return SCHED_ELOAD;
    }
    if (d->abi_major != SCHED_PLUGIN_ABI_MAJOR) {
        snprintf(why, len, "it was built for plugin ABI %u.%u, and this host implements ABI %d.%d",
                 (unsigned)d->abi_major, (unsigned)d->abi_minor, SCHED_PLUGIN_ABI_MAJOR,
                 SCHED_PLUGIN_ABI_MINOR);
        return SCHED_ELOAD;
    }
    if (d->size < SCHED_PLUGIN_DESCRIPTOR_V1_MIN_SIZE) {
        snprintf(why, len, "its descriptor is %u bytes, smaller than the %zu bytes of ABI 1.0",
                 (unsigned)d->size, (size_t)SCHED_PLUGIN_DESCRIPTOR_V1_MIN_SIZE);
        return SCHED_ELOAD;
    }
    /* Copy only the ops the plugin's descriptor has; newer ops stay NULL. */
    size_t have = d->size - offsetof(sched_plugin_descriptor, ops);
    memset(ops, 0, sizeof *ops);
    memcpy(ops, &d->ops, have < sizeof *ops ? have : sizeof *ops);
    const char *op = missing_required_op(ops);
    if (op != NULL) {
        snprintf(why, len, "its required op \"%s\" is NULL", op);
        return SCHED_ELOAD;
    }
    if ((ops->park == NULL) != (ops->unpark == NULL)) {
        snprintf(why, len, "it sets only one of the ops \"park\" and \"unpark\"");
        return SCHED_ELOAD;
    }
    if (d->name == NULL) {
        snprintf(why, len, "its descriptor names no backend (its name is NULL); it must be \"%s\", as its file name is",
                 expect);
        return SCHED_ELOAD;
    }
    /* Read no further than a name can be long: an unterminated one must
     * not take the refusal past the plugin's buffer. */
    size_t nlen = strnlen(d->name, SCHED__BACKEND_NAME_MAX + 1);
    if (nlen > SCHED__BACKEND_NAME_MAX) {
        snprintf(why, len,
                 "its descriptor's name is not a string of at most %d bytes (it is longer, or not terminated); it must be \"%s\", as its file name is",
                 SCHED__BACKEND_NAME_MAX, expect);
        return SCHED_ELOAD;
    }
    if (strcmp(d->name, expect) != 0) {
        snprintf(why, len, "its descriptor names the backend \"%.*s\", not \"%s\" as its file name does",
                 (int)nlen, d->name, expect);
        return SCHED_ELOAD;
    }
    if (d->description == NULL || d->version == NULL) {
        snprintf(why, len, "its descriptor has no %s", d->version == NULL ? "version" : "description");
        return SCHED_ELOAD;
    }
    /* Reserved for a later minor: a plugin that sets it expects a host
     * that knows what it means. */
    if (d->reserved != 0) {
        snprintf(why, len, "its descriptor's reserved field is %u, not 0", (unsigned)d->reserved);
        return SCHED_ELOAD;
    }
    return check_config_keys(d->config_keys, why, len);
}

static void (*open_trace)(const char *path);

/* Have fn(path) called just before each plugin file is opened (NULL:
 * stop).  For schedctl, which probes plugins in a child process and
 * names the file that was being loaded when the child died.  Not
 * synchronised: set it before any host is opened. */
void sched__loader_trace(void (*fn)(const char *path))
{
    open_trace = fn;
}

/*
 * Open one plugin file and check everything short of creating it: the
 * ownership rule on the file and every directory above it (before dlopen
 * runs any of its code), that it loads, its entry
 * symbol, ABI version, descriptor size, required ops and name.
 */
int sched__plugin_open(const char *path, const sched_host_services *svc,
                       struct sched__plugin *p, sched_error **err)
{
    memset(p, 0, sizeof *p);
    if (svc == NULL)
        svc = &sched__services;
    char why[MSG_MAX];
    char name[256];
    if (!sched__path_is_absolute(path))
        return refuse(err, path, "its path is not absolute");
    if (!name_of_file(path, name, sizeof name))
        return refuse(err, path, "its file name is not <backend>" SCHED__PLUGIN_SUFFIX
                                 " with a backend name of a-z, 0-9, '_' and '-'");

    char *real;
    int rc = sched__trusted_path(path, &real, why, sizeof why);
    if (rc == SCHED_ENOMEM)
        return sched__error_set(err, SCHED_ENOMEM, "out of memory loading a backend");
    if (rc != 0)
        return refuse(err, path, why);

    if (open_trace != NULL)
        open_trace(path);
    char dlerr[1024];
    /* The resolved path: the one that was checked. */
    void *lib = sched__dl_open(real, dlerr, sizeof dlerr);
    free(real);
    if (lib == NULL) {
        snprintf(why, sizeof why, "it is not a loadable shared object (%s)", dlerr);
        return refuse(err, path, why);
    }
    void *sym = sched__dl_sym(lib, SCHED_PLUGIN_ENTRY_NAME);
    if (sym == NULL) {
        sched__dl_close(lib);
        return refuse(err, path, "it does not export " SCHED_PLUGIN_ENTRY_NAME);
    }
    sched_plugin_entry_fn entry;
    /* POSIX guarantees a data pointer from dlsym converts to a function. */
    memcpy(&entry, &sym, sizeof entry);
    const sched_plugin_descriptor *d = entry(svc);
    rc = check_descriptor(d, name, &p->ops, why, sizeof why);
    if (rc != 0) {
        sched__dl_close(lib);
        memset(p, 0, sizeof *p);
        return refuse(err, path, why);
    }
    p->path = strdup(path);
    if (p->path == NULL) {
        sched__dl_close(lib);
        memset(p, 0, sizeof *p);
        return sched__error_set(err, SCHED_ENOMEM, "out of memory loading a backend");
    }
    p->lib = lib;
    p->desc = d;
    return 0;
}

void sched__plugin_close(struct sched__plugin *p)
{
    if (p->lib != NULL)
        sched__dl_close(p->lib);
    free(p->path);
    memset(p, 0, sizeof *p);
}

/* Find, open, validate the config group of, and create one backend. */
static int load_one(sched_host *host, const char *name, const char *origin, const char *const *dirs,
                    size_t ndirs, const sched_host_services *svc, sched_error **err)
{
    char *path;
    int rc = find_from(name, origin, dirs, ndirs, &path, err);
    if (rc != 0)
        return rc;
    struct sched__plugin p;
    rc = sched__plugin_open(path, svc, &p, err);
    free(path);
    if (rc != 0)
        return rc;
    rc = sched__config_validate_group(host->cfg, name, p.desc->config_keys, err);
    if (rc != 0) {
        sched__plugin_close(&p);
        return rc;
    }

    /* create() may already read its config through the services, which
     * find the backend's name through host->desc. */
    host->lib = p.lib;
    host->desc = p.desc;
    host->ops = p.ops;
    host->plugin_path = p.path;
    sched_backend_env env = { sizeof env, svc, (sched_plugin_host *)host };
    char msg[MSG_MAX] = "";
    void *self = NULL;
    rc = host->ops.create(&env, &self, msg, sizeof msg);
    /* The backend may have filled the buffer to the last byte. */
    msg[sizeof msg - 1] = '\0';
    if (rc > 0) {
        /* Not 0 and not an error code: whatever the backend meant, it
         * broke the contract, and self cannot be trusted either. */
        snprintf(msg, sizeof msg, "its create() returned %d, which is neither 0 nor a negative SCHED_E* code",
                 rc);
        rc = SCHED_EBACKEND;
    }
    if (rc < 0) {
        sched__error_set(err, rc, "backend \"%s\" (%s) failed to start: %s", name, p.path,
                         msg[0] ? msg : sched_strerror(rc));
        host->lib = NULL;
        host->desc = NULL;
        memset(&host->ops, 0, sizeof host->ops);
        host->plugin_path = NULL;
        sched__plugin_close(&p);
        return rc;
    }
    host->backend = self;
    return 0;
}

/*
 * Load host->cfg's backend; when it cannot load, each listed fallback in
 * order, logging every switch.  On total failure the error is the first
 * backend's sentence followed by each fallback's.
 */
int sched__loader_open(sched_host *host, const sched_host_services *svc, sched_error **err)
{
    assert(host->cfg != NULL && host->lib == NULL);
    const char **dirs;
    size_t ndirs = sched__plugin_search_dirs(host->cfg, &dirs);
    if (dirs == NULL)
        return sched__error_set(err, SCHED_ENOMEM, "out of memory loading a backend");
    const char *const *fallbacks;
    size_t nfb = sched__config_fallbacks(host->cfg, &fallbacks);
    const char *name = sched__config_backend(host->cfg);

    sched_error *first = NULL;
    int rc = load_one(host, name, sched__config_backend_origin(host->cfg), dirs, ndirs, svc, &first);
    if (rc == 0 || nfb == 0) {
        free(dirs);
        if (rc != 0 && err != NULL)
            *err = first;
        else
            sched_error_free(first);
        return rc;
    }

    char msg[4 * MSG_MAX];
    snprintf(msg, sizeof msg, "%s", sched_error_message(first));
    int first_rc = rc;
    sched_error *prev = first;
    for (size_t i = 0; i < nfb; i++) {
        sched__log(SCHED_LOG_WARN, "%s; falling back to backend \"%s\"", sched_error_message(prev),
                   fallbacks[i]);
        if (prev != first)
            sched_error_free(prev);
        prev = first;
        sched_error *e = NULL;
        rc = load_one(host, fallbacks[i], sched__config_fallback_origin(host->cfg), dirs, ndirs, svc,
                      &e);
        if (rc == 0) {
            sched__log(SCHED_LOG_INFO, "using fallback backend \"%s\" (%s)", fallbacks[i],
                       host->plugin_path);
            break;
        }
        size_t used = strlen(msg);
        snprintf(msg + used, sizeof msg - used, "; fallback \"%s\": %s", fallbacks[i],
                 sched_error_message(e));
        prev = e;
    }
    if (prev != first)
        sched_error_free(prev);
    sched_error_free(first);
    free(dirs);
    if (rc == 0)
        return 0;
    return sched__error_set(err, first_rc, "%s", msg);
}

/* Unload the plugin; ops.destroy has already run. */
void sched__loader_unload(sched_host *host)
{
    struct sched__plugin p = { host->lib, host->desc, host->ops, host->plugin_path };
    sched__plugin_close(&p);
    host->lib = NULL;
    host->desc = NULL;
    host->plugin_path = NULL;
    host->backend = NULL;
}
