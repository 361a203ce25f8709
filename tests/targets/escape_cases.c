/*
 * escape_cases.c - the attacks on what a strict policy claims (issue 12), one per
 * subcommand, run as the program under `extsys run --policy sandbox-strict` by
 * tests/integration/escape_test.cpp.
 *
 * Every subcommand prints exactly one line and exits 0:
 *   RESULT <attack> errno=<NAME|0> effect=<0|1> [key=value ...]
 * errno is what the deciding call returned (0: it succeeded); effect=1 means what the
 * attack aims at happened, as far as the program itself can see (the test also checks
 * from outside: files on disk, the target's state, mount flags). When an attack cannot
 * run here: "SKIP <attack> <reason>" and exit 77. Usage errors exit 2.
 *
 * TARGET is a pid, or super:TOKEN for this run's extsys supervisor: the process named
 * extsys-super whose command line contains TOKEN (the supervisor is a fork of extsys, so
 * it carries extsys's argv, and the test puts TOKEN there).
 *
 *   ptrace-inject TARGET      PTRACE_SEIZE, then make it run exit_group(42) (x86_64)
 *   vm-read TARGET            process_vm_readv of a mapped word
 *   vm-write TARGET           process_vm_writev of the same word back
 *   proc-mem TARGET           open /proc/PID/mem O_RDWR, rewrite one word
 *   pidfd-getfd TARGET        pidfd_getfd of the first open fd
 *   signal TARGET ROUTE       SIGSTOP via kill|tkill|tgkill|sigqueue|pidfd|sigio, then SIGCONT
 *   prlimit TARGET            prlimit64 RLIMIT_NOFILE on TARGET (rewrites its current value)
 *   abstract-connect NAME     connect a stream socket to the abstract address "\0NAME"
 *   abstract-sendto NAME      send a datagram to "\0NAME"
 *   setid KIND DIR suid|sgid  make DIR/<file> set-id; KIND: chmod fchmod fchmodat fchmodat2
 *                             fchmodat2-empty chmod-procfd mknod mknodat open openat creat
 *                             tmpfile setxattr-caps (file capability instead of a mode bit)
 *   userns-setns FD 0|user|high   setns(FD, nstype): FD is an inherited user namespace fd;
 *                             high = 1<<32 (the kernel takes nstype as an int: 0)
 *   userns-setns-path PID 0|user  open /proc/PID/ns/user, setns
 *   userns-setns-pidfd PID    setns(pidfd_open(PID), CLONE_NEWUSER)
 *   userns-setns-handle FD    re-open FD's namespace by nsfs file handle, setns(fd, 0)
 *   userns-clone | userns-unshare | userns-clone3     a new user namespace
 *   mount-remount-bind DIR | mount-remount DIR | mount-setattr DIR | mount-fsmount DIR |
 *   mount-fspick DIR | mount-open-tree-attr DIR     clear ro,nosuid,nodev,noexec at DIR
 *   io-uring                  io_uring_setup
 *   int80-getpid | int80-chmod DIR    the i386 ABI from a 64-bit process
 *   tiocsti                   push a character into the controlling terminal's input
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* Raw syscall numbers (asm-generic, shared by x86_64 and aarch64 from 424 on). */
#define NR_pidfd_send_signal 424
#define NR_io_uring_setup 425
#define NR_open_tree 428
#define NR_move_mount 429
#define NR_fsopen 430
#define NR_fsconfig 431
#define NR_fsmount 432
#define NR_fspick 433
#define NR_pidfd_open 434
#define NR_clone3 435
#define NR_pidfd_getfd 438
#define NR_mount_setattr 442
#define NR_fchmodat2 452
#define NR_open_tree_attr 467

#define X_CLONE_NEWUSER 0x10000000ULL
#define X_O_TMPFILE (020000000 | O_DIRECTORY)
#define X_AT_EMPTY_PATH 0x1000
#define X_FD_NSFS_ROOT (-10003)
#define X_MOUNT_ATTR_RDONLY 0x1ULL
#define X_MOUNT_ATTR_NOSUID 0x2ULL
#define X_MOUNT_ATTR_NODEV 0x4ULL
#define X_MOUNT_ATTR_NOEXEC 0x8ULL
#define X_FSCONFIG_SET_FLAG 0
#define X_FSCONFIG_CMD_CREATE 6
#define X_FSCONFIG_CMD_RECONFIGURE 7
#define X_OPEN_TREE_CLONE 1
#define X_MOVE_MOUNT_F_EMPTY_PATH 0x4
#define X_VFS_CAP_REVISION_2 0x02000000
#define X_VFS_CAP_FLAGS_EFFECTIVE 0x1
#define X_CAP_NET_RAW 13

