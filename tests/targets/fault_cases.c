/* SPDX-License-Identifier: MIT
 * fault_cases.c - programs that do hostile things under `extsys run`: probe
 * while killed, exec'd, signalled, unmapped; stress with many threads and
 * process storms. Every probe answer is checked byte for byte against the
 * first answer the program received (the reference).
 *
 *   fault_cases block_probes N GOFILE      N threads probe once GOFILE exists
 *   fault_cases fork_kill_storm SECONDS    children probe, are killed or exit
 *   fault_cases exec_storm SECONDS         threads probe while main execs
 *   fault_cases signal_storm SECONDS 0|1   probes under signals (SA_RESTART?)
 *   fault_cases unmap_storm SECONDS        buffer unmapped/protected meanwhile
 *   fault_cases own_listener               try to install a second listener
 *   fault_cases stress THREADS PROBES      threads x probes + fork/exec storm
 *   fault_cases verify_once                probe three times, compare, exit
 * Exit 0 when every answer was right, 1 otherwise, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CF (1ULL << 63)
#define BUF 160 /* > every struct: tail zeroing is exercised too */

enum { OPENAT2, CLONE3, MOUNT_SETATTR, NSYS };
static const char *names[NSYS] = {"openat2", "clone3", "mount_setattr"};

static int probe_errno(void) {
    const char *e = getenv("EXTSYS_PROBE_ERRNO");
    return e ? atoi(e) : 134;
}

/* One probe of syscall s into buf (BUF bytes); returns errno (0 = success). */
static int probe(int s, unsigned char *buf) {
    long rc;
    switch (s) {
    case OPENAT2:
        rc = syscall(SYS_openat2, AT_FDCWD, ".", buf, CF | BUF);
        break;
    case CLONE3:
        rc = syscall(SYS_clone3, buf, CF | BUF);
        break;
    default:
        rc = syscall(SYS_mount_setattr, -1, "", 0, buf, CF | BUF);
        break;
    }
    if (rc == 0 && s == CLONE3)
        _exit(99); /* a child was really created: never expected */
    if (rc >= 0) {
        if (s == OPENAT2)
            close((int)rc);
        return 0;
    }
    return errno;
}

static unsigned char reference[NSYS][BUF];

/* Probes each syscall once on a poisoned buffer and keeps the answer. */
static int take_reference(void) {
    for (int s = 0; s < NSYS; s++) {
        memset(reference[s], 0xA5, BUF);
        int e = probe(s, reference[s]);
        if (e != probe_errno()) {
            fprintf(stderr, "reference %s: errno %d, expected %d\n", names[s], e, probe_errno());
            return -1;
        }
    }
    return 0;
}

