/*
 * policy_cases.c - test target for extsys policies (personas, restrict, strict sandbox):
 * does a program that believes its CHECK_FIELDS answers get exactly what it was told, and
 * nothing more?  Expected values: src/kernel/abi/CHECK_FIELDS.md and
 * src/kernel/features/VERSIONS.md.
 *
 *   policy_cases told                 the three probes, one machine-readable line each, exit 0
 *   policy_cases use-told             use every advertised bit, one at a time: exit 0 / 1
 *   policy_cases use-more             use every known bit NOT advertised: expect EINVAL
 *                                     (EXTSYS_DENY_ERRNO), E2BIG for a larger clone3: 0 / 1
 *   policy_cases race SECONDS clone3|openat2   flip a forbidden value under the call: 0 / 1
 *   policy_cases race-legacy SECONDS  clone(2) / unshare(2) with CLONE_NEWUSER: 0 / 1
 *   policy_cases sidedoors            io_uring_setup, i386 int $0x80, x32 (each in a child);
 *                                     EXTSYS_EXPECT_SIDEDOORS=closed: exit 0 only if all three
 *                                     are closed: ENOSYS, or for i386 a SIGSEGV (int $0x80
 *                                     faults when IA-32 emulation is off: no syscall ran)
 *   policy_cases legacy               transcript of legacy calls, exit 0
 *
 * Lines of use-told/use-more: "ok|FAIL|skip SYSCALL FIELD NAME -> RESULT", "note ...", then
 * "summary ok=N fail=N skip=N".  Usage errors exit 2.
 * Environment: EXTSYS_PROBE_ERRNO (134), EXTSYS_DENY_ERRNO (EINVAL), EXTSYS_EXPECT_SIDEDOORS.
 * Every syscall under test is made with raw syscall(); constants are the x86_64 raw values.
 */
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
/* raw asm-generic open flags: glibc defines O_LARGEFILE as 0 on x86_64 */
#define X_O_RDONLY 0x0ULL
#define X_O_WRONLY 0x1ULL
#define X_O_RDWR 0x2ULL
#define X_O_CREAT 0x40ULL
#define X_O_DIRECTORY 0x10000ULL
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
#define KNOWN_OFLAGS (0x7fffc3ULL | (1ULL << 32))   /* + OPENAT2_REGULAR (7.2) */
#define KNOWN_RESOLVE 0x3fULL
#define KNOWN_CFLAGS (0x3fULL << 32)                /* clone3-only bits 32..37 */
#define KNOWN_MATTRS 0x3000ffULL
#define KNOWN_PROP 0x1e0000ULL

enum { SC_OPENAT2, SC_CLONE3, SC_MOUNT, SC_N };
enum { T_CF, T_NOSYS, T_OTHER };                    /* what a probe answered */
enum { K_OFLAG, K_RESOLVE, K_MODE, K_CFLAG, K_MATTR, K_PROP };
static const char *SCN[SC_N] = {"openat2", "clone3", "mount_setattr"};
static const char *KN[] = {"flags", "resolve", "mode", "flags", "attr_set", "propagation"};
static const int KSC[] = {SC_OPENAT2, SC_OPENAT2, SC_OPENAT2, SC_CLONE3, SC_MOUNT, SC_MOUNT};

static int g_probe_errno = 134, g_deny_errno = EINVAL;
static int n_ok, n_fail, n_skip;

static struct told {
    int state, err;     /* err: errno of the probe (0: it returned ret >= 0) */
    long ret;
    uint64_t v[16];     /* the 128-byte answer buffer */
    size_t csize;       /* clone3: end of the last all-ones field */
} T[SC_N];

