/*
 * probe_cases.c - test target for extsys: CHECK_FIELDS probes of openat2, clone3 and
 * mount_setattr, verified byte for byte against the RFC v3 semantics
 * (src/kernel/abi/CHECK_FIELDS.md) with expected values from a kernel-version
 * oracle (src/kernel/features/VERSIONS.md, 'What a probe is answered, by version').
 *
 *   probe_cases list                 every pass/fail case name, one per line
 *   probe_cases run NAME...          exit 0 all passed, 1 a failure, 77 all skipped, 2 usage
 *   probe_cases ordinary_calls       transcript of ordinary (non-probe) calls, exit 0
 *   probe_cases fd_report            sorted open fds on one line, exit 0
 *   probe_cases exit_code N          exit with status N
 *   probe_cases kill_self SIG        raise SIG (number or name) with SIG_DFL
 *   probe_cases daemon_probe FILE    detach, probe after 300 ms, write "ok\n"/"fail: ..\n"
 *
 * Environment: EXTSYS_EXPECT=emulated|native, EXTSYS_PROBE_ERRNO (134), and the oracle
 * overrides EXTSYS_EXPECT_OPEN_FLAGS, _RESOLVE, _CLONE_FLAGS, _CLONE_SIZE, _MOUNT_ATTRS.
 */
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
#define X_O_DIRECTORY 0x10000ULL     /* asm-generic values, not glibc's */
#define X_O_CREAT 0x40ULL
#define X_VALID_OPEN_FLAGS 0x7fffc3ULL /* includes O_LARGEFILE = 0x8000 */
#define MOUNT_FLAGS_OK 0x9900u
#define IMG_MAX 256

enum { SC_OPENAT2, SC_CLONE3, SC_MOUNT, SC_N };
enum { F_NONE, F_NULL, F_RO, F_TAIL, F_HEAD };            /* fault layouts */
enum { FILL_ZERO, FILL_AB, FILL_GARBAGE };                 /* buffer contents */
enum { M_UNTOUCHED, M_IMAGE, M_TAIL, M_HEAD };              /* memory expectation */
enum { PASS = 0, FAIL = 1, SKIP = 77 };

static const char *SCN[SC_N] = {"openat2", "clone3", "mount_setattr"};
static const size_t VER0[SC_N] = {24, 64, 32};
static const char *FIELDS[SC_N][32] = {
    {"flags", "mode", "resolve"},
    {"flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size", "tls",
     "set_tid", "set_tid_size", "cgroup"},
    {"attr_set", "attr_clr", "propagation", "userns_fd"}};

struct spec {
    int sc;
    uint64_t size;      /* full size argument, CHECK_FIELDS included */
    uint64_t mflags;    /* mount_setattr flags argument */
    int args;           /* 0: default dfd/path; 1: use dfd/path below */
    long dfd;
    const char *path;
    size_t buflen;      /* bytes filled with the pattern at the struct pointer */
    size_t mis;         /* extra misalignment of the struct pointer */
    size_t post_zero;   /* zero bytes right after the buffer (selftest layout) */
    int fill, fault;
};

/* ---- globals: configuration, oracle, availability ---- */
static size_t g_page;
static int g_native, g_noop = 134, g_have[SC_N];
static struct {
    int maj, min, oflags_known;
    uint64_t oflags, resolve, cflags, mattrs;
    size_t cksize;
} O;
static size_t g_ksize[SC_N];
static uint8_t g_img[SC_N][IMG_MAX], g_care[SC_N][IMG_MAX];
static atomic_int g_quota = -1;          /* >= 0: limit of diagnostic lines still printed */
static char g_cap[4096];                 /* capture buffer (daemon_probe) */
static int g_capture;

static void diag(const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (g_capture) {
        size_t n = strlen(g_cap);
        snprintf(g_cap + n, sizeof g_cap - n, "%s; ", line);
        return;
    }
    if (atomic_load(&g_quota) >= 0 && atomic_fetch_sub(&g_quota, 1) <= 0)
        return;
    fprintf(stderr, "%s\n", line);
}

