/*
 * policy_cases.h - what the parts of policy_cases share: constants (the
 * kernel's raw values; open flags per architecture in open_flags.h), what
 * the probes answered, the result lines and the
 * helpers for processes (policy_common.c). The commands are in
 * policy_use.c (told, use-told, use-more), policy_race.c (race,
 * race-legacy) and policy_legacy.c (sidedoors, legacy); main() in
 * policy_cases.c.
 */
#ifndef EXTSYS_POLICY_CASES_H
#define EXTSYS_POLICY_CASES_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef CHECK_FIELDS
#define CHECK_FIELDS (1ULL << 63)
#endif
#ifndef AT_FDCWD
#define AT_FDCWD -100
#endif
#ifndef __WALL
#define __WALL 0x40000000
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
/* raw open flags (the four an architecture may renumber: open_flags.h) */
#include "open_flags.h"
#define X_O_RDONLY 0x0ULL
#define X_O_WRONLY 0x1ULL
#define X_O_RDWR 0x2ULL
#define X_O_CREAT 0x40ULL
#define X_O_CLOEXEC 0x80000ULL
#define X_O_TMPFILE 0x400000ULL      /* __O_TMPFILE */
#define X_RESOLVE_CACHED 0x20ULL
#define X_CLONE_PIDFD 0x1000ULL
#define X_CLONE_NEWUSER 0x10000000ULL
#define X_CLONE_INTO_CGROUP (1ULL << 33)
#define X_CLONE_AUTOREAP (1ULL << 34)
#define X_CLONE_NNP (1ULL << 35)
#define X_CLONE_PIDFD_AUTOKILL (1ULL << 36)
#define X_MOUNT_ATTR_RDONLY 0x1ULL
#define X_MOUNT_ATTR__ATIME 0x70ULL
#define X_MOUNT_ATTR_IDMAP 0x100000ULL
#define X_MS_RDONLY 0x1UL
#define X_MS_REMOUNT 0x20UL
#define X_MS_BIND 0x1000UL
/* everything extsys knows (use-more): src/kernel/features/VERSIONS.md, 'Bits extsys knows' */
#define KNOWN_OFLAGS (X_VALID_OPEN_FLAGS | (1ULL << 32))   /* + OPENAT2_REGULAR (7.2) */
#define KNOWN_RESOLVE 0x3fULL
#define KNOWN_CFLAGS (0x3fULL << 32)                /* clone3-only bits 32..37 */
#define KNOWN_MATTRS 0x3000ffULL
#define KNOWN_PROP 0x1e0000ULL

enum { SC_OPENAT2, SC_CLONE3, SC_MOUNT, SC_N };
enum { T_CF, T_NOSYS, T_OTHER };                    /* what a probe answered */
enum { K_OFLAG, K_RESOLVE, K_MODE, K_CFLAG, K_MATTR, K_PROP };

extern const char *const SCN[SC_N];
extern int g_probe_errno, g_deny_errno;
extern int n_ok, n_fail, n_skip;

/* What each probe answered (policy_use.c fills it). */
struct told {
    int state, err;     /* err: errno of the probe (0: it returned ret >= 0) */
    long ret;
    uint64_t v[16];     /* the 128-byte answer buffer */
    size_t csize;       /* clone3: end of the last all-ones field */
};
extern struct told T[SC_N];

/* ---- policy_common.c ---- */
const char *ename(int e);
int env_errno(const char *var, int dflt);
long sc(long r);                           /* -errno or the result, like the kernel */
double now(void);
void line(int verdict, const char *fmt, ...)  /* 1 ok, 0 FAIL, -1 skip */
    __attribute__((format(printf, 2, 3)));
int summary(void);
const char *bitname(int kind, uint64_t bit);

/* processes: children created by clone3/clone must leave at once */
extern int g_ns_check;         /* children compare their user namespace with g_userns */
extern char g_userns[128];
void read_userns(char *buf, size_t n);
__attribute__((noreturn)) void child_exit(void);  /* in a freshly created child */
/* wait for a child; autoreaped children (pidfd given) only announce their exit */
int reap(pid_t pid, int pidfd);
pid_t raw_fork(unsigned long flags);  /* legacy clone(2): flags, newsp, ptid, ctid, tls */
/* a real clone3 with args (16 words); returns 0 if a child was created (its wait status in
 * *st, -1 if it could not be reaped), else the errno */
int clone3_real(uint64_t *args, size_t size, int *st);
void describe_status(int st, char *buf, size_t n);

/* ---- the commands ---- */
int cmd_told(void);
int cmd_use_told(void);
int cmd_use_more(void);
double parse_secs(const char *s);
int cmd_race(double secs, const char *what);
int cmd_race_legacy(double secs);
int cmd_sidedoors(void);
int cmd_legacy(void);
int cmd_newer(void);    /* policy_newer.c */

#endif
