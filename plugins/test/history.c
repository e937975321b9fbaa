/* SPDX-License-Identifier: MIT */
/*
 * plugins/test/history.c - the execution history: which task each step
 * ran, and its label.
 *
 * Labels belong to tasks, which are freed long before a test reads the
 * history, so each distinct label is copied once into an intern table
 * that lives as long as the scheduler.
 */
#include <stdlib.h>
#include <string.h>

#include "tb.h"

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static int labels_grow(struct tb_labels *t)
{
    size_t cap = t->cap ? t->cap * 2 : 16;
    char **slot = calloc(cap, sizeof *slot);
    if (!slot)
        return SCHED_ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slot[i])
            continue;
        size_t j = hash_str(t->slot[i]) & (cap - 1);
        while (slot[j])
            j = (j + 1) & (cap - 1);
        slot[j] = t->slot[i];
    }
    free(t->slot);
    t->slot = slot;
    t->cap = cap;
    return 0;
}

/* The interned copy of label, or NULL when out of memory. */
static const char *intern(struct tb_labels *t, const char *label)
{
    if (2 * (t->len + 1) > t->cap && labels_grow(t))
        return NULL;
    size_t j = hash_str(label) & (t->cap - 1);
    while (t->slot[j]) {
        if (strcmp(t->slot[j], label) == 0)
            return t->slot[j];
        j = (j + 1) & (t->cap - 1);
    }
    char *copy = strdup(label);
    if (!copy)
        return NULL;
    t->slot[j] = copy;
    t->len++;
    return copy;
}

/* Append a step.  0, or SCHED_ENOMEM when the history could not grow (the
 * step is then missing from it, and the run goes on). */
int sched__tb_history_add(struct tb *tb, uint64_t task_id, const char *label)
{
    if (tb->nhist == tb->caphist) {
        size_t cap = tb->caphist ? tb->caphist * 2 : 1024;
        sched_test_step *v = realloc(tb->hist, cap * sizeof *v);
        if (!v)
            return SCHED_ENOMEM;
        tb->hist = v;
        tb->caphist = cap;
    }
    const char *l = label ? intern(&tb->labels, label) : NULL;
    if (label && !l)
        return SCHED_ENOMEM;
    tb->hist[tb->nhist++] = (sched_test_step){ task_id, l };
    return 0;
}

void sched__tb_history_free(struct tb *tb)
{
    free(tb->hist);
    for (size_t i = 0; i < tb->labels.cap; i++)
        free(tb->labels.slot[i]);
    free(tb->labels.slot);
}
