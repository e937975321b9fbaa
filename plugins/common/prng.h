/* SPDX-License-Identifier: MIT */
/*
 * plugins/common/prng.h - the seeded PRNG of the simulated backends.
 *
 * xoshiro256** seeded through splitmix64: fast, 2^256-1 period, and the
 * same sequence on every platform for the same seed, which is what makes a
 * schedule replayable.  Header-only so each plugin keeps its own copy and
 * links nothing.
 */
#ifndef SCHED_PLUGINS_PRNG_H
#define SCHED_PLUGINS_PRNG_H

#include <stdint.h>

typedef struct sched_prng {
    uint64_t s[4];
} sched_prng;

static inline uint64_t sched_prng_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void sched_prng_seed(sched_prng *p, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        p->s[i] = sched_prng_splitmix(&seed);
}

static inline uint64_t sched_prng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t sched_prng_next(sched_prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = sched_prng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sched_prng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n), n > 0, without modulo bias (Lemire's method). */
static inline uint64_t sched_prng_below(sched_prng *p, uint64_t n)
{
    __uint128_t m = (__uint128_t)sched_prng_next(p) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t threshold = -n % n;
        while (lo < threshold) {
            m = (__uint128_t)sched_prng_next(p) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

#endif