struct x_mount_attr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
};
struct x_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static const char *g_attack = "?";

static const char *ename(int e)
{
    if (e == 0)
        return "0";
    const char *n = strerrorname_np(e);
    static char buf[16];
    if (n)
        return n;
    snprintf(buf, sizeof buf, "E%d", e);
    return buf;
}

static int result(int err, int effect, const char *fmt, ...)
{
    printf("RESULT %s errno=%s effect=%d", g_attack, ename(err), effect);
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        putchar(' ');
        vprintf(fmt, ap);
        va_end(ap);
    }
    putchar('\n');
    fflush(stdout);
    return 0;
}

static int skip(const char *reason)
{
    printf("SKIP %s %s\n", g_attack, reason);
    fflush(stdout);
    return 77;
}

static int usage(void)
{
    fprintf(stderr, "escape_cases: bad arguments for '%s' (see the comment at the top)\n", g_attack);
    return 2;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static ssize_t read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    int e = errno;
    close(fd);
    errno = e;
    if (n >= 0)
        buf[n] = 0;
    return n;
}

/* ---- targets ---- */

static pid_t find_super(const char *token)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    while (d && (e = readdir(d)) != NULL) {
        char path[300], buf[8192];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
        if (read_file(path, buf, sizeof buf) < 0 || strcmp(buf, "extsys-super\n") != 0)
            continue;
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        ssize_t n = read_file(path, buf, sizeof buf);
        for (ssize_t i = 0; i < n; ++i)
            if (buf[i] == 0)
                buf[i] = ' ';
        if (n > 0 && strstr(buf, token)) {
            found = (pid_t)atoi(e->d_name);
            break;
        }
    }
    if (d)
        closedir(d);
    return found;
}

static pid_t target(const char *spec)
{
    if (strncmp(spec, "super:", 6) == 0)
        return find_super(spec + 6);
    return (pid_t)atoi(spec);
}

static char proc_state(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_file(path, buf, sizeof buf) < 0)
        return '-';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

/* First writable private mapping of pid, from /proc/PID/maps (itself ptrace-checked);
 * 0x1000 (never mapped: below mmap_min_addr) when maps is unreadable, so that a permitted
 * access gives EFAULT and a refused one EPERM, and nothing is ever written blindly. */
static uintptr_t writable_word(pid_t pid)
{
    char path[64], buf[65536];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    if (read_file(path, buf, sizeof buf) < 0)
        return 0x1000;
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && strcmp(perms, "rw-p") == 0)
            return lo;
    }
    return 0x1000;
}

/* ---- process attacks ---- */

static int do_ptrace_inject(pid_t pid)
{
    if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0)
        return result(errno, 0, "target=%d", (int)pid);
    int injected = 0;
    if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0) {
        int st;
        waitpid(pid, &st, __WALL);
#if defined(__x86_64__)
        struct user_regs_struct r;
        if (ptrace(PTRACE_GETREGS, pid, 0, &r) == 0) {
            errno = 0;
            long w = ptrace(PTRACE_PEEKTEXT, pid, (void *)(r.rip - 2), 0);
            if (errno == 0 && (w & 0xffff) == 0x050f) { /* stopped just after `syscall` */
                r.orig_rax = (unsigned long)-1;      /* no syscall restart */
                r.rax = SYS_exit_group;
                r.rdi = 42;
                r.rip -= 2;
                injected = ptrace(PTRACE_SETREGS, pid, 0, &r) == 0;
            }
        }
#endif
    }
    ptrace(PTRACE_DETACH, pid, 0, 0);
    char state = '?';
    for (int i = 0; i < 50 && injected; ++i) {
        state = proc_state(pid);
        if (state == '-' || state == 'Z')
            break;
        sleep_ms(20);
    }
    return result(0, 1, "target=%d attached=1 injected=%d target_state=%c", (int)pid, injected,
                  injected ? state : proc_state(pid));
}

