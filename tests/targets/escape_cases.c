/*
 * escape_cases.c - the attacks on what a strict policy claims (issue 12), one per
 * subcommand, run as the program under `extsys run --policy sandbox-strict` by
 * tests/integration/escape_test.cpp.
 *
 * The attacks are in escape_process.c and escape_files.c. Every subcommand prints exactly one line and exits 0:
 *   RESULT <attack> errno=<NAME|0> effect=<0|1> [key=value ...]
 * errno is what the deciding call returned (0: it succeeded); effect=1 means what the
 * attack aims at happened, as far as the program itself can see (the test also checks
 * from outside: files on disk, the target's state, mount flags). When an attack cannot
 * run here: "SKIP <attack> <reason>" and exit 77. Usage errors exit 2.
 *
 * TARGET is a pid, super:TOKEN for this run's extsys supervisor (the process named
 * extsys-super whose command line contains TOKEN: the supervisor is a fork of extsys, so
 * it carries extsys's argv, and the test puts TOKEN there), or front:TOKEN for the
 * ancestor model's front (named extsys).
 *
 *   find TARGET               whether TARGET exists (ESRCH: there is nothing to attack)
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
#include "escape_cases.h"

const char *g_attack = "?";

const char *ename(int e)
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

int result(int err, int effect, const char *fmt, ...)
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

int skip(const char *reason)
{
    printf("SKIP %s %s\n", g_attack, reason);
    fflush(stdout);
    return 77;
}

int usage(void)
{
    fprintf(stderr, "escape_cases: bad arguments for '%s' (see the comment at the top)\n", g_attack);
    return 2;
}

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

ssize_t read_file(const char *path, char *buf, size_t size)
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

/* The process named `comm` whose command line contains token: this run's extsys supervisor
 * (extsys-super) or, in the ancestor model, its front (extsys). Both are forks of extsys,
 * so they carry extsys's argv, where the test puts the token. */
static pid_t find_by_token(const char *comm, const char *token)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = 0;
    char want[64];
    snprintf(want, sizeof want, "%s\n", comm);
    while (d && (e = readdir(d)) != NULL) {
        char path[300], buf[8192];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
        if (read_file(path, buf, sizeof buf) < 0 || strcmp(buf, want) != 0)
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

/* In place, extsys execs PROGRAM without waiting for the supervisor, which
 * names itself extsys-super a moment later: look for up to 3 s. (The
 * supervisor is non-dumpable from its birth, and a strict policy's Landlock
 * domain holds from PROGRAM's first instruction: attacking it earlier gains
 * nothing; escape_test checks that the attack found its target.) */
pid_t target(const char *spec)
{
    const int super = strncmp(spec, "super:", 6) == 0;
    if (!super && strncmp(spec, "front:", 6) != 0)
        return (pid_t)atoi(spec);
    for (int tries = 0; tries < 300; ++tries) {
        pid_t found = find_by_token(super ? "extsys-super" : "extsys", spec + 6);
        if (found > 0)
            return found;
        usleep(10 * 1000);
    }
    return 0;
}

char proc_state(pid_t pid)
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
    if (!strcmp(a, "find")) { /* is there a process of extsys to attack at all? */
        NEED(1);
        pid_t pid = target(argv[2]);
        return pid > 0 ? result(0, 1, "target=%d", (int)pid) : result(ESRCH, 0, "target=0");
    }
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