static const char *ename(int e) {
    static const struct { int e; const char *n; } t[] = {
        {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"}, {EINTR, "EINTR"},
        {EBADF, "EBADF"}, {ECHILD, "ECHILD"}, {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"},
        {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"}, {EEXIST, "EEXIST"},
        {EXDEV, "EXDEV"}, {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"}, {EINVAL, "EINVAL"},
        {EMFILE, "EMFILE"}, {ENOSPC, "ENOSPC"}, {EROFS, "EROFS"}, {E2BIG, "E2BIG"},
        {ENOSYS, "ENOSYS"}, {ELOOP, "ELOOP"}, {ENAMETOOLONG, "ENAMETOOLONG"},
        {EOPNOTSUPP, "EOPNOTSUPP"}, {EMSGSIZE, "EMSGSIZE"}, {EOVERFLOW, "EOVERFLOW"},
        {ESTALE, "ESTALE"}, {0, "0"}};
    static __thread char buf[32];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].e == e)
            return t[i].n;
    snprintf(buf, sizeof buf, "errno%d", e);
    return buf;
}
/* errno name in probe context: the configured probe errno is named as such */
static const char *pename(int e) {
    static __thread char buf[48];
    if (e != g_noop)
        return ename(e);
    snprintf(buf, sizeof buf, "EEXTSYS_NOOP(%d)", e);
    return buf;
}

static void put64(uint8_t *p, size_t off, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint8_t garbage(size_t i) { return (uint8_t)(1 + (i * 37 + 11) % 253); }

static int env_u64(const char *name, uint64_t *out) {
    const char *v = getenv(name);
    char *end;
    if (!v || !*v)
        return 0;
    errno = 0;
    *out = strtoull(v, &end, 0);
    if (errno || *end) {
        fprintf(stderr, "probe_cases: bad value for %s: '%s'\n", name, v);
        exit(2);
    }
    return 1;
}

/* ---- the oracle: what an RFC v3 kernel of this version would write ---- */
static void init_oracle(void) {
    struct utsname u;
    uint64_t v;
    if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &O.maj, &O.min) != 2) {
        fprintf(stderr, "probe_cases: cannot parse kernel release\n");
        exit(2);
    }
    int k = O.maj * 1000 + O.min;
    O.oflags = X_VALID_OPEN_FLAGS;
    O.oflags_known = k < 7002;
    O.resolve = k >= 5012 ? 0x3f : 0x1f;
    O.cflags = 0xffffffffULL;
    if (k >= 5005) O.cflags |= 1ULL << 32;               /* CLONE_CLEAR_SIGHAND */
    if (k >= 5007) O.cflags |= 1ULL << 33;               /* CLONE_INTO_CGROUP */
    if (k >= 7001) O.cflags |= 7ULL << 34;               /* AUTOREAP, NNP, PIDFD_AUTOKILL */
    O.cksize = k >= 5007 ? 88 : k >= 5005 ? 80 : 64;
    O.mattrs = k >= 5014 ? 0x3000ff : 0x1000ff;
    if (env_u64("EXTSYS_EXPECT_OPEN_FLAGS", &O.oflags))
        O.oflags_known = 1;
    env_u64("EXTSYS_EXPECT_RESOLVE", &O.resolve);
    env_u64("EXTSYS_EXPECT_CLONE_FLAGS", &O.cflags);
    env_u64("EXTSYS_EXPECT_MOUNT_ATTRS", &O.mattrs);
    if (env_u64("EXTSYS_EXPECT_CLONE_SIZE", &v)) {
        if (v < 64 || v > IMG_MAX || v % 8) {
            fprintf(stderr, "probe_cases: EXTSYS_EXPECT_CLONE_SIZE must be 64..%d, x8\n", IMG_MAX);
            exit(2);
        }
        O.cksize = (size_t)v;
    }
    for (int sc = 0; sc < SC_N; sc++) {
        uint8_t *img = g_img[sc];
        memset(img, 0, IMG_MAX);
        memset(g_care[sc], 1, IMG_MAX);
        if (sc == SC_OPENAT2) {
            put64(img, 0, O.oflags);
            put64(img, 8, 07777);
            put64(img, 16, O.resolve);
            if (!O.oflags_known)
                memset(g_care[sc], 0, 8);
            g_ksize[sc] = 24;
        } else if (sc == SC_CLONE3) {
            for (size_t o = 0; o < O.cksize; o += 8)
                put64(img, o, ~0ULL);
            put64(img, 0, O.cflags);
            put64(img, 32, 0xff);
            g_ksize[sc] = O.cksize;
        } else {
            put64(img, 0, O.mattrs);
            put64(img, 8, O.mattrs);
            put64(img, 16, 0x1e0000);
            put64(img, 24, ~0ULL);
            g_ksize[sc] = 32;
        }
    }
}

/* src/kernel/discovery/RECIPES.md, 'Does the syscall exist?': existence calls
 * that are not probes */
static void init_have(void) {
    uint8_t z[64] = {0};
    errno = 0;
    g_have[SC_CLONE3] = !(syscall(SYS_clone3, z, 0UL) == -1 && errno == ENOSYS);
    errno = 0;
    g_have[SC_OPENAT2] = !(syscall(SYS_openat2, AT_FDCWD, NULL, z, 0UL) == -1 && errno == ENOSYS);
    errno = 0;
    g_have[SC_MOUNT] = !(syscall(SYS_mount_setattr, -1, NULL, 0, NULL, 0UL) == -1 && errno == ENOSYS);
}

/* ---- the generic probe + verify machinery ---- */
static int expect_errno(const struct spec *s) {
    uint64_t sz = s->size & ~CF;
    if (s->sc == SC_MOUNT && ((uint32_t)s->mflags & ~MOUNT_FLAGS_OK))
        return EINVAL;                              /* flags first, low 32 bits only */
    if (g_native)
        return E2BIG;                               /* bit 63 makes the size huge */
    if (s->sc == SC_OPENAT2 && sz < VER0[s->sc])
        return EINVAL;
    if (sz > g_page)
        return E2BIG;
    if (sz < VER0[s->sc])
        return EINVAL;
    return s->fault != F_NONE ? EFAULT : g_noop;
}

struct pctx {
    const struct spec *s;
    uint8_t *map, *ptr, *orig;
    size_t maplen, vlen, bnd;   /* vlen: checked bytes from map; bnd: PROT_NONE offset */
};

static int prepare(struct pctx *c, const struct spec *s) {
    memset(c, 0, sizeof *c);
    c->s = s;
    if (s->fault == F_NULL)
        return 0;
    size_t pre = 64 + s->mis, ks = g_ksize[s->sc];
    if (s->fault == F_TAIL || s->fault == F_HEAD) {
        c->maplen = 2 * g_page;
        c->vlen = c->bnd = g_page;
        pre = g_page - (s->fault == F_TAIL ? ks + 8 : ks - 8);
    } else {
        c->maplen = c->vlen = (pre + s->buflen + 64 + s->mis + g_page - 1) / g_page * g_page;
    }
    c->map = mmap(NULL, c->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c->map == MAP_FAILED) {
        diag("mmap(%zu): %s", c->maplen, strerror(errno));
        c->map = NULL;
        return -1;
    }
    c->ptr = c->map + pre;
    memset(c->map, 0xff, c->vlen);
    size_t n = s->buflen;
    if (pre + n > c->vlen)
        n = c->vlen - pre;
    for (size_t i = 0; i < n; i++)
        c->ptr[i] = s->fill == FILL_AB ? 0xab : s->fill == FILL_ZERO ? 0 : garbage(i);
    for (size_t i = 0; i < s->post_zero && pre + n + i < c->vlen; i++)
        c->ptr[n + i] = 0;
    if (c->bnd && mprotect(c->map + c->bnd, c->maplen - c->bnd, PROT_NONE) != 0)
        return diag("mprotect: %s", strerror(errno)), -1;
    c->orig = malloc(c->vlen);
    if (!c->orig)
        return -1;
    memcpy(c->orig, c->map, c->vlen);
    if (s->fault == F_RO && mprotect(c->map, c->maplen, PROT_READ) != 0)
        return diag("mprotect: %s", strerror(errno)), -1;
    return 0;
}

static void release(struct pctx *c) {
    if (c->map)
        munmap(c->map, c->maplen);
    free(c->orig);
    c->map = c->orig = NULL;
}

static long do_call(const struct spec *s, void *ptr) {
    long dfd = s->args ? s->dfd : s->sc == SC_OPENAT2 ? AT_FDCWD : -1;
    const char *path = s->args ? s->path : s->sc == SC_OPENAT2 ? "." : "";
    if (s->sc == SC_OPENAT2)
        return syscall(SYS_openat2, dfd, path, ptr, (unsigned long)s->size);
    if (s->sc == SC_CLONE3)
        return syscall(SYS_clone3, ptr, (unsigned long)s->size);
    return syscall(SYS_mount_setattr, dfd, path, (unsigned long)s->mflags, ptr,
                   (unsigned long)s->size);
}

/* clean up after a call that wrongly succeeded */
static void undo(const struct spec *s, long r) {
    if (r == 0 && s->sc == SC_CLONE3)
        syscall(SYS_exit, 99);                      /* we are a child that must not exist */
    if (r > 0 && s->sc == SC_OPENAT2)
        close((int)r);
    if (r > 0 && s->sc == SC_CLONE3)
        waitpid((pid_t)r, NULL, __WALL);
}

static void where(char *b, size_t n, const struct spec *s, long j, uint64_t usz, size_t ks) {
    if (j < 0)
        snprintf(b, n, "%ld byte(s) before the buffer", -j);
    else if ((uint64_t)j >= usz)
        snprintf(b, n, "buf+%ld (outside [0,usize=%llu))", j, (unsigned long long)usz);
    else if ((size_t)j < ks)
        snprintf(b, n, "buf+%ld (%s byte %ld)", j,
                 FIELDS[s->sc][j / 8] ? FIELDS[s->sc][j / 8] : "field", j % 8);
    else
        snprintf(b, n, "buf+%ld (trailing [ksize=%zu,usize))", j, ks);
}

/* Verify return value and every byte of the mapped region. Returns 0 if all is right. */
static int check(struct pctx *c, long ret, int err, const char *name) {
    const struct spec *s = c->s;
    int exp = expect_errno(s), bad = 0, nm = 0, nb = 0;
    long lastf = -1;
    if (ret == -2) {                                /* vfork child exited 255 */
        diag("%s: %s succeeded in the vfork child, expected errno %s", name, SCN[s->sc], pename(exp));
        bad = 1;
    } else if (ret != -1) {
        diag("%s: %s returned %ld, expected -1 with errno %s", name, SCN[s->sc], ret, pename(exp));
        bad = 1;
    } else if (err != exp) {
        diag("%s: %s: expected errno %s, got %s", name, SCN[s->sc], pename(exp), pename(err));
        bad = 1;
    }
    if (!c->map)
        return bad;
    int mode = exp == g_noop ? M_IMAGE
             : exp != EFAULT ? M_UNTOUCHED
             : s->fault == F_TAIL ? M_TAIL : s->fault == F_HEAD ? M_HEAD : M_UNTOUCHED;
    uint64_t usz = s->size & ~CF;
    size_t po = (size_t)(c->ptr - c->map), ks = g_ksize[s->sc], hk = 0;
    const uint8_t *img = g_img[s->sc], *care = g_care[s->sc];
    if (mode == M_HEAD) /* written bytes may form an image prefix; the rest is untouched */
        while (po + hk < c->bnd && hk < ks && (c->ptr[hk] == img[hk] || !care[hk]))
            hk++;
    for (size_t i = 0; i < c->vlen; i++) {
        long j = (long)i - (long)po;
        int want = c->orig[i];
        const char *cls = "untouched";
        if (j >= 0 && (uint64_t)j < usz) {
            if (mode == M_IMAGE && (size_t)j < ks) {
                if (!care[j])
                    continue;
                want = img[j], cls = "image";
            } else if (mode == M_IMAGE) {
                want = 0, cls = "zeroed tail";
            } else if (mode == M_TAIL && (size_t)j >= ks && i < c->bnd) {
                want = 0, cls = "zeroed tail before the fault";
            } else if (mode == M_TAIL) {
                cls = "untouched (head must not be written after a tail fault)";
            } else if (mode == M_HEAD && (size_t)j < hk) {
                want = img[j], cls = "image prefix";
            } else if (mode == M_HEAD) {
                cls = "untouched or image prefix";
            }
        }
        if (c->map[i] != want) {
            char w[96];
            size_t f0 = (size_t)j / 8 * 8;
            if (mode == M_IMAGE && j >= 0 && (size_t)j < ks && f0 + 8 <= ks && f0 + 8 <= usz) {
                if ((long)f0 != lastf && nm < 8)   /* whole little-endian field: one line */
                    diag("%s: %s size 0x%llx: field %s @%zu: expected 0x%llx, got 0x%llx", name,
                         SCN[s->sc], (unsigned long long)s->size, FIELDS[s->sc][f0 / 8] ?
                         FIELDS[s->sc][f0 / 8] : "?", f0, (unsigned long long)get64(img + f0),
                         (unsigned long long)get64(c->ptr + f0));
                nm += (long)f0 != lastf ? 1 : 0;
                lastf = (long)f0;
                nb++, bad = 1;
                continue;
            }
            nb++;
            if (nm++ < 8) {
                where(w, sizeof w, s, j, usz, ks);
                diag("%s: %s size 0x%llx: %s: expected 0x%02x (%s), got 0x%02x", name, SCN[s->sc],
                     (unsigned long long)s->size, w, want, cls, c->map[i]);
            }
            bad = 1;
        }
    }
    if (nm > 8)
        diag("%s: ... %d wrong bytes in total", name, nb);
    if (mode == M_IMAGE && s->sc == SC_OPENAT2 && !O.oflags_known) {
        uint64_t got = get64(c->ptr);
        if ((got & X_VALID_OPEN_FLAGS) != X_VALID_OPEN_FLAGS) {
            diag("%s: openat2 flags 0x%llx lack bits of 0x%llx", name, (unsigned long long)got,
                 (unsigned long long)X_VALID_OPEN_FLAGS);
            bad = 1;
        }
    }
    return bad;
}

static int probe_verify(const struct spec *s, const char *name) {
    struct pctx c;
    int bad = 1;
    if (prepare(&c, s) == 0) {
        errno = 0;
        long r = do_call(s, c.ptr);
        int e = errno;
        undo(s, r);
        bad = check(&c, r, e, name);
    }
    release(&c);
    return bad;
}

/* One byte-exact probe of each available syscall (sizes with a zeroed tail). */
static const struct spec BASIC[SC_N] = {
    {.sc = SC_OPENAT2, .size = CF | 40, .buflen = 40, .mis = 3, .fill = FILL_GARBAGE},
    {.sc = SC_CLONE3, .size = CF | 100, .buflen = 100, .mis = 5, .fill = FILL_GARBAGE},
    {.sc = SC_MOUNT, .size = CF | 40, .buflen = 40, .mis = 1, .fill = FILL_GARBAGE}};

static int basic_three(const char *who) {
    int fails = 0;
    char nm[96];
    for (int sc = 0; sc < SC_N; sc++) {
        if (!g_have[sc])
            continue;
        snprintf(nm, sizeof nm, "%s/%s", who, SCN[sc]);
        fails += probe_verify(&BASIC[sc], nm);
    }
    return fails;
}

/* ---- cases that are functions ---- */
static int wait_child(pid_t p, const char *what) {
    int st;
    if (p < 0)
        return diag("%s: fork: %s", what, strerror(errno)), FAIL;
    while (waitpid(p, &st, 0) < 0)
        if (errno != EINTR)
            return diag("%s: waitpid: %s", what, strerror(errno)), FAIL;
    if (WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == SKIP))
        return WEXITSTATUS(st);
    if (WIFEXITED(st))
        diag("%s: exited with status %d", what, WEXITSTATUS(st));
    else
        diag("%s: killed by signal %d", what, WTERMSIG(st));
    return FAIL;
}

