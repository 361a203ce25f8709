/*
 * process_cases.c - test target for extsys's process models (run contract):
 *
 *   process_cases signals N          print "ready PID PPID", then one line per
 *                                    signal received (HUP INT QUIT USR1 USR2
 *                                    TERM ALRM): "SIG from=PID code=user|queue:V|
 *                                    tkill|kernel"; after N of them and 300 ms
 *                                    without another, exit 0
 *   process_cases pause              print "ready PID PPID", wait for a signal
 *                                    with every disposition at its default
 *   process_cases as_nobody PROG...  uid/gid 65534, no groups, then exec PROG
 *   process_cases deny_close_range PROG...
 *                                    close_range(2) fails with ENOSYS (a
 *                                    seccomp filter), then exec PROG
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static int g_pipe[2];

static void on_signal(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    int saved = errno;
    struct { int sig, code, pid, value; } m = {sig, si->si_code, si->si_pid, si->si_value.sival_int};
    if (write(g_pipe[1], &m, sizeof m) < 0) {
        /* the reader reports what it gets */
    }
    errno = saved;
}

static const char *signame(int sig) {
    static const struct { int s; const char *n; } t[] = {
        {SIGHUP, "HUP"}, {SIGINT, "INT"}, {SIGQUIT, "QUIT"}, {SIGUSR1, "USR1"},
        {SIGUSR2, "USR2"}, {SIGTERM, "TERM"}, {SIGALRM, "ALRM"}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].s == sig)
            return t[i].n;
    return "?";
}

static int cmd_signals(int n) {
    static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGALRM};
    if (pipe(g_pipe) != 0)
        return perror("pipe"), 1;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_signal;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    printf("ready %d %d\n", (int)getpid(), (int)getppid());
    fflush(stdout);
    int got = 0;
    for (;;) {
        /* After N signals, 300 ms more: a duplicate would show up here. */
        if (got >= n) {
            struct timespec ts = {0, 300 * 1000 * 1000};
            fd_set r;
            FD_ZERO(&r);
            FD_SET(g_pipe[0], &r);
            int k = pselect(g_pipe[0] + 1, &r, NULL, NULL, &ts, NULL);
            if (k == 0)
                return 0;
            if (k < 0)
                continue;
        }
        struct { int sig, code, pid, value; } m;
        ssize_t len = read(g_pipe[0], &m, sizeof m);
        if (len < 0 && errno == EINTR)
            continue;
        if (len != (ssize_t)sizeof m)
            return perror("read"), 1;
        char code[32];
        if (m.code == SI_USER)
            snprintf(code, sizeof code, "user");
        else if (m.code == SI_QUEUE)
            snprintf(code, sizeof code, "queue:%d", m.value);
        else if (m.code == SI_TKILL)
            snprintf(code, sizeof code, "tkill");
        else if (m.code == SI_KERNEL)
            snprintf(code, sizeof code, "kernel");
        else
            snprintf(code, sizeof code, "%d", m.code);
        printf("%s from=%d code=%s\n", signame(m.sig), m.code == SI_KERNEL ? 0 : m.pid, code);
        fflush(stdout);
        got++;
    }
}

static int cmd_pause(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < 32; s++)
        signal(s, SIG_DFL);
    printf("ready %d %d\n", (int)getpid(), (int)getppid());
    fflush(stdout);
    for (;;)
        pause();
    return 0;
}

static int exec_rest(char **argv) {
    execvp(argv[0], argv);
    fprintf(stderr, "process_cases: %s: %s\n", argv[0], strerror(errno));
    return 127;
}

static int cmd_as_nobody(char **argv) {
    setgroups(0, NULL); /* fails harmlessly when already unprivileged */
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
        return perror("process_cases: setresuid(65534)"), 98;
    return exec_rest(argv);
}

static int cmd_deny_close_range(char **argv) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        /* Without CAP_SYS_ADMIN the kernel wants no_new_privs first. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
            return perror("process_cases: seccomp"), 98;
    }
    return exec_rest(argv);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && !strcmp(argv[1], "signals"))
        return cmd_signals(atoi(argv[2]));
    if (argc == 2 && !strcmp(argv[1], "pause"))
        return cmd_pause();
    if (argc >= 3 && !strcmp(argv[1], "as_nobody"))
        return cmd_as_nobody(argv + 2);
    if (argc >= 3 && !strcmp(argv[1], "deny_close_range"))
        return cmd_deny_close_range(argv + 2);
    fprintf(stderr, "usage: process_cases signals N | pause | as_nobody PROG... | "
                    "deny_close_range PROG...\n");
    return 2;
}
