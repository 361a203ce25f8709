/*
 * policy_common.c - the shared part of policy_cases: errno names, result
 * lines and the summary, bit names, and the helpers that create and reap
 * the children of clone3/clone.
 */
#include "policy_cases.h"

const char *const SCN[SC_N] = {"openat2", "clone3", "mount_setattr"};

int g_probe_errno = 134, g_deny_errno = EINVAL;
int n_ok, n_fail, n_skip;

struct told T[SC_N];

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

const char *ename(int e) {
    static __thread char buf[16];
    for (size_t i = 0; i < sizeof ERRS / sizeof ERRS[0]; i++)
        if (ERRS[i].e == e)
            return ERRS[i].n;
    snprintf(buf, sizeof buf, "%d", e);
    return buf;
}

int env_errno(const char *var, int dflt) {
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
long sc(long r) { return r == -1 ? -(long)errno : r; }

double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void line(int verdict, const char *fmt, ...) {   /* 1 ok, 0 FAIL, -1 skip */
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

int summary(void) {
    printf("summary ok=%d fail=%d skip=%d\n", n_ok, n_fail, n_skip);
    return n_fail ? 1 : 0;
}

static const struct { int kind; uint64_t bit; const char *name; } NAMES[] = {
    {K_OFLAG, 0x1, "O_WRONLY"}, {K_OFLAG, 0x2, "O_RDWR"}, {K_OFLAG, 0x40, "O_CREAT"},
    {K_OFLAG, 0x80, "O_EXCL"}, {K_OFLAG, 0x100, "O_NOCTTY"}, {K_OFLAG, 0x200, "O_TRUNC"},
    {K_OFLAG, 0x400, "O_APPEND"}, {K_OFLAG, 0x800, "O_NONBLOCK"}, {K_OFLAG, 0x1000, "O_DSYNC"},
    {K_OFLAG, 0x2000, "FASYNC"}, {K_OFLAG, X_O_DIRECT, "O_DIRECT"},
    {K_OFLAG, X_O_LARGEFILE, "O_LARGEFILE"}, {K_OFLAG, X_O_DIRECTORY, "O_DIRECTORY"},
    {K_OFLAG, X_O_NOFOLLOW, "O_NOFOLLOW"},
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

const char *bitname(int kind, uint64_t bit) {
    static char buf[32];
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        if (NAMES[i].kind == kind && NAMES[i].bit == bit)
            return NAMES[i].name;
    snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)bit);
    return buf;
}

/* ---- processes: children created by clone3/clone must leave at once ---- */
int g_ns_check;           /* children compare their user namespace with g_userns */
char g_userns[128];

void read_userns(char *buf, size_t n) {
    ssize_t k = readlink("/proc/self/ns/user", buf, n - 1);
    buf[k > 0 ? k : 0] = 0;
}

void child_exit(void) {   /* in a freshly created child: never returns */
    if (g_ns_check) {
        char b[128];
        read_userns(b, sizeof b);
        _exit(strcmp(b, g_userns) != 0 ? 1 : 0);
    }
    _exit(0);
}

/* wait for a child; autoreaped children (pidfd given) only announce their exit */
int reap(pid_t pid, int pidfd) {
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

pid_t raw_fork(unsigned long flags) {  /* legacy clone(2): flags, newsp, ptid, ctid, tls */
    fflush(stdout);
    return (pid_t)sc(syscall(SYS_clone, flags, 0UL, NULL, NULL, 0UL));
}

/* a real clone3 with args (16 words); returns 0 if a child was created (its wait status in
 * *st, -1 if it could not be reaped), else the errno */
int clone3_real(uint64_t *args, size_t size, int *st) {
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

void describe_status(int st, char *buf, size_t n) {
    if (st == -1)
        snprintf(buf, n, "success, child not reaped");
    else if (WIFEXITED(st))
        snprintf(buf, n, "success (child exited %d)", WEXITSTATUS(st));
    else
        snprintf(buf, n, "success (child killed by signal %d)", WTERMSIG(st));
}