static int in_child(int (*fn)(void), const char *what) {
    fflush(NULL);
    pid_t p = fork();
    if (p == 0)
        _exit(fn() ? 1 : 0);
    return wait_child(p, what);
}

static int fn_basic(void) { return basic_three("child"); }
static int fn_grandchild(void) { return in_child(fn_basic, "grandchild"); }
static void *thr_basic(void *a) { return (void *)(intptr_t)basic_three((const char *)a); }
static int fn_thread(void) {
    pthread_t t;
    void *r;
    if (pthread_create(&t, NULL, thr_basic, "child-thread") != 0)
        return diag("pthread_create failed"), 1;
    pthread_join(t, &r);
    return r != NULL;
}
static int fn_unpriv(void) {
    if (geteuid() == 0) {
        if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
            return diag("unpriv: dropping to 65534 failed: %s", strerror(errno)), 1;
    }
    if (geteuid() == 0)
        return diag("unpriv: still root"), 1;
    return basic_three("uid65534");
}

static int c_fork_child(void) { return in_child(fn_basic, "fork child"); }
static int c_fork_grandchild(void) { return in_child(fn_grandchild, "fork child"); }
static int c_child_thread(void) { return in_child(fn_thread, "child with thread"); }
static int c_unpriv(void) { return in_child(fn_unpriv, "unprivileged child"); }

