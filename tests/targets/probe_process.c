/*
 * probe_process.c - the probe_cases that are functions: probes from a forked
 * child and grandchild, a vfork child, an exec chain, a thread in a child, an
 * unprivileged child, and 16 threads probing at once.
 */
#include "probe_cases.h"

int wait_child(pid_t p, const char *what) {
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

int in_child(int (*fn)(void), const char *what) {
    fflush(NULL);
    pid_t p = fork();
    if (p == 0)
        _exit(fn() ? 1 : 0);
    return wait_child(p, what);
}

static int fn_basic(void) { return basic_all("child"); }
static int fn_grandchild(void) { return in_child(fn_basic, "grandchild"); }
static void *thr_basic(void *a) { return (void *)(intptr_t)basic_all((const char *)a); }
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
    return basic_all("uid65534");
}

int c_fork_child(void) { return in_child(fn_basic, "fork child"); }
int c_fork_grandchild(void) { return in_child(fn_grandchild, "fork child"); }
int c_child_thread(void) { return in_child(fn_thread, "child with thread"); }
int c_unpriv(void) { return in_child(fn_unpriv, "unprivileged child"); }

static int vfork_one(const struct spec *s, struct pctx *c) {
    pid_t p = vfork();
    if (p == 0) {
        long r = do_call(s, c->ptr);
        _exit(r == -1 ? (errno & 0xff) : 255);
    }
    return p;
}
int c_vfork(void) {
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

int c_exec_chain(void) {
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
        return basic_all("exec-level-2") ? FAIL : PASS;
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
    static const uint64_t sizes[SC_N][3] = {{24, 25, 40}, {64, 88, 100}, {32, 33, 56},
                                            {32, 33, 56}, {16, 17, 40}, {16, 20, 32},
                                            {24, 25, 48}, {24, 31, 40}, {8, 20, 48}};
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
int c_concurrency(void) {
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