static int do_vm(pid_t pid, int write_back)
{
    uint64_t word = 0;
    uintptr_t addr = writable_word(pid);
    struct iovec local = {&word, sizeof word}, remote = {(void *)addr, sizeof word};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    int err = n < 0 ? errno : 0;
    if (!write_back)
        return result(err, n > 0, "target=%d addr=%#lx", (int)pid, (unsigned long)addr);
    if (n <= 0) /* nothing read: write to the never-mapped address only */
        remote.iov_base = (void *)0x1000;
    n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
    return result(n < 0 ? errno : 0, n > 0, "target=%d addr=%#lx", (int)pid,
                  (unsigned long)remote.iov_base);
}

static int do_proc_mem(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return result(errno, 0, "target=%d", (int)pid);
    uint64_t word;
    uintptr_t addr = writable_word(pid);
    int wrote = pread(fd, &word, sizeof word, (off_t)addr) == sizeof word &&
                pwrite(fd, &word, sizeof word, (off_t)addr) == sizeof word;
    return result(0, 1, "target=%d opened=O_RDWR rewrote_word=%d", (int)pid, wrote);
}

static int do_pidfd_getfd(pid_t pid)
{
    int pidfd = (int)syscall(NR_pidfd_open, pid, 0);
    if (pidfd < 0)
        return result(errno, 0, "target=%d step=pidfd_open", (int)pid);
    for (int fd = 0; fd < 64; ++fd) {
        long got = syscall(NR_pidfd_getfd, pidfd, fd, 0);
        if (got >= 0)
            return result(0, 1, "target=%d fd=%d", (int)pid, fd);
        if (errno != EBADF)
            return result(errno, 0, "target=%d fd=%d", (int)pid, fd);
    }
    return result(EBADF, 0, "target=%d no-open-fd-below-64", (int)pid);
}

static long send_route(const char *route, pid_t pid, int sig)
{
    if (strcmp(route, "kill") == 0)
        return kill(pid, sig);
    if (strcmp(route, "tkill") == 0)
        return syscall(SYS_tkill, pid, sig);
    if (strcmp(route, "tgkill") == 0)
        return syscall(SYS_tgkill, pid, pid, sig);
    if (strcmp(route, "sigqueue") == 0) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        si.si_signo = sig;
        si.si_code = SI_QUEUE;
        si.si_pid = getpid();
        si.si_uid = getuid();
        return syscall(SYS_rt_sigqueueinfo, pid, sig, &si);
    }
    if (strcmp(route, "pidfd") == 0) {
        int pidfd = (int)syscall(NR_pidfd_open, pid, 0);
        if (pidfd < 0)
            return -1;
        long rc = syscall(NR_pidfd_send_signal, pidfd, sig, NULL, 0);
        int e = errno;
        close(pidfd);
        errno = e;
        return rc;
    }
    if (strcmp(route, "sigio") == 0) { /* the signal comes from the kernel, on I/O */
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            return -1;
        if (fcntl(sv[0], F_SETOWN, pid) != 0 || fcntl(sv[0], F_SETSIG, sig) != 0 ||
            fcntl(sv[0], F_SETFL, O_ASYNC | O_NONBLOCK) != 0)
            return -1;
        long rc = write(sv[1], "x", 1) == 1 ? 0 : -1;
        sleep_ms(50);
        close(sv[0]);
        close(sv[1]);
        return rc;
    }
    errno = EINVAL;
    return -2;
}

static int do_signal(pid_t pid, const char *route)
{
    char before = proc_state(pid);
    long rc = send_route(route, pid, SIGSTOP);
    if (rc == -2)
        return usage();
    int err = rc < 0 ? errno : 0;
    char state = proc_state(pid);
    for (int i = 0; i < 25 && state != 'T' && state != 't'; ++i) {
        sleep_ms(20);
        state = proc_state(pid);
    }
    int stopped = state == 'T' || state == 't';
    if (stopped) /* undo, by the same route when it can carry SIGCONT */
        send_route(strcmp(route, "sigio") == 0 ? "kill" : route, pid, SIGCONT);
    return result(err, stopped, "target=%d route=%s state_before=%c state_after_stop=%c",
                  (int)pid, route, before, state);
}