static int vfork_one(const struct spec *s, struct pctx *c) {
    pid_t p = vfork();
    if (p == 0) {
        long r = do_call(s, c->ptr);
        _exit(r == -1 ? (errno & 0xff) : 255);
    }
    return p;
}
static int c_vfork(void) {
    int fails = 0;
    for (int sc = 0; sc < SC_N; sc++) {
        struct pctx c;
        int st = 0;
        if (!g_have[sc])
            continue;
        if (prepare(&c, &BASIC[sc]) != 0) {
            release(&c);
            fails++;
            continue;
        }
        fflush(NULL);
        pid_t p = vfork_one(&BASIC[sc], &c);
        if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st)) {
            diag("desc_vfork/%s: vfork child failed or was killed (status 0x%x)", SCN[sc], st);
            fails++;
        } else {
            int code = WEXITSTATUS(st);
            fails += check(&c, code == 255 ? -2 : -1, code, "desc_vfork");
        }
        release(&c);
    }
    return fails ? FAIL : PASS;
}

static int c_exec_chain(void) {
    static char *const argv[] = {"probe_cases", "run", "desc_exec_chain", NULL};
    const char *hop = getenv("EXTSYS_PROBE_EXEC_HOP");
    if (hop && !strcmp(hop, "1")) {                 /* level 1: exec again, same pid */
        setenv("EXTSYS_PROBE_EXEC_HOP", "2", 1);
        fflush(NULL);
        execv("/proc/self/exe", argv);
        return diag("exec level 1: execv: %s", strerror(errno)), FAIL;
    }
    if (hop && !strcmp(hop, "2")) {                 /* level 2: probe */
        unsetenv("EXTSYS_PROBE_EXEC_HOP");
        return basic_three("exec-level-2") ? FAIL : PASS;
    }
    fflush(NULL);
    pid_t p = fork();
    if (p == 0) {                                   /* nested output goes to stderr */
        dup2(2, 1);
        setenv("EXTSYS_PROBE_EXEC_HOP", "1", 1);
        execv("/proc/self/exe", argv);
        _exit(126);
    }
    return wait_child(p, "exec chain");
}