/* ---- small helpers ---- */
static const struct { int e; const char *n; } ERRS[] = {
    {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"}, {EINTR, "EINTR"}, {EIO, "EIO"},
    {ENXIO, "ENXIO"}, {E2BIG, "E2BIG"}, {EBADF, "EBADF"}, {ECHILD, "ECHILD"},
    {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"}, {EACCES, "EACCES"}, {EFAULT, "EFAULT"},
    {EBUSY, "EBUSY"}, {EEXIST, "EEXIST"}, {EXDEV, "EXDEV"}, {ENODEV, "ENODEV"},
    {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"}, {EINVAL, "EINVAL"}, {ENFILE, "ENFILE"},
    {EMFILE, "EMFILE"}, {ENOSPC, "ENOSPC"}, {EROFS, "EROFS"}, {ENOSYS, "ENOSYS"},
    {ELOOP, "ELOOP"}, {ENAMETOOLONG, "ENAMETOOLONG"}, {EUSERS, "EUSERS"},
    {EOPNOTSUPP, "EOPNOTSUPP"}, {ESTALE, "ESTALE"}, {EOVERFLOW, "EOVERFLOW"}};

static const char *ename(int e) {
    static __thread char buf[16];
    for (size_t i = 0; i < sizeof ERRS / sizeof ERRS[0]; i++)
        if (ERRS[i].e == e)
            return ERRS[i].n;
    snprintf(buf, sizeof buf, "%d", e);
    return buf;
}

static int env_errno(const char *var, int dflt) {
    const char *v = getenv(var);
    char *end;
    if (!v || !*v)
        return dflt;
    for (size_t i = 0; i < sizeof ERRS / sizeof ERRS[0]; i++)
        if (strcmp(v, ERRS[i].n) == 0)
            return ERRS[i].e;
    long n = strtol(v, &end, 0);
    if (*end || n < 1 || n > 4095) {
        fprintf(stderr, "policy_cases: bad %s '%s' (errno name or 1..4095)\n", var, v);
        exit(2);
    }
    return (int)n;
}

/* -errno or the result, like the kernel */
static long sc(long r) { return r == -1 ? -(long)errno : r; }

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void line(int verdict, const char *fmt, ...) {   /* 1 ok, 0 FAIL, -1 skip */
    va_list ap;
    fputs(verdict > 0 ? "ok " : verdict == 0 ? "FAIL " : "skip ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    if (verdict > 0) n_ok++;
    else if (verdict == 0) n_fail++;
    else n_skip++;
}

static int summary(void) {
    printf("summary ok=%d fail=%d skip=%d\n", n_ok, n_fail, n_skip);
    return n_fail ? 1 : 0;
}

static const struct { int kind; uint64_t bit; const char *name; } NAMES[] = {
    {K_OFLAG, 0x1, "O_WRONLY"}, {K_OFLAG, 0x2, "O_RDWR"}, {K_OFLAG, 0x40, "O_CREAT"},
    {K_OFLAG, 0x80, "O_EXCL"}, {K_OFLAG, 0x100, "O_NOCTTY"}, {K_OFLAG, 0x200, "O_TRUNC"},
    {K_OFLAG, 0x400, "O_APPEND"}, {K_OFLAG, 0x800, "O_NONBLOCK"}, {K_OFLAG, 0x1000, "O_DSYNC"},
    {K_OFLAG, 0x2000, "FASYNC"}, {K_OFLAG, 0x4000, "O_DIRECT"}, {K_OFLAG, 0x8000, "O_LARGEFILE"},
    {K_OFLAG, 0x10000, "O_DIRECTORY"}, {K_OFLAG, 0x20000, "O_NOFOLLOW"},
    {K_OFLAG, 0x40000, "O_NOATIME"}, {K_OFLAG, 0x80000, "O_CLOEXEC"},
    {K_OFLAG, 0x100000, "__O_SYNC"}, {K_OFLAG, 0x200000, "O_PATH"},
    {K_OFLAG, 0x400000, "__O_TMPFILE"}, {K_OFLAG, 1ULL << 32, "OPENAT2_REGULAR"},
    {K_RESOLVE, 0x1, "RESOLVE_NO_XDEV"}, {K_RESOLVE, 0x2, "RESOLVE_NO_MAGICLINKS"},
    {K_RESOLVE, 0x4, "RESOLVE_NO_SYMLINKS"}, {K_RESOLVE, 0x8, "RESOLVE_BENEATH"},
    {K_RESOLVE, 0x10, "RESOLVE_IN_ROOT"}, {K_RESOLVE, 0x20, "RESOLVE_CACHED"},
    {K_CFLAG, 1ULL << 32, "CLONE_CLEAR_SIGHAND"}, {K_CFLAG, 1ULL << 33, "CLONE_INTO_CGROUP"},
    {K_CFLAG, 1ULL << 34, "CLONE_AUTOREAP"}, {K_CFLAG, 1ULL << 35, "CLONE_NNP"},
    {K_CFLAG, 1ULL << 36, "CLONE_PIDFD_AUTOKILL"}, {K_CFLAG, 1ULL << 37, "CLONE_EMPTY_MNTNS"},
    {K_MATTR, 0x1, "MOUNT_ATTR_RDONLY"}, {K_MATTR, 0x2, "MOUNT_ATTR_NOSUID"},
    {K_MATTR, 0x4, "MOUNT_ATTR_NODEV"}, {K_MATTR, 0x8, "MOUNT_ATTR_NOEXEC"},
    {K_MATTR, 0x10, "MOUNT_ATTR_NOATIME"}, {K_MATTR, 0x20, "MOUNT_ATTR_STRICTATIME"},
    {K_MATTR, 0x80, "MOUNT_ATTR_NODIRATIME"}, {K_MATTR, 0x100000, "MOUNT_ATTR_IDMAP"},
    {K_MATTR, 0x200000, "MOUNT_ATTR_NOSYMFOLLOW"},
    {K_PROP, 0x20000, "MS_UNBINDABLE"}, {K_PROP, 0x40000, "MS_PRIVATE"},
    {K_PROP, 0x80000, "MS_SLAVE"}, {K_PROP, 0x100000, "MS_SHARED"}};

static const char *bitname(int kind, uint64_t bit) {
    static char buf[32];
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        if (NAMES[i].kind == kind && NAMES[i].bit == bit)
            return NAMES[i].name;
    snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)bit);
    return buf;
}

/* ---- processes: children created by clone3/clone must leave at once ---- */
static int g_ns_check;           /* children compare their user namespace with g_userns */
static char g_userns[128];

static void read_userns(char *buf, size_t n) {
    ssize_t k = readlink("/proc/self/ns/user", buf, n - 1);
    buf[k > 0 ? k : 0] = 0;
}

static void child_exit(void) {   /* in a freshly created child: never returns */
    if (g_ns_check) {
        char b[128];
        read_userns(b, sizeof b);
        _exit(strcmp(b, g_userns) != 0 ? 1 : 0);
    }
    _exit(0);
}

/* wait for a child; autoreaped children (pidfd given) only announce their exit */
static int reap(pid_t pid, int pidfd) {
    int st = 0;
    if (pidfd >= 0) {
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        poll(&p, 1, 5000);
        close(pidfd);
    }
    while (waitpid(pid, &st, __WALL) < 0) {
        if (errno != EINTR)
            return pidfd >= 0 && errno == ECHILD ? 0 : -1;
    }
    return st;
}

static pid_t raw_fork(unsigned long flags) {  /* legacy clone(2): flags, newsp, ptid, ctid, tls */
    fflush(stdout);
    return (pid_t)sc(syscall(SYS_clone, flags, 0UL, NULL, NULL, 0UL));
}

/* a real clone3 with args (16 words); returns 0 if a child was created (its wait status in
 * *st, -1 if it could not be reaped), else the errno */
static int clone3_real(uint64_t *args, size_t size, int *st) {
    int pidfd = -1;
    if (args[0] & X_CLONE_PIDFD)
        args[1] = (uint64_t)(uintptr_t)&pidfd;
    fflush(stdout);
    long r = sc(syscall(SYS_clone3, args, (unsigned long)size));
    if (r == 0)
        child_exit();
    if (r < 0)
        return (int)-r;
    *st = reap((pid_t)r, pidfd);
    return 0;
}

static void describe_status(int st, char *buf, size_t n) {
    if (st == -1)
        snprintf(buf, n, "success, child not reaped");
    else if (WIFEXITED(st))
        snprintf(buf, n, "success (child exited %d)", WEXITSTATUS(st));
    else
        snprintf(buf, n, "success (child killed by signal %d)", WTERMSIG(st));
}

/* ---- probes ---- */
static void probe_all(void) {
    for (int s = 0; s < SC_N; s++) {
        struct told *t = &T[s];
        uint64_t *b = t->v;
        unsigned long size = (unsigned long)(CHECK_FIELDS | 128);
        long r;
        memset(t, 0, sizeof *t);
        fflush(stdout);
        if (s == SC_OPENAT2)
            r = sc(syscall(SYS_openat2, AT_FDCWD, NULL, b, size));
        else if (s == SC_CLONE3)
            r = sc(syscall(SYS_clone3, b, size));
        else
            r = sc(syscall(SYS_mount_setattr, -1, NULL, 0UL, b, size));
        if (r == 0 && s == SC_CLONE3)
            _exit(99);                       /* a probe must never create a process */
        if (r > 0 && s == SC_OPENAT2)
            close((int)r);
        if (r > 0 && s == SC_CLONE3)
            reap((pid_t)r, -1);
        t->ret = r;
        t->err = r < 0 ? (int)-r : 0;
        t->state = t->err == g_probe_errno ? T_CF : t->err == ENOSYS ? T_NOSYS : T_OTHER;
        if (s == SC_CLONE3)
            for (size_t i = 0; i < 16; i++)
                if (b[i] == ~0ULL)
                    t->csize = (i + 1) * 8;
    }
}

static void told_line(int s) {
    const struct told *t = &T[s];
    printf("%s errno=", SCN[s]);
    if (t->state == T_CF)
        printf("%d", t->err);
    else if (t->err)
        printf("%s", ename(t->err));
    else
        printf("none ret=%ld", t->ret);
    if (t->state == T_CF && s == SC_OPENAT2)
        printf(" flags=0x%llx mode=0x%llx resolve=0x%llx", (unsigned long long)t->v[0],
               (unsigned long long)t->v[1], (unsigned long long)t->v[2]);
    if (t->state == T_CF && s == SC_CLONE3)
        printf(" flags=0x%llx size=%zu", (unsigned long long)t->v[0], t->csize);
    if (t->state == T_CF && s == SC_MOUNT)
        printf(" attr_set=0x%llx attr_clr=0x%llx propagation=0x%llx",
               (unsigned long long)t->v[0], (unsigned long long)t->v[1],
               (unsigned long long)t->v[2]);
    putchar('\n');
}

static int cmd_told(void) {
    probe_all();
    for (int s = 0; s < SC_N; s++)
        told_line(s);
    return 0;
}

/* ---- validation-only calls (shared by use-told and use-more) ---- */
static int v_openat2(uint64_t flags, uint64_t mode, uint64_t resolve) {
    uint64_t how[3] = {flags, mode, resolve};
    long r = sc(syscall(SYS_openat2, AT_FDCWD, NULL, how, 24UL));   /* NULL path: EFAULT */
    if (r >= 0)
        close((int)r);
    return r < 0 ? (int)-r : 0;
}

static int closed_fd(void) {
    int fd = 999;
    while (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
        fd++;
    return fd;
}

static int v_mount(uint64_t set, uint64_t clr, uint64_t prop, uint64_t userns) {
    uint64_t a[4] = {set, clr, prop, userns};
    long r = sc(syscall(SYS_mount_setattr, -1, NULL, 0UL, a, 32UL));   /* NULL path: EFAULT */
    return r < 0 ? (int)-r : 0;
}

/* the cgroup2 root, for CLONE_INTO_CGROUP (hybrid hierarchies: .../unified) */
static int cgroup_fd(void) {
    static const char *cand[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
    for (size_t i = 0; i < 2; i++) {
        struct statfs sf;
        int fd = (int)sc(syscall(SYS_openat, AT_FDCWD, cand[i],
                                 (unsigned long)(X_O_DIRECTORY | X_O_CLOEXEC), 0UL));
        if (fd < 0)
            continue;
        if (fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == CGROUP2_SUPER_MAGIC)
            return fd;
        close(fd);
    }
    return -1;
}

/*
 * One use of one bit: builds the call the way a program that knows the bit would, makes it
 * and prints the verdict.  more == 0: the bit was advertised and must pass validation;
 * more == 1: it was not and must get g_deny_errno.
 */
static void use_bit(int kind, uint64_t bit, int more) {
    const char *name = bitname(kind, bit), *scn = SCN[KSC[kind]], *fld = KN[kind];
    int e, ok, st = 0;
    char res[80];

    if (kind == K_OFLAG || kind == K_RESOLVE || kind == K_MODE) {
        if (kind == K_OFLAG && bit == X_O_TMPFILE)
            e = v_openat2(X_O_TMPFILE | X_O_DIRECTORY | X_O_RDWR, 0600, 0);
        else if (kind == K_OFLAG)
            e = v_openat2(bit, 0, 0);
        else if (kind == K_MODE)
            e = v_openat2(X_O_CREAT | X_O_WRONLY, bit, 0);
        else
            e = v_openat2(X_O_RDONLY, 0, bit);
        ok = more ? e == g_deny_errno
                  : e == EFAULT || (kind == K_RESOLVE && bit == X_RESOLVE_CACHED && e == EAGAIN);
        line(ok, "%s %s %s -> %s", scn, fld, name, e ? ename(e) : "success");
        return;
    }
    if (kind == K_MATTR || kind == K_PROP) {
        int idmap = kind == K_MATTR && bit == X_MOUNT_ATTR_IDMAP;
        if (kind == K_PROP)
            e = v_mount(0, 0, bit, 0);
        else if (bit & X_MOUNT_ATTR__ATIME)            /* an atime value: clear the field */
            e = v_mount(bit, X_MOUNT_ATTR__ATIME, 0, 0);
        else
            e = v_mount(bit, 0, 0, idmap ? (uint64_t)closed_fd() : 0);
        ok = more ? e == g_deny_errno : e == (idmap ? EBADF : EFAULT);
        line(ok, "%s %s %s -> %s", scn, fld, name, e ? ename(e) : "success");
        return;
    }
    /* clone3: a real call; the child _exit(0)s at once */
    uint64_t a[16] = {0};
    size_t size = T[SC_CLONE3].csize < 64 ? 64 : T[SC_CLONE3].csize;
    int cg = -1;
    a[0] = bit;
    a[4] = SIGCHLD;
    if (bit == X_CLONE_INTO_CGROUP) {
        size = size < 88 ? 88 : size;
        if (!more && (cg = cgroup_fd()) < 0) {
            line(-1, "%s %s %s: no cgroup2 directory at /sys/fs/cgroup(/unified)", scn, fld,
                 name);
            return;
        }
        a[10] = more ? 0 : (uint64_t)cg;   /* fd 0 is no cgroup: never a child if let in */
    }
    if (bit == X_CLONE_AUTOREAP || bit == X_CLONE_PIDFD_AUTOKILL) {
        /* the combination a kernel with the bit accepts (use-more too: a let-through bit
         * must create a child, not fail on the combination rules) */
        uint64_t need = bit == X_CLONE_AUTOREAP ? 0 : X_CLONE_AUTOREAP | X_CLONE_NNP;
        if (!more && (T[SC_CLONE3].v[0] & need) != need) {
            line(-1, "%s %s %s: needs AUTOREAP|NNP, not advertised", scn, fld, name);
            return;
        }
        a[0] |= need | X_CLONE_PIDFD;          /* autoreaped: exit_signal 0, wait on a pidfd */
        a[4] = 0;
    }
    e = clone3_real(a, size, &st);
    if (cg >= 0)
        close(cg);
    if (e)
        snprintf(res, sizeof res, "%s", ename(e));
    else
        describe_status(st, res, sizeof res);
    if (more)
        ok = e == g_deny_errno;
    else if (e == 0)
        ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    else if (bit == X_CLONE_INTO_CGROUP &&
             (e == EACCES || e == EBUSY || e == EOPNOTSUPP || e == ENOENT)) {
        line(-1, "%s %s %s -> %s (past flag validation; the cgroup refused)", scn, fld, name,
             res);
        return;
    } else if (e == EPERM && geteuid() != 0 && bit == (1ULL << 37)) {
        line(-1, "%s %s %s -> EPERM (no privilege)", scn, fld, name);
        return;
    } else
        ok = 0;
    line(ok, "%s %s %s -> %s", scn, fld, name, res);
}

/* mount_setattr needs CAP_SYS_ADMIN before any flag is validated: an all-zero attr returns 0
 * right after may_mount() (src/kernel/discovery/RECIPES.md, 'mount_setattr'), so it tells privilege from policy */
static int mount_privileged(void) {
    int e = v_mount(0, 0, 0, 0);
    if (e == EPERM) {
        line(-1, "mount_setattr: no privilege (EPERM for an all-zero attr), uses skipped");
        return 0;
    }
    if (e)
        printf("note mount_setattr all-zero attr -> %s (expected success)\n", ename(e));
    return 1;
}

/* a syscall the probe said is absent must be absent for real calls too */
static void use_hidden(int s) {
    int e, st = 0;
    char res[80];
    if (s == SC_OPENAT2) {
        uint64_t how[3] = {X_O_RDONLY | X_O_DIRECTORY | X_O_CLOEXEC, 0, 0};
        long r = sc(syscall(SYS_openat2, AT_FDCWD, ".", how, 24UL));
        if (r >= 0)
            close((int)r);
        e = r < 0 ? (int)-r : 0;
        snprintf(res, sizeof res, "%s", e ? ename(e) : "success (fd)");
    } else if (s == SC_CLONE3) {
        uint64_t a[16] = {0};
        a[4] = SIGCHLD;
        e = clone3_real(a, 64, &st);
        if (e)
            snprintf(res, sizeof res, "%s", ename(e));
        else
            describe_status(st, res, sizeof res);
    } else {
        e = v_mount(0, 0, 0, 0);
        snprintf(res, sizeof res, "%s", e ? ename(e) : "success");
    }
    line(e == ENOSYS, "%s hidden: real call -> %s", SCN[s], res);
}

static void use_mask(int kind, uint64_t mask, int more) {
    for (int i = 0; i < 64; i++) {
        uint64_t bit = 1ULL << i;
        if (!(mask & bit))
            continue;
        if (kind == K_MATTR && bit == 0x40)   /* not an atime value on its own */
            continue;
        if (kind == K_CFLAG && i < 32)        /* legacy flags: the RFC reports them all */
            continue;
        use_bit(kind, bit, more);
    }
}

static int cmd_use_told(void) {
    probe_all();
    for (int s = 0; s < SC_N; s++) {
        const struct told *t = &T[s];
        if (t->state == T_NOSYS) {
            use_hidden(s);
            continue;
        }
        if (t->state == T_OTHER) {
            line(-1, "%s: probe -> %s, no CHECK_FIELDS; a program would fall back to "
                     "trial-and-error", SCN[s], t->err ? ename(t->err) : "success");
            continue;
        }
        if (s == SC_OPENAT2) {
            use_mask(K_OFLAG, t->v[0], 0);
            use_mask(K_RESOLVE, t->v[2], 0);
            if (t->v[1])
                use_bit(K_MODE, t->v[1], 0);
            uint64_t how[3] = {X_O_RDONLY | X_O_DIRECTORY | X_O_CLOEXEC, 0, 0};
            long r = sc(syscall(SYS_openat2, AT_FDCWD, ".", how, 24UL));
            if (r >= 0)
                close((int)r);
            line(r >= 0, "openat2 open \".\" O_RDONLY|O_DIRECTORY|O_CLOEXEC -> %s",
                 r >= 0 ? "fd" : ename((int)-r));
        } else if (s == SC_CLONE3) {
            uint64_t a[16] = {0};
            int st = 0, e;
            char res[80];
            if (t->csize < 64)
                printf("note clone3 told size %zu is below 64; using 64\n", t->csize);
            use_mask(K_CFLAG, t->v[0], 0);
            a[4] = SIGCHLD;
            e = clone3_real(a, t->csize < 64 ? 64 : t->csize, &st);
            if (e)
                snprintf(res, sizeof res, "%s", ename(e));
            else
                describe_status(st, res, sizeof res);
            line(e == 0 && st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                 "clone3 size %zu plain -> %s", t->csize < 64 ? 64 : t->csize, res);
        } else if (mount_privileged()) {
            use_mask(K_MATTR, t->v[0], 0);
            use_mask(K_PROP, t->v[2], 0);
        }
    }
    return summary();
}

static int cmd_use_more(void) {
    probe_all();
    for (int s = 0; s < SC_N; s++) {
        const struct told *t = &T[s];
        if (t->state != T_CF) {
            printf("note %s: probe -> %s, nothing advertised to go beyond\n", SCN[s],
                   t->err ? ename(t->err) : "success");
            continue;
        }
        if (s == SC_OPENAT2) {
            use_mask(K_OFLAG, KNOWN_OFLAGS & ~t->v[0], 1);
            use_mask(K_RESOLVE, KNOWN_RESOLVE & ~t->v[2], 1);
        } else if (s == SC_CLONE3) {
            uint64_t a[32] = {0};             /* room for the told size + 8 */
            int st = 0, e;
            size_t size = t->csize < 64 ? 64 : t->csize;
            char res[80];
            use_mask(K_CFLAG, KNOWN_CFLAGS & ~t->v[0], 1);
            a[4] = SIGCHLD;
            ((uint8_t *)a)[size] = 1;        /* a field the kernel does not know */
            e = clone3_real(a, size + 8, &st);
            if (e)
                snprintf(res, sizeof res, "%s", ename(e));
            else
                describe_status(st, res, sizeof res);
            line(e == E2BIG, "clone3 size %zu (told %zu) non-zero byte at %zu -> %s", size + 8,
                 t->csize, size, res);
        } else {
            uint64_t m = KNOWN_MATTRS & ~t->v[0], p = KNOWN_PROP & ~t->v[2];
            if (((m & ~0x40ULL) || p) && mount_privileged()) {
                use_mask(K_MATTR, m, 1);
                use_mask(K_PROP, p, 1);
            }
        }
    }
    if (n_ok + n_fail + n_skip == 0) {
        printf("nothing to overreach\n");
        return 0;
    }
    return summary();
}

/* ---- race: a second thread flips the struct while the call reads it ---- */
static uint64_t g_race[16] __attribute__((aligned(64)));
static uint64_t g_allowed, g_forbidden;
static int g_stop;
static unsigned g_errs[4096];

static void *flipper(void *arg) {
    (void)arg;
    while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED)) {
        __atomic_store_n(&g_race[0], g_forbidden, __ATOMIC_RELAXED);
        __atomic_store_n(&g_race[0], g_allowed, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void count_err(int e) { g_errs[e > 0 && e < 4096 ? e : 0]++; }

static void print_errs(void) {
    int any = 0;
    printf(" errnos:");
    for (int e = 0; e < 4096; e++)
        if (g_errs[e]) {
            printf(" %s=%u", e ? ename(e) : "other", g_errs[e]);
            any = 1;
        }
    if (!any)
        printf(" none");
    memset(g_errs, 0, sizeof g_errs);
}

static double parse_secs(const char *s) {
    char *end;
    double d = strtod(s, &end);
    if (*end || !(d > 0) || d > 86400) {
        fprintf(stderr, "policy_cases: bad SECONDS '%s'\n", s);
        exit(2);
    }
    return d;
}

static int cmd_race(double secs, const char *what) {
    char tmp[4096] = "/tmp/policy_cases.XXXXXX";
    int is_clone = strcmp(what, "clone3") == 0;
    unsigned long calls = 0, succeeded = 0, through = 0, unreaped = 0;
    pthread_t th;
    if (!is_clone && strcmp(what, "openat2") != 0) {
        fprintf(stderr, "policy_cases: race SYSCALL must be clone3 or openat2\n");
        return 2;
    }
    memset(g_race, 0, sizeof g_race);
    if (is_clone) {
        read_userns(g_userns, sizeof g_userns);
        g_ns_check = 1;
        g_allowed = 0;
        g_forbidden = X_CLONE_NEWUSER;
        g_race[4] = SIGCHLD;
    } else {
        /* A policy may forbid writable opens: the driver then creates the
         * file beforehand and names it in EXTSYS_RACE_FILE. */
        const char *given = getenv("EXTSYS_RACE_FILE");
        if (given != NULL) {
            snprintf(tmp, sizeof tmp, "%s", given);
        } else {
            int fd = mkstemp(tmp);
            if (fd < 0) {
                perror("policy_cases: mkstemp");
                return 2;
            }
            close(fd);
        }
        g_allowed = X_O_RDONLY;
        g_forbidden = X_O_RDWR;
    }
    if (pthread_create(&th, NULL, flipper, NULL) != 0) {
        fprintf(stderr, "policy_cases: pthread_create failed\n");
        return 2;
    }
    double t0 = now(), t1 = t0;
    while ((t1 = now()) - t0 < secs) {
        int st = 0;
        calls++;
        if (is_clone) {
            int e = clone3_real(g_race, 64, &st);
            if (e) {
                count_err(e);
                continue;
            }
            succeeded++;
            if (st == -1)
                unreaped++;
            else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                through++;
        } else {
            long r = sc(syscall(SYS_openat2, AT_FDCWD, tmp, g_race, 24UL));
            if (r < 0) {
                count_err((int)-r);
                continue;
            }
            succeeded++;
            if ((fcntl((int)r, F_GETFL) & O_ACCMODE) == O_RDWR)
                through++;
            close((int)r);
        }
    }
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    pthread_join(th, NULL);
    if (!is_clone && getenv("EXTSYS_RACE_FILE") == NULL)
        unlink(tmp);
    printf("race %s calls=%lu succeeded=%lu forbidden_through=%lu", what, calls, succeeded,
           through);
    print_errs();
    printf(" duration=%.2f\n", t1 - t0);
    if (unreaped)
        printf("note %lu children could not be reaped\n", unreaped);
    return through ? 1 : 0;
}

/* legacy calls cannot race (flags travel in registers): alternate allowed and forbidden */
static int cmd_race_legacy(double secs) {
    unsigned long c_calls = 0, c_forb = 0, c_through = 0, c_allowed_fail = 0;
    unsigned long u_calls = 0, u_through = 0;
    unsigned u_errs[4096] = {0};
    read_userns(g_userns, sizeof g_userns);
    g_ns_check = 1;
    double t0 = now(), t1 = t0;
    for (unsigned long i = 0; (t1 = now()) - t0 < secs; i++) {
        int kind = (int)(i % 3), st;
        if (kind < 2) {                                 /* clone(2), allowed / forbidden */
            unsigned long fl = SIGCHLD | (kind ? X_CLONE_NEWUSER : 0);
            pid_t p = raw_fork(fl);
            if (p == 0)
                child_exit();
            c_calls++;
            c_forb += kind;
            if (p < 0) {
                if (kind)
                    count_err((int)-p);
                else
                    c_allowed_fail++;
                continue;
            }
            st = reap(p, -1);
            if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                c_through++;
            continue;
        }
        pid_t p = raw_fork(SIGCHLD);                    /* unshare(2) in a child */
        if (p == 0) {
            long r = sc(syscall(SYS_unshare, (unsigned long)X_CLONE_NEWUSER));
            if (r < 0)
                _exit(r < -150 ? 250 : 100 + (int)-r);
            child_exit();
        }
        if (p < 0) {
            c_allowed_fail++;
            continue;
        }
        u_calls++;
        st = reap(p, -1);
        if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) >= 100)
            u_errs[WEXITSTATUS(st) - 100]++;
        else if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            u_through++;
    }
    printf("race-legacy clone calls=%lu forbidden_calls=%lu forbidden_through=%lu "
           "allowed_failed=%lu", c_calls, c_forb, c_through, c_allowed_fail);
    print_errs();
    printf(" duration=%.2f\n", t1 - t0);
    memcpy(g_errs, u_errs, sizeof u_errs);
    printf("race-legacy unshare calls=%lu forbidden_through=%lu", u_calls, u_through);
    print_errs();
    printf(" duration=%.2f\n", t1 - t0);
    return c_through || u_through ? 1 : 0;
}

/* ---- side doors: each attempt in a child, so a seccomp kill is reported, not suffered ---- */
enum { D_URING, D_I386, D_X32 };

static long door(int which) {
    if (which == D_URING) {
        uint64_t params[15] = {0};                     /* struct io_uring_params: 120 bytes */
        long r = sc(syscall(SYS_io_uring_setup, 1UL, params));
        if (r >= 0)
            close((int)r);
        return r;
    }
    if (which == D_X32)
        return sc(syscall(0x40000000L | 39));         /* __X32_SYSCALL_BIT | getpid */
#if defined(__x86_64__)
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "cc", "r8", "r9", "r10",
                     "r11");
    return (int)ret;                                  /* i386 getpid; eax is 32 bits */
#else
    return -ENOSYS;
#endif
}

static int try_door(int which, const char *name, int *uring_ok) {
    int fds[2], st = 0;
    long res = 0;
    if (pipe(fds) != 0) {
        perror("policy_cases: pipe");
        exit(2);
    }
    pid_t p = raw_fork(SIGCHLD);
    if (p == 0) {
        long r = door(which);
        if (write(fds[1], &r, sizeof r) != (ssize_t)sizeof r)
            _exit(3);
        _exit(0);
    }
    close(fds[1]);
    ssize_t n = p < 0 ? 0 : read(fds[0], &res, sizeof res);
    close(fds[0]);
    if (p < 0) {
        printf("%s -> cannot fork: %s\n", name, ename((int)-p));
        return 0;
    }
    st = reap(p, -1);
    if (n != (ssize_t)sizeof res) {
        if (which == D_I386 && st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) {
            /* int $0x80 faults (#GP) when IA-32 emulation is off: no syscall happened */
            printf("%s -> SIGSEGV (no IA-32 emulation: door closed)\n", name);
            return 1;
        }
        if (st != -1 && WIFSIGNALED(st))
            printf("%s -> killed by signal %d (%s)\n", name, WTERMSIG(st),
                   WTERMSIG(st) == SIGSYS ? "SIGSYS" : "not ENOSYS");
        else
            printf("%s -> no result (wait status %d)\n", name, st);
        return 0;
    }
    if (res >= 0) {
        if (which == D_URING)
            *uring_ok = 1;
        printf("%s -> %s%ld (allowed)\n", name, which == D_URING ? "fd " : "", res);
        return 0;
    }
    printf("%s -> %s\n", name, ename((int)-res));
    return res == -ENOSYS;
}

static int cmd_sidedoors(void) {
    const char *ex = getenv("EXTSYS_EXPECT_SIDEDOORS");
    int uring_ok = 0, closed = 0;
    if (ex && *ex && strcmp(ex, "closed") != 0 && strcmp(ex, "open") != 0) {
        fprintf(stderr, "policy_cases: EXTSYS_EXPECT_SIDEDOORS must be closed or open\n");
        return 2;
    }
    closed += try_door(D_URING, "io_uring_setup", &uring_ok);
    closed += try_door(D_I386, "i386 getpid", &uring_ok);
    closed += try_door(D_X32, "x32 getpid", &uring_ok);
    printf("summary closed=%d/3 io_uring=%s\n", closed, uring_ok ? "succeeded" : "failed");
    return ex && strcmp(ex, "closed") == 0 && closed != 3 ? 1 : 0;
}

/* ---- legacy transcript ---- */
static void legacy_clone(const char *name, unsigned long flags) {
    pid_t p = raw_fork(flags);
    if (p == 0)
        child_exit();
    if (p < 0) {
        printf("%s -> %s\n", name, ename((int)-p));
        return;
    }
    int st = reap(p, -1);
    if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) <= 1)
        printf("%s -> ok (child reaped%s)\n", name,
               WEXITSTATUS(st) ? ", in a new user namespace" : "");
    else if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) >= 100)
        printf("%s -> %s\n", name, ename(WEXITSTATUS(st) - 100));
    else
        printf("%s -> ok (child wait status %d)\n", name, st);
}

