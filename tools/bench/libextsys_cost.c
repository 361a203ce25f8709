/*
 * libextsys_cost.c - what extsys_check_fields() costs (issue 19), against a
 * native failing probe (the raw openat2 with CHECK_FIELDS: E2BIG on a kernel
 * without it) in the same run. Prints one line per measure, microseconds:
 *
 *   first     the first call (the probe, then the per-boot cache read or
 *             discovery; under a seccomp filter always discovery)
 *   cached    a later call, mean of N (the probe, then the kept answers)
 *   native    the raw failing probe, mean of N
 *   source    who answered
 *
 *   build/tools/bench/libextsys-cost [N]
 *   build/src/app/extsys run --policy no-check-fields -- build/tools/bench/libextsys-cost
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <extsys/check_fields.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    const int n = argc > 1 ? atoi(argv[1]) : 100000;
    uint64_t how[3];
    int source = 0;
    double t0 = now_us();
    int r = extsys_check_fields_ex(SYS_openat2, how, sizeof how, 0, &source);
    double first = now_us() - t0;
    if (r != 0)
        return perror("extsys_check_fields"), 1;
    t0 = now_us();
    for (int i = 0; i < n; i++)
        extsys_check_fields(SYS_openat2, how, sizeof how, 0);
    double cached = (now_us() - t0) / n;
    t0 = now_us();
    for (int i = 0; i < n; i++)
        syscall(SYS_openat2, -1, NULL, how, sizeof how | EXTSYS_CHECK_FIELDS);
    double native = (now_us() - t0) / n;
    printf("first %.1f us\ncached %.3f us\nnative %.3f us\nsource %s\n", first, cached, native,
           extsys_source_name(source));
    return 0;
}