#define NTHR 16
#define NITER 2000
static atomic_int g_wrong;
static void *thr_conc(void *arg) {
    static const uint64_t sizes[SC_N][3] = {{24, 25, 40}, {64, 88, 100}, {32, 33, 56}};
    int id = (int)(intptr_t)arg;
    char nm[64];
    for (int i = 0; i < NITER; i++) {
        int sc = (id + i) % SC_N;
        if (!g_have[sc])
            continue;
        uint64_t sz = sizes[sc][(i / SC_N) % 3];
        struct spec s = {.sc = sc, .size = CF | sz, .buflen = sz, .mis = (size_t)(i % 8),
                         .fill = i % 2 ? FILL_AB : FILL_GARBAGE};
        snprintf(nm, sizeof nm, "concurrency[t%d,i%d]", id, i);
        if (probe_verify(&s, nm))
            atomic_fetch_add(&g_wrong, 1);
    }
    return NULL;
}
static int c_concurrency(void) {
    pthread_t t[NTHR];
    int n = 0;
    atomic_store(&g_wrong, 0);
    atomic_store(&g_quota, 40);
    for (int i = 0; i < NTHR; i++)
        if (pthread_create(&t[n], NULL, thr_conc, (void *)(intptr_t)i) == 0)
            n++;
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    atomic_store(&g_quota, -1);
    int w = atomic_load(&g_wrong);
    fprintf(stderr, "concurrency: %d threads x %d probes: %d wrong answers\n", n, NITER, w);
    return (w || n != NTHR) ? FAIL : PASS;
}

/* ---- the case table ---- */
struct tcase {
    const char *name;
    struct spec s;
    int (*fn)(void);
    unsigned mask;
};
static struct tcase T[160];
static int NT;
#define SP(...) ((struct spec){__VA_ARGS__})
static void add(const char *name, struct spec s) {
    T[NT++] = (struct tcase){.name = name, .s = s, .mask = 1u << s.sc};
}
static void addf(const char *name, int (*fn)(void)) {
    T[NT++] = (struct tcase){.name = name, .fn = fn, .mask = 7};
}