/* A probe whose result must be the reference answer; 0 ok, 1 wrong. */
static int checked_probe(int s, int allow_eintr, int allow_efault) {
    unsigned char buf[BUF];
    memset(buf, 0xA5, BUF);
    int e = probe(s, buf);
    if (e == probe_errno())
        return memcmp(buf, reference[s], BUF) != 0;
    unsigned char poison[BUF];
    memset(poison, 0xA5, BUF);
    if (e == EINTR && allow_eintr)
        return memcmp(buf, poison, BUF) != 0; /* interrupted: nothing written */
    if (e == EFAULT && allow_efault)
        return 0;
    fprintf(stderr, "%s: unexpected errno %d (%s)\n", names[s], e, strerror(e));
    return 1;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- block_probes: threads probe once GOFILE exists ---------------------- */

static const char *g_gofile;
static atomic_int g_noop, g_enosys, g_other;
static double g_max_wait;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static void *block_thread(void *arg) {
    (void)arg;
    while (access(g_gofile, F_OK) != 0)
        usleep(1000);
    unsigned char buf[BUF];
    memset(buf, 0, BUF);
    double t = now();
    int e = probe(CLONE3, buf);
    double waited = now() - t;
    if (e == probe_errno())
        g_noop++;
    else if (e == ENOSYS)
        g_enosys++;
    else
        g_other++;
    pthread_mutex_lock(&g_lock);
    if (waited > g_max_wait)
        g_max_wait = waited;
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

static int cmd_block_probes(int n, const char *gofile) {
    g_gofile = gofile;
    char ready[4096];
    snprintf(ready, sizeof ready, "%s.ready", gofile); /* reference taken */
    close(open(ready, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    pthread_t th[256];
    if (n > 256)
        n = 256;
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, block_thread, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    /* After the supervisor is gone, later probes fail at once, and ordinary
     * calls are unaffected. */
    unsigned char buf[BUF];
    double t = now();
    int later = probe(OPENAT2, buf);
    double later_s = now() - t;
    int fd = openat(AT_FDCWD, ".", O_RDONLY | O_DIRECTORY);
    printf("block_probes noop=%d enosys=%d other=%d max_wait_ms=%.0f later_probe=%s "
           "later_ms=%.3f ordinary_open=%s\n",
           g_noop, g_enosys, g_other, g_max_wait * 1000, later == ENOSYS ? "ENOSYS" : strerror(later),
           later_s * 1000, fd >= 0 ? "ok" : strerror(errno));
    return g_other == 0 && fd >= 0 ? 0 : 1;
}

/* ---- storms --------------------------------------------------------------- */

static atomic_int g_stop, g_wrong, g_done;

static void *prober(void *arg) {
    int flags = (int)(intptr_t)arg;
    for (int i = 0; !g_stop; i++) {
        if (checked_probe(i % NSYS, flags & 1, flags & 2))
            g_wrong++;
        g_done++;
    }
    return NULL;
}

/* A child that probes from 4 threads until it is killed or leaves. */
static void child_probing(int how) {
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, prober, NULL);
    usleep((useconds_t)(rand() % 3000));
    if (how == 0)
        _exit(g_wrong ? 1 : 0); /* exit_group while threads are mid-probe */
    for (;;)
        pause(); /* killed by the parent */
}

static int cmd_fork_kill_storm(double secs) {
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, prober, NULL);
    int children = 0, bad_children = 0;
    double end = now() + secs;
    while (now() < end) {
        int how = children % 2;
        pid_t c = fork();
        if (c == 0)
            child_probing(how);
        if (how == 1) {
            usleep((useconds_t)(rand() % 3000));
            kill(c, SIGKILL);
        }
        int st;
        waitpid(c, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
            bad_children++;
        children++;
    }
    g_stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    printf("fork_kill_storm children=%d parent_probes=%d wrong=%d bad_children=%d\n", children,
           g_done, g_wrong, bad_children);
    return g_wrong == 0 && bad_children == 0 ? 0 : 1;
}

static int cmd_verify_once(void) {
    int wrong = 0;
    for (int round = 0; round < 3; round++)
        for (int s = 0; s < NSYS; s++)
            wrong += checked_probe(s, 0, 0);
    return wrong ? 1 : 0;
}

static int cmd_exec_storm(double secs, const char *self) {
    int execs = 0, failures = 0;
    double end = now() + secs;
    while (now() < end) {
        pid_t c = fork();
        if (c == 0) {
            pthread_t th[4];
            for (int i = 0; i < 4; i++)
                pthread_create(&th[i], NULL, prober, NULL);
            usleep((useconds_t)(rand() % 2000));
            /* de_thread() kills the probing threads mid-notification. */
            execl(self, "fault_cases", "verify_once", (char *)NULL);
            _exit(3);
        }
        int st;
        waitpid(c, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failures++;
        execs++;
    }
    printf("exec_storm execs=%d failures=%d\n", execs, failures);
    return failures == 0 ? 0 : 1;
}

static void on_signal(int sig) { (void)sig; }

static int cmd_signal_storm(double secs, int restart) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, prober, (void *)(intptr_t)(restart ? 0 : 1));
    long sent = 0;
    double end = now() + secs;
    while (now() < end) {
        for (int i = 0; i < 4; i++) {
            pthread_kill(th[i], SIGUSR1);
            sent++;
        }
        usleep(50);
    }
    g_stop = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    printf("signal_storm restart=%d signals=%ld probes=%d wrong=%d\n", restart, sent, g_done, g_wrong);
    return g_wrong == 0 ? 0 : 1;
}

static unsigned char *g_page;
static size_t g_pagesize;

static void *unmapper(void *arg) {
    (void)arg;
    for (int i = 0; !g_stop; i++) {
        if (i % 2)
            mprotect(g_page, g_pagesize, PROT_READ);
        else
            munmap(g_page, g_pagesize);
        usleep(20);
        mmap(g_page, g_pagesize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
             -1, 0);
        usleep(20);
    }
    return NULL;
}

static int cmd_unmap_storm(double secs) {
    g_pagesize = (size_t)sysconf(_SC_PAGESIZE);
    g_page = mmap(NULL, g_pagesize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    pthread_t th;
    pthread_create(&th, NULL, unmapper, NULL);
    long noop = 0, efault = 0, other = 0, segv_free = 0;
    double end = now() + secs;
    while (now() < end) {
        int e = probe(CLONE3, g_page); /* the kernel or extsys writes; we never touch it */
        if (e == probe_errno())
            noop++;
        else if (e == EFAULT)
            efault++;
        else
            other++, fprintf(stderr, "unmap_storm: errno %d\n", e);
        segv_free++;
    }
    g_stop = 1;
    pthread_join(th, NULL);
    int after = checked_probe(OPENAT2, 0, 0);
    printf("unmap_storm probes=%ld noop=%ld efault=%ld other=%ld answered_after=%s\n", segv_free,
           noop, efault, other, after ? "WRONG" : "ok");
    return other == 0 && after == 0 ? 0 : 1;
}

static int cmd_own_listener(void) {
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {1, &allow};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    int listener_errno = fd < 0 ? errno : 0;
    long plain = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    int answered = !checked_probe(CLONE3, 0, 0);
    printf("own_listener new_listener=%s plain_filter=%s probes_still_answered=%s\n",
           fd < 0 ? strerrorname_np(listener_errno) : "ok", plain == 0 ? "ok" : strerrorname_np(errno),
           answered ? "yes" : "no");
    return 0;
}

static void *forker(void *arg) {
    const char *self = arg;
    while (!g_stop) {
        pid_t c = fork();
        if (c == 0) {
            if (rand() % 2)
                execl(self, "fault_cases", "verify_once", (char *)NULL);
            _exit(checked_probe(rand() % NSYS, 0, 0));
        }
        int st;
        waitpid(c, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            g_wrong++;
    }
    return NULL;
}

static int g_per_thread;

static void *stress_thread(void *arg) {
    int seed = (int)(intptr_t)arg;
    for (int i = 0; i < g_per_thread; i++) {
        if (checked_probe((i + seed) % NSYS, 0, 0))
            g_wrong++;
        g_done++;
    }
    return NULL;
}

static int cmd_stress(int threads, int per_thread, const char *self) {
    g_per_thread = per_thread;
    pthread_t forkers[2], th[256];
    if (threads > 256)
        threads = 256;
    double t0 = now();
    for (int i = 0; i < 2; i++)
        pthread_create(&forkers[i], NULL, forker, (void *)self);
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, stress_thread, (void *)(intptr_t)i);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    g_stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(forkers[i], NULL);
    printf("stress threads=%d probes=%d wrong=%d seconds=%.2f\n", threads, g_done, g_wrong, now() - t0);
    return g_wrong == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 2)
        goto usage;
    srand((unsigned)getpid());
    if (take_reference() != 0)
        return 1;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "verify_once"))
        return cmd_verify_once();
    if (!strcmp(cmd, "own_listener"))
        return cmd_own_listener();
    if (!strcmp(cmd, "block_probes") && argc == 4)
        return cmd_block_probes(atoi(argv[2]), argv[3]);
    if (!strcmp(cmd, "fork_kill_storm") && argc == 3)
        return cmd_fork_kill_storm(atof(argv[2]));
    if (!strcmp(cmd, "exec_storm") && argc == 3)
        return cmd_exec_storm(atof(argv[2]), "/proc/self/exe");
    if (!strcmp(cmd, "signal_storm") && argc == 4)
        return cmd_signal_storm(atof(argv[2]), atoi(argv[3]));
    if (!strcmp(cmd, "unmap_storm") && argc == 3)
        return cmd_unmap_storm(atof(argv[2]));
    if (!strcmp(cmd, "stress") && argc == 4)
        return cmd_stress(atoi(argv[2]), atoi(argv[3]), "/proc/self/exe");
usage:
    fprintf(stderr, "usage: see the comment at the top of fault_cases.c\n");
    return 2;
}
