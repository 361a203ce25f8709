/* SPDX-License-Identifier: MIT */
/*
 * <extsys/check_fields.h> - CHECK_FIELDS feature probes from your own program,
 * on any kernel: libextsys (pkg-config --cflags --libs extsys).
 *
 * CHECK_FIELDS (the RFC "extensible syscalls: CHECK_FIELDS to allow for easier
 * feature detection", v3) is bit 63 of the size argument of an extensible-struct
 * syscall (openat2, clone3, mount_setattr, ...): the kernel then does nothing
 * but fill the struct with every flag bit it accepts, all ones in every other
 * field it has, and return -1 with errno EEXTSYS_NOOP. extsys_check_fields()
 * gives a program that answer whatever kernel it runs on. See
 * extsys_check_fields(3).
 *
 * Plain C; usable from C++. Only this header is public: the library's ABI is
 * the functions and constants below (soname libextsys.so.0).
 */
#ifndef EXTSYS_CHECK_FIELDS_H
#define EXTSYS_CHECK_FIELDS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bit 63 of the size argument: "do not act, describe the struct". */
#define EXTSYS_CHECK_FIELDS (1ULL << 63)

/* The errno of an answered probe (RFC v3: EHWPOISON + 1 on the asm-generic
 * errno table of x86_64, arm64, riscv and most others). Linux 7.2 gave 134 to
 * EFTYPE; a probe answer is still told apart by the call that made it. */
#define EEXTSYS_NOOP 134

/* Struct sizes, oldest (VER0) first: a probe's size must be at least VER0
 * (else EINVAL) and at most the page size (else E2BIG). */
#define EXTSYS_OPEN_HOW_SIZE_VER0 24          /* openat2: struct open_how */
#define EXTSYS_CLONE_ARGS_SIZE_VER0 64        /* clone3: struct clone_args, 5.3 */
#define EXTSYS_CLONE_ARGS_SIZE_VER1 80        /* + set_tid, set_tid_size (5.5) */
#define EXTSYS_CLONE_ARGS_SIZE_VER2 88        /* + cgroup (5.7) */
#define EXTSYS_MOUNT_ATTR_SIZE_VER0 32        /* mount_setattr, open_tree_attr */
#define EXTSYS_XATTR_ARGS_SIZE_VER0 16        /* setxattrat, getxattrat */
#define EXTSYS_FILE_ATTR_SIZE_VER0 24         /* file_getattr, file_setattr */
#define EXTSYS_LANDLOCK_RULESET_ATTR_SIZE_VER0 8  /* landlock_create_ruleset */
#define EXTSYS_LANDLOCK_RULESET_ATTR_SIZE_VER1 16 /* + handled_access_net (6.7) */
#define EXTSYS_LANDLOCK_RULESET_ATTR_SIZE_VER2 24 /* + scoped (6.12) */

/* Flags of extsys_check_fields(): which sources may answer (default: all,
 * in the order below). Any other bit: -1, EINVAL. */
#define EXTSYS_CF_NO_DISCOVERY 0x1u /* the system call only: the kernel, or the
                                       seccomp supervisor that answers for it */
#define EXTSYS_CF_DISCOVERY_ONLY 0x2u /* in-process discovery only: no probe
                                         system call is made */

/* Who answered (extsys_check_fields_ex()'s *source). */
enum extsys_source {
    EXTSYS_SOURCE_NONE = 0,       /* no answer: the call returned -1 before any source */
    EXTSYS_SOURCE_KERNEL = 1,     /* the running kernel itself (no seccomp filter on us) */
    EXTSYS_SOURCE_SUPERVISOR = 2, /* a seccomp supervisor answered in the kernel's place:
                                     `extsys run`, `extsys agent` (this process runs
                                     under a seccomp filter) */
    EXTSYS_SOURCE_DISCOVERY = 3   /* libextsys itself, from the kernel's features found
                                     by extsys's discovery (or its per-boot cache) */
};

/*
 * Fills buf with exactly the bytes a CHECK_FIELDS kernel writes for the
 * syscall number nr (SYS_openat2, SYS_clone3, ...) and a probe of `size`
 * bytes (size without bit 63; the bit may be set, it is ignored), with the
 * kernel's semantics and order of checks:
 *
 *   returns 0          buf holds the answer: when size is larger than the
 *                      kernel's struct the rest is zeroed, when smaller the
 *                      struct is cut off (copy_struct_to_user);
 *   -1, ENOSYS         nr is not an extensible-struct syscall extsys knows,
 *                      or the running kernel (or the persona extsys presents)
 *                      does not have it;
 *   -1, EINVAL, E2BIG  size below the struct's first version, or above the
 *                      page size (or any other high bit set): nothing written;
 *   -1, EFAULT         buf not writable for `size` bytes, never a signal
 *                      (what the kernel writes before the fault stays), or
 *                      NULL (open_tree_attr: EINVAL first, as its kernel);
 *   -1, EOPNOTSUPP     landlock_create_ruleset with Landlock off at boot;
 *   -1, EINVAL         an unknown bit in flags.
 *
 * The other arguments of the syscall are not taken: the probe is made with
 * no path, fd -1 and flags 0, which no kernel looks at before the size.
 * Thread-safe; not async-signal-safe (the first call may run discovery).
 * Sources, in order (see extsys_check_fields(3)):
 *  1. the system call with bit 63: an answer with errno EEXTSYS_NOOP comes
 *     from the kernel, or from a supervisor when this process runs under a
 *     seccomp filter;
 *  2. discovery in-process, at most once per process: the same code and safe
 *     probes as extsys's supervisor, its per-boot cache read (and written only
 *     where `extsys run` would write it), with one short-lived child.
 */
int extsys_check_fields(long nr, void *buf, size_t size, unsigned flags);

/* The same, and *source (when not NULL) says which source answered or
 * refused (enum extsys_source). An out parameter, not a thread-local, so that
 * callers whose threads move (Go's cgo) read the right one. */
int extsys_check_fields_ex(long nr, void *buf, size_t size, unsigned flags, int *source);

/* "kernel", "supervisor", "discovery" or "none"; NULL for another value. */
const char *extsys_source_name(int source);

#ifdef __cplusplus
}
#endif

#endif /* EXTSYS_CHECK_FIELDS_H */