static void init_cases(void) {
    static const int mis[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 17, 87};
    static char mname[13][40];
    const size_t P = g_page;
    const int o = SC_OPENAT2, c = SC_CLONE3, m = SC_MOUNT, G = FILL_GARBAGE, AB = FILL_AB;
    /* a) selftests 5a, 5b, 5d, 5e - stricter */
    for (int i = 0; i < 13; i++) {
        snprintf(mname[i], sizeof mname[i], "openat2_cf_misalign_%d", mis[i]);
        add(mname[i], SP(.sc = o, .size = CF | 296, .buflen = 296, .mis = (size_t)mis[i], .fill = G));
    }
    add("openat2_cf_size_0", SP(.sc = o, .size = CF, .args = 1, .dfd = AT_FDCWD, .path = "", .buflen = 24));
    add("openat2_cf_size_16pages", SP(.sc = o, .size = CF | 16 * P, .args = 1, .dfd = AT_FDCWD, .path = "", .buflen = 24));
    add("clone3_cf_v0", SP(.sc = c, .size = CF | 64, .buflen = 64, .post_zero = 16, .fill = AB));
    add("clone3_cf_v1", SP(.sc = c, .size = CF | 80, .buflen = 80, .post_zero = 16, .fill = AB));
    add("clone3_cf_v2", SP(.sc = c, .size = CF | 88, .buflen = 88, .post_zero = 16, .fill = AB));
    add("clone3_cf_short", SP(.sc = c, .size = CF | 1, .buflen = 1, .fill = AB));
    add("clone3_cf_long", SP(.sc = c, .size = CF | 16 * P, .buflen = 16 * P, .fill = AB));
    add("mount_setattr_cf_size_0", SP(.sc = m, .size = CF, .buflen = 56, .fill = AB));
    add("mount_setattr_cf_size_16pages", SP(.sc = m, .size = CF | 16 * P, .buflen = 56, .fill = AB));
    add("mount_setattr_cf_56", SP(.sc = m, .size = CF | 56, .buflen = 56, .fill = AB));
    /* b) odd sizes */
    add("openat2_cf_size_25", SP(.sc = o, .size = CF | 25, .buflen = 25, .fill = G));
    add("openat2_cf_size_page", SP(.sc = o, .size = CF | P, .buflen = P, .fill = G));
    add("clone3_cf_size_65", SP(.sc = c, .size = CF | 65, .buflen = 65, .fill = G));
    add("clone3_cf_size_80", SP(.sc = c, .size = CF | 80, .buflen = 80, .fill = G));
    add("clone3_cf_size_87", SP(.sc = c, .size = CF | 87, .buflen = 87, .fill = G));
    add("clone3_cf_size_88", SP(.sc = c, .size = CF | 88, .buflen = 88, .fill = G));
    add("clone3_cf_size_89", SP(.sc = c, .size = CF | 89, .buflen = 89, .fill = G));
    add("clone3_cf_size_200", SP(.sc = c, .size = CF | 200, .buflen = 200, .fill = G));
    add("mount_setattr_cf_size_33", SP(.sc = m, .size = CF | 33, .buflen = 33, .fill = G));
    /* c) size limits */
    add("openat2_cf_highbit", SP(.sc = o, .size = CF | 1ULL << 40 | 24, .buflen = 24, .fill = G));
    add("clone3_cf_highbit", SP(.sc = c, .size = CF | 1ULL << 40 | 64, .buflen = 64, .fill = G));
    add("mount_setattr_cf_highbit", SP(.sc = m, .size = CF | 1ULL << 40 | 32, .buflen = 32, .fill = G));
    add("openat2_cf_size_23", SP(.sc = o, .size = CF | 23, .buflen = 24, .fill = G));
    add("clone3_cf_size_63", SP(.sc = c, .size = CF | 63, .buflen = 64, .fill = G));
    add("mount_setattr_cf_size_31", SP(.sc = m, .size = CF | 31, .buflen = 32, .fill = G));
    add("clone3_cf_size_page", SP(.sc = c, .size = CF | P, .buflen = P, .fill = G));
    add("mount_setattr_cf_size_page", SP(.sc = m, .size = CF | P, .buflen = P, .fill = G));
    add("openat2_cf_size_page_plus1", SP(.sc = o, .size = CF | (P + 1), .buflen = P + 1, .fill = G));
    add("clone3_cf_size_page_plus1", SP(.sc = c, .size = CF | (P + 1), .buflen = P + 1, .fill = G));
    add("mount_setattr_cf_size_page_plus1", SP(.sc = m, .size = CF | (P + 1), .buflen = P + 1, .fill = G));
    /* d) mount_setattr flags argument */
    add("mount_setattr_cf_badflag", SP(.sc = m, .size = CF | 32, .mflags = 1, .buflen = 32, .fill = G));
    add("mount_setattr_cf_badflag_size0", SP(.sc = m, .size = CF, .mflags = 1, .buflen = 32, .fill = G));
    add("mount_setattr_cf_badflag_toobig", SP(.sc = m, .size = CF | (P + 1), .mflags = 1, .buflen = 32, .fill = G));
    add("mount_setattr_cf_flags_9900", SP(.sc = m, .size = CF | 32, .mflags = 0x9900, .buflen = 32, .fill = G));
    add("mount_setattr_cf_flags_high32", SP(.sc = m, .size = CF | 32, .mflags = 1ULL << 32, .buflen = 32, .fill = G));
    add("mount_setattr_cf_flags_high32_low1", SP(.sc = m, .size = CF | 32, .mflags = 1ULL << 32 | 1, .buflen = 32, .fill = G));
    /* e) arguments that must be ignored */
    add("openat2_cf_ignore_dfd_neg1_path_null", SP(.sc = o, .size = CF | 24, .args = 1, .dfd = -1, .path = NULL, .buflen = 24, .fill = G));
    add("openat2_cf_ignore_dfd_9999_path_bad", SP(.sc = o, .size = CF | 24, .args = 1, .dfd = 9999, .path = (const char *)1, .buflen = 24, .fill = G));
    add("openat2_cf_ignore_path_empty", SP(.sc = o, .size = CF | 24, .args = 1, .dfd = AT_FDCWD, .path = "", .buflen = 24, .fill = G));
    add("mount_setattr_cf_ignore_dfd_neg1_path_null", SP(.sc = m, .size = CF | 32, .args = 1, .dfd = -1, .path = NULL, .buflen = 32, .fill = G));
    add("mount_setattr_cf_ignore_dfd_9999_path_bad", SP(.sc = m, .size = CF | 32, .args = 1, .dfd = 9999, .path = (const char *)1, .buflen = 32, .fill = G));
    /* f) faults */
    static const char *fk[4] = {"null", "readonly", "tail", "head"};
    static char fname[SC_N][4][48];
    for (int sc = 0; sc < SC_N; sc++) {
        size_t ks = g_ksize[sc];
        for (int f = 0; f < 4; f++)
            snprintf(fname[sc][f], sizeof fname[sc][f], "%s_cf_fault_%s", SCN[sc], fk[f]);
        add(fname[sc][0], SP(.sc = sc, .size = CF | ks, .fault = F_NULL));
        add(fname[sc][1], SP(.sc = sc, .size = CF | (ks + 16), .buflen = ks + 16, .fill = G, .fault = F_RO));
        add(fname[sc][2], SP(.sc = sc, .size = CF | (ks + 16), .buflen = ks + 16, .fill = G, .fault = F_TAIL));
        add(fname[sc][3], SP(.sc = sc, .size = CF | ks, .buflen = ks, .fill = G, .fault = F_HEAD));
    }
    /* g), h), i) */
    addf("unpriv_probes", c_unpriv);
    addf("concurrency_16x2000", c_concurrency);
    addf("desc_fork_child", c_fork_child);
    addf("desc_fork_grandchild", c_fork_grandchild);
    addf("desc_vfork", c_vfork);
    addf("desc_exec_chain", c_exec_chain);
    addf("desc_child_thread", c_child_thread);
}