static void legacy_fd(const char *name, long r) {
    r = sc(r);
    if (r >= 0) {
        printf("%s -> fd\n", name);
        close((int)r);
    } else
        printf("%s -> %s\n", name, ename((int)-r));
}

static int cmd_legacy(void) {
    char tmp[] = "/tmp/policy_cases.XXXXXX";
    int fd = mkstemp(tmp);
    long r;
    read_userns(g_userns, sizeof g_userns);
    g_ns_check = 1;
    legacy_clone("clone SIGCHLD", SIGCHLD);
    legacy_clone("clone CLONE_NEWUSER|SIGCHLD", SIGCHLD | X_CLONE_NEWUSER);
    pid_t p = raw_fork(SIGCHLD);
    if (p == 0) {
        r = sc(syscall(SYS_unshare, (unsigned long)X_CLONE_NEWUSER));
        if (r < 0)
            _exit(r < -150 ? 250 : 100 + (int)-r);
        child_exit();
    }
    if (p < 0)
        printf("unshare CLONE_NEWUSER -> cannot fork: %s\n", ename((int)-p));
    else {
        int st = reap(p, -1);
        if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) >= 100)
            printf("unshare CLONE_NEWUSER -> %s\n", ename(WEXITSTATUS(st) - 100));
        else
            printf("unshare CLONE_NEWUSER -> %s\n", st != -1 && WIFEXITED(st) &&
                   WEXITSTATUS(st) == 1 ? "ok (new user namespace)" : "ok (same namespace?)");
    }
    legacy_fd("openat . O_RDONLY|O_DIRECTORY",
              syscall(SYS_openat, AT_FDCWD, ".", (unsigned long)X_O_DIRECTORY, 0UL));
