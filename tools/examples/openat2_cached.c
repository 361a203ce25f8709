/*
 * openat2_cached.c - adopting CHECK_FIELDS with libextsys: probe, decide,
 * fall back. Opens a file with openat2(RESOLVE_CACHED) (Linux 5.12: only from
 * the dentry cache, -EAGAIN otherwise, so a hot path never blocks on disk)
 * when the kernel supports it, and says so; else with the flags it has.
 *
 *   cc -o openat2_cached openat2_cached.c $(pkg-config --cflags --libs extsys)
 *   ./openat2_cached /etc/hostname
 *
 * Prints what the probe said and which path it took; exit 0 when the file
 * was opened, 1 when not, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <extsys/check_fields.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef RESOLVE_CACHED
#define RESOLVE_CACHED 0x20ULL
#endif

struct how { /* struct open_how, the 5.6 layout (EXTSYS_OPEN_HOW_SIZE_VER0) */
    uint64_t flags, mode, resolve;
};

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    /* 1. Probe: which open flags and resolve bits does this kernel accept? */
    struct how caps;
    int source = 0;
    if (extsys_check_fields_ex(SYS_openat2, &caps, sizeof caps, 0, &source) != 0) {
        /* ENOSYS: no openat2 at all (before 5.6). */
        printf("probe: %s (source %s): no openat2\n", strerror(errno), extsys_source_name(source));
        int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        printf("path: open(2)\n");
        return fd >= 0 ? 0 : 1;
    }
    printf("probe: resolve bits 0x%llx (source %s)\n", (unsigned long long)caps.resolve,
           extsys_source_name(source));

    /* 2. Decide, 3. fall back. */
    struct how how = {.flags = O_RDONLY | O_CLOEXEC};
    if (caps.resolve & RESOLVE_CACHED) {
        how.resolve = RESOLVE_CACHED;
        long fd = syscall(SYS_openat2, AT_FDCWD, argv[1], &how, sizeof how);
        if (fd >= 0) {
            printf("path: openat2 RESOLVE_CACHED\n");
            return 0;
        }
        if (errno != EAGAIN)
            return perror("openat2"), 1;
        /* Not in the dentry cache: the slow path is allowed to block. */
        how.resolve = 0;
        printf("path: RESOLVE_CACHED missed (EAGAIN), ");
    } else {
        printf("path: no RESOLVE_CACHED on this kernel, ");
    }
    long fd = syscall(SYS_openat2, AT_FDCWD, argv[1], &how, sizeof how);
    printf("plain openat2\n");
    return fd >= 0 ? 0 : 1;
}