static int run_cases(int n, char **names) {
    int pass = 0, fail = 0, skip = 0;
    struct tcase *sel[160];
    for (int i = 0; i < n; i++) {
        sel[i] = NULL;
        for (int k = 0; k < NT; k++)
            if (!strcmp(T[k].name, names[i]))
                sel[i] = &T[k];
        if (!sel[i]) {
            fprintf(stderr, "probe_cases: unknown case '%s' (see 'probe_cases list')\n", names[i]);
            return 2;
        }
    }
    if (!O.oflags_known && !g_native)
        fprintf(stderr, "note: kernel %d.%d >= 7.2: openat2 flags mask unknown, only checking that it "
                "contains 0x%llx (set EXTSYS_EXPECT_OPEN_FLAGS for an exact comparison)\n",
                O.maj, O.min, (unsigned long long)X_VALID_OPEN_FLAGS);
    for (int i = 0; i < n; i++) {
        struct tcase *t = sel[i];
        unsigned avail = (unsigned)(g_have[0] | g_have[1] << 1 | g_have[2] << 2);
        int r;
        if (!(t->mask & avail)) {
            printf("SKIP %s: %s missing (ENOSYS)\n", t->name, t->fn ? "all three syscalls" : SCN[t->s.sc]);
            skip++;
            continue;
        }
        r = t->fn ? t->fn() : probe_verify(&t->s, t->name) ? FAIL : PASS;
        printf("%s %s\n", r == PASS ? "PASS" : r == SKIP ? "SKIP" : "FAIL", t->name);
        fflush(stdout);
        if (r == PASS)
            pass++;
        else if (r == SKIP)
            skip++;
        else
            fail++;
    }
    if (fail)
        fprintf(stderr, "expectations: mode=%s probe-errno=%d kernel=%d.%d open_flags=0x%llx%s "
                "resolve=0x%llx clone_flags=0x%llx clone_size=%zu mount_attrs=0x%llx page=%zu\n",
                g_native ? "native" : "emulated", g_noop, O.maj, O.min, (unsigned long long)O.oflags,
                O.oflags_known ? "" : "(unchecked)", (unsigned long long)O.resolve,
                (unsigned long long)O.cflags, O.cksize, (unsigned long long)O.mattrs, g_page);
    printf("summary: %d passed, %d failed, %d skipped\n", pass, fail, skip);
    return fail ? 1 : (skip == n ? SKIP : 0);
}

/* ---- j) ordinary (non-probe) calls: deterministic transcript ---- */
static void show(const char *desc, long r, int e) {
    if (r < 0)
        printf("%s = -1 %s\n", desc, ename(e));
    else
        printf("%s = %ld\n", desc, r);
}
static void o2(const char *desc, const char *path, uint64_t fl, uint64_t res, size_t size, int dirty) {
    uint8_t how[64] = {0};
    put64(how, 0, fl);
    put64(how, 16, res);
    if (dirty)
        how[24] = 1;
    errno = 0;
    long r = syscall(SYS_openat2, AT_FDCWD, path, how, (unsigned long)size);
    show(desc, r, errno);
    if (r >= 0)
        printf("close(fd) = %d\n", close((int)r));
}
static void c3(const char *desc, uint64_t flags, size_t size, int dirty) {
    uint8_t ca[128] = {0};
    int st;
    put64(ca, 0, flags);
    put64(ca, 32, SIGCHLD);
    if (dirty)
        ca[88] = 1;
    fflush(stdout);
    errno = 0;
    long r = syscall(SYS_clone3, ca, (unsigned long)size);
    if (r == 0)
        syscall(SYS_exit_group, 7);
    if (r < 0) {
        show(desc, r, errno);
        return;
    }
    printf("%s = <child pid>\n", desc);
    if (waitpid((pid_t)r, &st, 0) != r)
        printf("waitpid(child) = -1 %s\n", ename(errno));
    else if (WIFEXITED(st))
        printf("waitpid(child) = exited with status %d\n", WEXITSTATUS(st));
    else
        printf("waitpid(child) = killed by signal %d\n", WTERMSIG(st));
}
static void ms(const char *desc, const char *path, uint64_t attr_set) {
    uint64_t a[4] = {attr_set, 0, 0, 0};
    errno = 0;
    long r = syscall(SYS_mount_setattr, -1, path, 0, a, 32UL);
    show(desc, r, errno);
}
static int cmd_ordinary(void) {
    const uint64_t RD = 0;
    o2("openat2(AT_FDCWD, \".\", {flags=O_RDONLY|O_DIRECTORY}, 24)", ".", RD | X_O_DIRECTORY, 0, 24, 0);
    o2("openat2(AT_FDCWD, \".\", {flags=1<<40}, 24)", ".", 1ULL << 40, 0, 24, 0);
    o2("openat2(AT_FDCWD, \".\", {flags=0x4000000}, 24)", ".", 0x4000000, 0, 24, 0);
    o2("openat2(AT_FDCWD, \".\", {flags=O_RDONLY}, 23)", ".", RD, 0, 23, 0);
    o2("openat2(AT_FDCWD, \".\", {flags=O_RDONLY, byte 24 = 1}, 32)", ".", RD, 0, 32, 1);
    o2("openat2(AT_FDCWD, \".\", {flags=O_RDONLY, zeroed tail}, 32)", ".", RD, 0, 32, 0);
    o2("openat2(AT_FDCWD, \".\", {resolve=RESOLVE_BENEATH|RESOLVE_IN_ROOT}, 24)", ".", RD, RESOLVE_BENEATH | RESOLVE_IN_ROOT, 24, 0);
    o2("openat2(AT_FDCWD, \".\", {flags=O_CREAT|O_DIRECTORY}, 24)", ".", X_O_CREAT | X_O_DIRECTORY, 0, 24, 0);
    o2("openat2(AT_FDCWD, \"\", {flags=O_RDONLY}, 24)", "", RD, 0, 24, 0);
    c3("clone3({exit_signal=SIGCHLD}, 64)", 0, 64, 0);
    c3("clone3({flags=1<<50, exit_signal=SIGCHLD}, 64)", 1ULL << 50, 64, 0);
    c3("clone3({exit_signal=SIGCHLD, byte 88 = 1}, 96)", 0, 96, 1);
    ms("mount_setattr(-1, \"\", 0, {zeroed}, 32)", "", 0);
    ms("mount_setattr(-1, \"/nonexistent-extsys\", 0, {attr_set=MOUNT_ATTR_RDONLY}, 32)",
       "/nonexistent-extsys", MOUNT_ATTR_RDONLY);
    fflush(stdout);
    return 0;
}