#ifdef SYS_open
    legacy_fd("open . O_RDONLY|O_DIRECTORY",
              syscall(SYS_open, ".", (unsigned long)X_O_DIRECTORY, 0UL));
#endif
    if (fd >= 0) {
        close(fd);
        legacy_fd("openat tmpfile O_RDWR",
                  syscall(SYS_openat, AT_FDCWD, tmp, (unsigned long)X_O_RDWR, 0UL));
        unlink(tmp);
    } else
        printf("openat tmpfile O_RDWR -> cannot create the file: %s\n", ename(errno));
    r = sc(syscall(SYS_mount, NULL, "/nonexistent/policy_cases", NULL,
                   X_MS_RDONLY | X_MS_REMOUNT | X_MS_BIND, NULL));
    printf("mount MS_RDONLY|MS_REMOUNT|MS_BIND /nonexistent -> %s\n",
           r < 0 ? ename((int)-r) : "success");
    r = sc(syscall(SYS_fsmount, -1, 0UL, (unsigned long)X_MOUNT_ATTR_RDONLY));
    if (r >= 0)
        close((int)r);
    printf("fsmount -1 0 MOUNT_ATTR_RDONLY -> %s\n", r < 0 ? ename((int)-r) : "success");
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: policy_cases told | use-told | use-more | race SECONDS "
                    "clone3|openat2 | race-legacy SECONDS | sidedoors | legacy\n");
    return 2;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_probe_errno = env_errno("EXTSYS_PROBE_ERRNO", 134);
    g_deny_errno = env_errno("EXTSYS_DENY_ERRNO", EINVAL);
    if (argc < 2)
        return usage();
    const char *c = argv[1];
    if (argc == 2 && strcmp(c, "told") == 0)
        return cmd_told();
    if (argc == 2 && strcmp(c, "use-told") == 0)
        return cmd_use_told();
    if (argc == 2 && strcmp(c, "use-more") == 0)
        return cmd_use_more();
    if (argc == 4 && strcmp(c, "race") == 0)
        return cmd_race(parse_secs(argv[2]), argv[3]);
    if (argc == 3 && strcmp(c, "race-legacy") == 0)
        return cmd_race_legacy(parse_secs(argv[2]));
    if (argc == 2 && strcmp(c, "sidedoors") == 0)
        return cmd_sidedoors();
    if (argc == 2 && strcmp(c, "legacy") == 0)
        return cmd_legacy();
    return usage();
}
