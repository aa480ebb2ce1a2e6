/*
 * Wall-clock and CPU seconds for the benches (one copy for all).
 */
#ifndef VPNR_BENCH_TIME_H
#define VPNR_BENCH_TIME_H

#include <time.h>

static inline double
bench_seconds(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Monotonic wall-clock seconds. */
static inline double
mono_s(void)
{
	return bench_seconds(CLOCK_MONOTONIC);
}

/* CPU seconds of this process. */
static inline double
cpu_s(void)
{
	return bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

#endif /* VPNR_BENCH_TIME_H */