/* ---- k) l) helpers for the driver ---- */
static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
static int cmd_fd_report(void) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int fds[4096], n = 0;
    if (!d)
        return perror("opendir /proc/self/fd"), 1;
    while ((de = readdir(d)) && n < 4096)
        if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
            fds[n++] = atoi(de->d_name);
    closedir(d);
    qsort(fds, (size_t)n, sizeof fds[0], cmp_int);
    for (int i = 0; i < n; i++)
        printf(i ? " %d" : "%d", fds[i]);
    printf("\n");
    return 0;
}

static int cmd_kill_self(const char *arg) {
    static const struct { const char *n; int s; } t[] = {
        {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ABRT", SIGABRT}, {"KILL", SIGKILL},
        {"SEGV", SIGSEGV}, {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}};
    int sig = atoi(arg);
    sigset_t set;
    if (!strncmp(arg, "SIG", 3))
        arg += 3;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(arg, t[i].n))
            sig = t[i].s;
    if (sig <= 0 || sig >= 65)
        return fprintf(stderr, "kill_self: bad signal '%s'\n", arg), 2;
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    fflush(NULL);
    raise(sig);
    fprintf(stderr, "kill_self: still alive after signal %d\n", sig);
    return 1;
}

static int cmd_daemon(const char *path) {
    char tmp[4096 + 32], msg[4200];
    fflush(NULL);
    pid_t p = fork();
    if (p < 0)
        return perror("fork"), 1;
    if (p > 0)
        return 0;                               /* the parent exits at once */
    setsid();
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
        dup2(nul, 0), dup2(nul, 1), dup2(nul, 2);
        if (nul > 2)
            close(nul);
    }
    struct timespec ts = {0, 300 * 1000 * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    g_capture = 1;
    int fails = basic_three("daemon");
    if (fails)
        snprintf(msg, sizeof msg, "fail: %.1500s\n", g_cap);
    else
        snprintf(msg, sizeof msg, "ok\n");
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        _exit(1);
    size_t len = strlen(msg);
    if (write(fd, msg, len) != (ssize_t)len || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0)
        _exit(1);
    _exit(0);
}

static int usage(void) {
    fprintf(stderr, "usage: probe_cases list | run NAME... | ordinary_calls | fd_report |\n"
                    "       exit_code N | kill_self SIG | daemon_probe PATHFILE\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *mode = getenv("EXTSYS_EXPECT"), *pe = getenv("EXTSYS_PROBE_ERRNO");
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        return usage();
    long ps = sysconf(_SC_PAGESIZE);
    g_page = ps > 0 ? (size_t)ps : 4096;
    if (mode && *mode && strcmp(mode, "emulated") && strcmp(mode, "native"))
        return fprintf(stderr, "EXTSYS_EXPECT must be 'emulated' or 'native'\n"), 2;
    g_native = mode && !strcmp(mode, "native");
    if (pe && *pe)
        g_noop = atoi(pe);
    init_oracle();
    init_cases();
    if (!strcmp(argv[1], "list")) {
        for (int i = 0; i < NT; i++)
            printf("%s\n", T[i].name);
        return 0;
    }
    if (!strcmp(argv[1], "ordinary_calls"))
        return cmd_ordinary();
    if (!strcmp(argv[1], "fd_report"))
        return cmd_fd_report();
    if (!strcmp(argv[1], "exit_code") && argc == 3)
        return (int)strtol(argv[2], NULL, 0);
    if (!strcmp(argv[1], "kill_self") && argc == 3)
        return cmd_kill_self(argv[2]);
    init_have();
    if (!strcmp(argv[1], "daemon_probe") && argc == 3)
        return cmd_daemon(argv[2]);
    if (!strcmp(argv[1], "run") && argc >= 3 && argc - 2 <= 160)
        return run_cases(argc - 2, argv + 2);
    return usage();
}
