/*
 * escape_process.c - attacks on processes outside the sandboxed tree (ptrace, their
 * memory, their fds, signals, resource limits, abstract unix sockets) and on the
 * terminal. See escape_cases.c.
 */
#define _GNU_SOURCE
#include "escape_cases.h"

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

int do_ptrace_inject(pid_t pid)
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

int do_vm(pid_t pid, int write_back)
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

int do_proc_mem(pid_t pid)
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

int do_pidfd_getfd(pid_t pid)
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

int do_signal(pid_t pid, const char *route)
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

int do_prlimit(pid_t pid)
{
    struct rlimit old;
    if (prlimit(pid, RLIMIT_NOFILE, NULL, &old) != 0)
        return result(errno, 0, "target=%d step=read", (int)pid);
    if (prlimit(pid, RLIMIT_NOFILE, &old, NULL) != 0)
        return result(errno, 0, "target=%d step=write", (int)pid);
    return result(0, 1, "target=%d step=write", (int)pid);
}

int do_abstract(const char *name, int type)
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

int do_tiocsti(void)
{
    if (!isatty(0))
        return skip("stdin is not a terminal");
    char c = '#';
    long rc = ioctl(0, TIOCSTI, &c);
    return result(rc < 0 ? errno : 0, rc == 0, "");
}
