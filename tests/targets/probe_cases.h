/*
 * probe_cases.h - what the parts of probe_cases share: the probe spec, the
 * kernel-version oracle, the probe-and-verify machinery (probe_verify.c) and
 * the cases that run in other processes and threads (probe_process.c). The
 * case table, the commands and main() are in probe_cases.c.
 */
#ifndef EXTSYS_PROBE_CASES_H
#define EXTSYS_PROBE_CASES_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
/* Newer than Debian 12's headers; the same numbers on x86_64 and every
 * architecture with the generic table. */
#include "newer_syscalls.h"
#ifndef CHECK_FIELDS
#define CHECK_FIELDS (1ULL << 63)
#endif
#define CF CHECK_FIELDS
#ifndef RESOLVE_BENEATH
#define RESOLVE_BENEATH 0x08ULL
#endif
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_IN_ROOT 0x10ULL
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x1ULL
#endif
#include "open_flags.h"        /* X_O_DIRECTORY, X_VALID_OPEN_FLAGS: the kernel's, per arch */
#define X_O_CREAT 0x40ULL
#define MOUNT_FLAGS_OK 0x9900u
#define AT_FLAGS_OK 0x1100u                      /* AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH */
#define OT_CLONE 0x1u                            /* OPEN_TREE_CLONE */
#define OT_NAMESPACE 0x2u                        /* OPEN_TREE_NAMESPACE, 7.0 */
#define OT_RECURSIVE 0x8000u                     /* AT_RECURSIVE */
#define IMG_MAX 256

enum { SC_OPENAT2, SC_CLONE3, SC_MOUNT, SC_OTA, SC_SETX, SC_GETX, SC_FGET, SC_FSET, SC_LL, SC_N };
#define ALL_SC ((1u << SC_N) - 1)
enum { F_NONE, F_NULL, F_RO, F_TAIL, F_HEAD };            /* fault layouts */
enum { FILL_ZERO, FILL_AB, FILL_GARBAGE };                 /* buffer contents */
enum { M_UNTOUCHED, M_IMAGE, M_TAIL, M_HEAD };              /* memory expectation */
enum { PASS = 0, FAIL = 1, SKIP = 77 };

struct spec {
    int sc;
    uint64_t size;      /* full size argument, CHECK_FIELDS included */
    uint64_t mflags;    /* the checked argument: flags of mount_setattr, open_tree_attr and
                           landlock_create_ruleset, at_flags of *xattrat and file_*attr */
    int args;           /* 0: default dfd/path; 1: use dfd/path below */
    long dfd;
    const char *path;
    size_t buflen;      /* bytes filled with the pattern at the struct pointer */
    size_t mis;         /* extra misalignment of the struct pointer */
    size_t post_zero;   /* zero bytes right after the buffer (selftest layout) */
    int fill, fault;
};

/* ---- globals: configuration, oracle, availability (probe_verify.c) ---- */
struct oracle {
    int maj, min, oflags_known;
    uint64_t oflags, resolve, cflags, mattrs;
    size_t cksize;
    uint64_t otflags;           /* open_tree_attr's accepted flags argument */
    uint64_t xflags;            /* file_*attr fa_xflags */
    int xflags_known;
    int ll_abi, ll_off;         /* Landlock ABI (0: none); ll_off: EOPNOTSUPP */
    uint64_t ll_fs, ll_net, ll_scoped;
    size_t ll_ksize;
};
extern const char *const SCN[SC_N];
extern size_t g_page;
extern int g_native, g_noop, g_have[SC_N];
extern struct oracle O;
extern size_t g_ksize[SC_N];
extern uint8_t g_img[SC_N][IMG_MAX], g_care[SC_N][IMG_MAX];
extern atomic_int g_quota;   /* >= 0: limit of diagnostic lines still printed */
extern char g_cap[4096];     /* capture buffer (daemon_probe) */
extern int g_capture;

void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *ename(int e);
void put64(uint8_t *p, size_t off, uint64_t v);
void init_oracle(void);
void init_have(void);

/* ---- the generic probe + verify machinery (probe_verify.c) ---- */
struct pctx {
    const struct spec *s;
    uint8_t *map, *ptr, *orig;
    size_t maplen, vlen, bnd;   /* vlen: checked bytes from map; bnd: PROT_NONE offset */
};
int prepare(struct pctx *c, const struct spec *s);
void release(struct pctx *c);
long do_call(const struct spec *s, void *ptr);
/* Verify return value and every byte of the mapped region. Returns 0 if all is right. */
int check(struct pctx *c, long ret, int err, const char *name);
int probe_verify(const struct spec *s, const char *name);
/* One byte-exact probe of each available syscall (sizes with a zeroed tail). */
extern const struct spec BASIC[SC_N];
int basic_all(const char *who);

/* ---- cases that are functions (probe_process.c) ---- */
int wait_child(pid_t p, const char *what);
int in_child(int (*fn)(void), const char *what);
int c_fork_child(void);
int c_fork_grandchild(void);
int c_child_thread(void);
int c_unpriv(void);
int c_vfork(void);
int c_exec_chain(void);
int c_concurrency(void);

#ifdef EXTSYS_WITH_LIB
/* ---- the same cases through libextsys (probe_lib.c, probe_cases_lib) ---- */
int cmd_transcript(int n, const char *const *names, const struct spec *const *specs,
                   const char *how);
int cmd_lib_threads(int n);
int cmd_lib_hygiene(void);
int cmd_lib_fork_during(void);
#endif

#endif