static int do_prlimit(pid_t pid)
{
    struct rlimit old;
    if (prlimit(pid, RLIMIT_NOFILE, NULL, &old) != 0)
        return result(errno, 0, "target=%d step=read", (int)pid);
    if (prlimit(pid, RLIMIT_NOFILE, &old, NULL) != 0)
        return result(errno, 0, "target=%d step=write", (int)pid);
    return result(0, 1, "target=%d step=write", (int)pid);
}

static int do_abstract(const char *name, int type)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    size_t len = strlen(name);
    if (len + 1 >= sizeof a.sun_path)
        return usage();
    memcpy(a.sun_path + 1, name, len);
    socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
    int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    long rc = type == SOCK_STREAM ? connect(s, (struct sockaddr *)&a, alen)
                                  : sendto(s, "x", 1, 0, (struct sockaddr *)&a, alen);
    return result(rc < 0 ? errno : 0, rc >= 0, "name=%s", name);
}

/* ---- set-id files ---- */

static int make_plain(const char *path)
{
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0755);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static int do_setid(const char *kind, const char *dir, const char *bitname)
{
    mode_t bit = strcmp(bitname, "suid") == 0 ? S_ISUID : strcmp(bitname, "sgid") == 0 ? S_ISGID : 0;
    int caps = strcmp(kind, "setxattr-caps") == 0;
    if (!bit && !caps)
        return usage();
    const mode_t mode = 0755 | bit;
    char path[4096], via[64];
    snprintf(path, sizeof path, "%s/%s-%s-%d", dir, kind, bitname, (int)getpid());
    long rc;
    int creates = !strcmp(kind, "mknod") || !strcmp(kind, "mknodat") || !strcmp(kind, "open") ||
                  !strcmp(kind, "openat") || !strcmp(kind, "creat") || !strcmp(kind, "tmpfile");
    if (!creates && make_plain(path) != 0)
        return result(errno, 0, "step=create path=%s", path);
    if (strcmp(kind, "chmod") == 0) {
        rc = chmod(path, mode);
    } else if (strcmp(kind, "fchmod") == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        rc = fchmod(fd, mode);
    } else if (strcmp(kind, "fchmodat") == 0) {
        rc = syscall(SYS_fchmodat, AT_FDCWD, path, mode);
    } else if (strcmp(kind, "fchmodat2") == 0) {
        rc = syscall(NR_fchmodat2, AT_FDCWD, path, mode, 0);
    } else if (strcmp(kind, "fchmodat2-empty") == 0) {
        int fd = open(path, O_PATH | O_CLOEXEC);
        rc = syscall(NR_fchmodat2, fd, "", mode, X_AT_EMPTY_PATH);
    } else if (strcmp(kind, "chmod-procfd") == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        snprintf(via, sizeof via, "/proc/self/fd/%d", fd);
        rc = chmod(via, mode);
    } else if (strcmp(kind, "mknod") == 0) {
#ifdef SYS_mknod
        rc = syscall(SYS_mknod, path, S_IFREG | mode, 0);
#else
        return skip("this architecture has no mknod(2), only mknodat(2)");
#endif
    } else if (strcmp(kind, "mknodat") == 0) {
        rc = syscall(SYS_mknodat, AT_FDCWD, path, S_IFREG | mode, 0);
    } else if (strcmp(kind, "open") == 0) {
#ifdef SYS_open
        rc = syscall(SYS_open, path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
#else
        return skip("this architecture has no open(2), only openat(2)");
#endif
    } else if (strcmp(kind, "openat") == 0) {
        rc = syscall(SYS_openat, AT_FDCWD, path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
    } else if (strcmp(kind, "creat") == 0) {
#ifdef SYS_creat
        rc = syscall(SYS_creat, path, mode);
#else
        return skip("this architecture has no creat(2)");
#endif
    } else if (strcmp(kind, "tmpfile") == 0) {
        rc = syscall(SYS_openat, AT_FDCWD, dir, X_O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
        if (rc >= 0) {
            snprintf(via, sizeof via, "/proc/self/fd/%ld", rc);
            if (linkat(AT_FDCWD, via, AT_FDCWD, path, AT_SYMLINK_FOLLOW) != 0)
                return result(errno, 0, "step=linkat path=%s", path);
        }
    } else if (caps) {
        /* struct vfs_cap_data, revision 2: CAP_NET_RAW permitted and effective */
        uint32_t v[5] = {X_VFS_CAP_REVISION_2 | X_VFS_CAP_FLAGS_EFFECTIVE, 1U << X_CAP_NET_RAW, 0, 0, 0};
        rc = setxattr(path, "security.capability", v, sizeof v, 0);
        int err = rc < 0 ? errno : 0;
        char got[64];
        ssize_t n = getxattr(path, "security.capability", got, sizeof got);
        return result(err, n > 0, "path=%s", path);
    } else {
        return usage();
    }
    int err = rc < 0 ? errno : 0;
    struct stat st;
    if (stat(path, &st) != 0)
        return result(err, 0, "path=%s mode=absent", path);
    return result(err, (st.st_mode & bit) != 0, "path=%s mode=%#o", path, (unsigned)st.st_mode & 07777);
}

/* ---- user namespaces ---- */

static void ns_link(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/ns/user", buf, size - 1);
    buf[n > 0 ? n : 0] = 0;
}

static long nstype_arg(const char *s)
{
    if (strcmp(s, "0") == 0)
        return 0;
    if (strcmp(s, "user") == 0)
        return (long)X_CLONE_NEWUSER;
    if (strcmp(s, "high") == 0)
        return 1L << 32;
    return -1;
}

static int setns_report(long fd, long nstype, const char *how)
{
    char before[64], after[64];
    ns_link(before, sizeof before);
    long rc = syscall(SYS_setns, fd, nstype);
    int err = rc < 0 ? errno : 0;
    ns_link(after, sizeof after);
    return result(err, strcmp(before, after) != 0, "via=%s nstype=%#lx before=%s after=%s", how,
                  (unsigned long)nstype, before, after);
}

static int do_userns_handle(int fd)
{
    struct {
        struct file_handle fh;
        unsigned char bytes[128];
    } h;
    int mount_id;
    h.fh.handle_bytes = sizeof h.bytes;
    if (name_to_handle_at(fd, "", &h.fh, &mount_id, X_AT_EMPTY_PATH) != 0) {
        if (errno == EOPNOTSUPP || errno == EINVAL)
            return skip("this kernel has no nsfs file handles (Linux < 6.18)");
        return result(errno, 0, "step=name_to_handle_at");
    }
    close(fd); /* from here on, the handle's bytes are all the attacker has */
    int nfd = open_by_handle_at(X_FD_NSFS_ROOT, &h.fh, O_RDONLY | O_CLOEXEC);
    if (nfd < 0)
        return result(errno, 0, "step=open_by_handle_at");
    return setns_report(nfd, 0, "nsfs-handle");
}

static int do_userns_new(const char *how)
{
    char before[64];
    ns_link(before, sizeof before);
    if (strcmp(how, "unshare") == 0) {
        long rc = unshare(CLONE_NEWUSER);
        int err = rc < 0 ? errno : 0;
        char after[64];
        ns_link(after, sizeof after);
        return result(err, strcmp(before, after) != 0, "before=%s after=%s", before, after);
    }
    long pid;
    if (strcmp(how, "clone") == 0) {
        fflush(stdout);
        pid = syscall(SYS_clone, (unsigned long)(X_CLONE_NEWUSER | SIGCHLD), 0, 0, 0, 0);
    } else {
        struct x_clone_args a;
        memset(&a, 0, sizeof a);
        a.flags = X_CLONE_NEWUSER;
        a.exit_signal = SIGCHLD;
        fflush(stdout);
        pid = syscall(NR_clone3, &a, sizeof a);
    }
    if (pid == 0)
        _exit(0);
    int err = pid < 0 ? errno : 0;
    if (pid > 0)
        waitpid((pid_t)pid, NULL, 0);
    return result(err, pid > 0, "child_in_new_userns=%d", pid > 0);
}

/* ---- mount attributes ---- */

/* "<mount options> | <super options>" of the top mount at dir, from mountinfo. */
static void mount_flags(const char *dir, char *out, size_t size)
{
    char buf[1 << 16];
    snprintf(out, size, "none");
    if (read_file("/proc/self/mountinfo", buf, sizeof buf) < 0)
        return;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char mp[4096], opts[512], sopts[512];
        if (sscanf(line, "%*s %*s %*s %*s %4095s %511s", mp, opts) != 2 || strcmp(mp, dir) != 0)
            continue;
        const char *dash = strstr(line, " - ");
        if (!dash || sscanf(dash, " - %*s %*s %511s", sopts) != 1)
            snprintf(sopts, sizeof sopts, "?");
        snprintf(out, size, "%s|%s", opts, sopts); /* the last match is the top mount */
    }
}

static int do_mount(const char *how, const char *dir)
{
    char before[1100], after[1100];
    const char *step = how;
    long rc;
    mount_flags(dir, before, sizeof before);
    const uint64_t clr = X_MOUNT_ATTR_RDONLY | X_MOUNT_ATTR_NOSUID | X_MOUNT_ATTR_NODEV | X_MOUNT_ATTR_NOEXEC;
    if (strcmp(how, "remount-bind") == 0) {
        rc = mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND, NULL);
    } else if (strcmp(how, "remount") == 0) {
        rc = mount(NULL, dir, NULL, MS_REMOUNT, NULL);
    } else if (strcmp(how, "setattr") == 0) {
        struct x_mount_attr a = {0, clr, 0, 0};
        rc = syscall(NR_mount_setattr, AT_FDCWD, dir, 0, &a, sizeof a);
    } else if (strcmp(how, "fsmount") == 0) {
        step = "fsopen";
        rc = syscall(NR_fsopen, "tmpfs", 0);
        long fs = rc;
        if (rc >= 0 && (step = "fsconfig-create", rc = syscall(NR_fsconfig, fs, X_FSCONFIG_CMD_CREATE, NULL, NULL, 0)) >= 0 &&
            (step = "fsmount", rc = syscall(NR_fsmount, fs, 0, 0)) >= 0)
            step = "move_mount", rc = syscall(NR_move_mount, rc, "", AT_FDCWD, dir, X_MOVE_MOUNT_F_EMPTY_PATH);
    } else if (strcmp(how, "fspick") == 0) {
        step = "fspick";
        rc = syscall(NR_fspick, AT_FDCWD, dir, 0);
        long fs = rc;
        if (rc >= 0 && (step = "fsconfig-rw", rc = syscall(NR_fsconfig, fs, X_FSCONFIG_SET_FLAG, "rw", NULL, 0)) >= 0)
            step = "fsconfig-reconfigure", rc = syscall(NR_fsconfig, fs, X_FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0);
    } else if (strcmp(how, "open-tree-attr") == 0) {
        struct x_mount_attr a = {0, clr, 0, 0};
        step = "open_tree_attr";
        rc = syscall(NR_open_tree_attr, AT_FDCWD, dir, X_OPEN_TREE_CLONE, &a, sizeof a);
        if (rc >= 0)
            step = "move_mount", rc = syscall(NR_move_mount, rc, "", AT_FDCWD, dir, X_MOVE_MOUNT_F_EMPTY_PATH);
    } else {
        return usage();
    }
    int err = rc < 0 ? errno : 0;
    mount_flags(dir, after, sizeof after);
    return result(err, strcmp(before, after) != 0, "step=%s before=%s after=%s", step, before, after);
}

/* ---- side doors ---- */

#if defined(__x86_64__)
static long int80(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}
#endif

static int do_int80(const char *what, const char *dir)
{
#if defined(__x86_64__)
    char path[4096];
    if (strcmp(what, "chmod") == 0) {
        snprintf(path, sizeof path, "%s/int80-chmod-%d", dir, (int)getpid());
        if (make_plain(path) != 0)
            return result(errno, 0, "step=create");
    }
    int p[2];
    if (pipe(p) != 0)
        return result(errno, 0, "step=pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        long r;
        if (strcmp(what, "getpid") == 0) {
            r = int80(20 /* i386 getpid */, 0, 0, 0);
        } else { /* the path must be addressable with 32 bits */
            char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
            strcpy(low, path);
            r = int80(15 /* i386 chmod */, (long)(uintptr_t)low, 04755, 0);
        }
        (void)!write(p[1], &r, sizeof r);
        _exit(0);
    }
    close(p[1]);
    long r = 0;
    ssize_t n = read(p[0], &r, sizeof r);
    int st;
    waitpid(pid, &st, 0);
    if (n != sizeof r && WIFSIGNALED(st))
        return skip("int $0x80 faults: IA-32 emulation is off in this kernel (no i386 syscall can run)");
    int err = r < 0 && r > -4096 ? (int)-r : 0;
    if (strcmp(what, "getpid") == 0)
        return result(err, r > 0, "ret=%ld", r);
    struct stat sb;
    int has = stat(path, &sb) == 0 && (sb.st_mode & S_ISUID);
    return result(err, has, "path=%s", path);
#else
    (void)what;
    (void)dir;
    return skip("int $0x80 is x86 only");
#endif
}

static int do_tiocsti(void)
{
    if (!isatty(0))
        return skip("stdin is not a terminal");
    char c = '#';
    long rc = ioctl(0, TIOCSTI, &c);
    return result(rc < 0 ? errno : 0, rc == 0, "");
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    g_attack = argv[1];
    const char *a = argv[1];
#define NEED(n) \
    if (argc < (n) + 2) \
        return usage()
    /* Never act on pid 0 or below: kill(0, SIGSTOP) would stop our own process group. */
    static const char *const by_target[] = {"ptrace-inject", "vm-read", "vm-write", "proc-mem",
                                            "pidfd-getfd", "signal", "prlimit"};
    for (size_t i = 0; i < sizeof by_target / sizeof *by_target; ++i)
        if (!strcmp(a, by_target[i]) && argc >= 3 && target(argv[2]) <= 0)
            return result(ESRCH, 0, "target=0 not-found=%s", argv[2]);
    if (!strcmp(a, "ptrace-inject")) { NEED(1); return do_ptrace_inject(target(argv[2])); }
    if (!strcmp(a, "vm-read")) { NEED(1); return do_vm(target(argv[2]), 0); }
    if (!strcmp(a, "vm-write")) { NEED(1); return do_vm(target(argv[2]), 1); }
    if (!strcmp(a, "proc-mem")) { NEED(1); return do_proc_mem(target(argv[2])); }
    if (!strcmp(a, "pidfd-getfd")) { NEED(1); return do_pidfd_getfd(target(argv[2])); }
    if (!strcmp(a, "signal")) { NEED(2); return do_signal(target(argv[2]), argv[3]); }
    if (!strcmp(a, "prlimit")) { NEED(1); return do_prlimit(target(argv[2])); }
    if (!strcmp(a, "abstract-connect")) { NEED(1); return do_abstract(argv[2], SOCK_STREAM); }
    if (!strcmp(a, "abstract-sendto")) { NEED(1); return do_abstract(argv[2], SOCK_DGRAM); }
    if (!strcmp(a, "setid")) { NEED(3); return do_setid(argv[2], argv[3], argv[4]); }
    if (!strcmp(a, "userns-setns")) {
        NEED(2);
        long t = nstype_arg(argv[3]);
        return t < 0 ? usage() : setns_report(atol(argv[2]), t, "inherited-fd");
    }
    if (!strcmp(a, "userns-setns-path")) {
        NEED(2);
        char path[64];
        long t = nstype_arg(argv[3]);
        if (t < 0)
            return usage();
        snprintf(path, sizeof path, "/proc/%s/ns/user", argv[2]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return result(errno, 0, "step=open path=%s", path);
        return setns_report(fd, t, "proc-path");
    }
    if (!strcmp(a, "userns-setns-pidfd")) {
        NEED(1);
        int fd = (int)syscall(NR_pidfd_open, atoi(argv[2]), 0);
        if (fd < 0)
            return result(errno, 0, "step=pidfd_open");
        return setns_report(fd, (long)X_CLONE_NEWUSER, "pidfd");
    }
    if (!strcmp(a, "userns-setns-handle")) { NEED(1); return do_userns_handle(atoi(argv[2])); }
    if (!strcmp(a, "userns-clone")) return do_userns_new("clone");
    if (!strcmp(a, "userns-unshare")) return do_userns_new("unshare");
    if (!strcmp(a, "userns-clone3")) return do_userns_new("clone3");
    if (!strncmp(a, "mount-", 6)) { NEED(1); return do_mount(a + 6, argv[2]); }
    if (!strcmp(a, "io-uring")) {
        unsigned char params[120];
        memset(params, 0, sizeof params);
        long fd = syscall(NR_io_uring_setup, 4, params);
        return result(fd < 0 ? errno : 0, fd >= 0, "");
    }
    if (!strcmp(a, "int80-getpid")) return do_int80("getpid", NULL);
    if (!strcmp(a, "int80-chmod")) { NEED(1); return do_int80("chmod", argv[2]); }
    if (!strcmp(a, "tiocsti")) return do_tiocsti();
    return usage();
}
