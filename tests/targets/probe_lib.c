/*
 * probe_lib.c - probe_cases_lib's commands (issue 19): the acceptance cases
 * through libextsys's extsys_check_fields() instead of the raw syscall, as
 * transcripts the integration test compares across runs (lib_test.cpp).
 *
 *   probe_cases_lib transcript raw|lib|lib-nodisc|lib-disc
 *       one line per probe case of the table (the size with CHECK_FIELDS, the
 *       checked argument 0): "NAME RESULT BYTES [src=SOURCE]", RESULT "ok"
 *       (raw: -1 with the probe errno; lib: 0) or the errno's name, BYTES
 *       the case's whole mapped region in hex after the call.
 *   probe_cases_lib transcript lib-novmw
 *       lib under a seccomp filter that fails process_vm_writev with EPERM
 *       (Docker's profile without CAP_SYS_PTRACE): the library's other way
 *       of writing without a fault signal.
 *   probe_cases_lib lib_threads N
 *       N threads call the library at once (the BASIC probes, ten rounds)
 *       and compare their bytes; prints "lookups=K mismatches=M", K the
 *       uname(2) calls made meanwhile (discovery's cache key and release:
 *       the same for 1 and for N threads when it runs once).
 *   probe_cases_lib lib_fork_during
 *       a thread makes the first call while the main thread forks: the
 *       child's own call must answer (not wait for a discovery that runs
 *       only in the parent). Prints "overlap=0|1 child=ok|...".
 *   probe_cases_lib lib_hygiene
 *       one library call (the first), then what it left: prints "fds=same
 *       sigactions=same children=none maps=same" or what differs.
 */
#include "probe_cases.h"

#include <extsys/check_fields.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

static const long NR[SC_N] = {SYS_openat2, SYS_clone3, SYS_mount_setattr, SYS_open_tree_attr,
                              SYS_setxattrat, SYS_getxattrat, SYS_file_getattr, SYS_file_setattr,
                              SYS_landlock_create_ruleset};

#ifndef EXTSYS_LIB_STATIC
/* Counts uname(2) calls: the library's discovery makes one or two per
 * lookup. The executable's definition takes the place of libc's for
 * libextsys.so too. */
static atomic_int g_unames;
int uname(struct utsname *u) {
    atomic_fetch_add(&g_unames, 1);
    return (int)syscall(SYS_uname, u);
}
#endif

static void hex(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

/* One case through the raw syscall or the library; its transcript line. */
static void transcript_one(const char *name, const struct spec *s, const char *how) {
    struct pctx c;
    if (prepare(&c, s) != 0) {
        printf("%s prepare-failed\n", name);
        release(&c);
        return;
    }
    void *ptr = s->fault == F_NULL ? NULL : c.ptr;
    int src = -1, err = 0;
    long ret;
    errno = 0;
    if (!strcmp(how, "raw")) {
        ret = do_call(s, ptr);
        err = errno;
        if (ret == -1 && err == g_noop)
            ret = 0;
    } else {
        unsigned fl = !strcmp(how, "lib-nodisc") ? EXTSYS_CF_NO_DISCOVERY
                      : !strcmp(how, "lib-disc") ? EXTSYS_CF_DISCOVERY_ONLY : 0;
        ret = extsys_check_fields_ex(NR[s->sc], ptr, (size_t)s->size, fl, &src);
        err = errno;
    }
    printf("%s %s ", name, ret == 0 ? "ok" : ename(err));
    if (c.map) {
        hex(c.map, c.vlen); /* [0, vlen) is readable in every layout */
    } else {
        printf("-");
    }
    if (src >= 0)
        printf(" src=%s", extsys_source_name(src));
    printf("\n");
    release(&c);
}

static int deny_process_vm_writev(void) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_writev, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int cmd_transcript(int n, const char *const *names, const struct spec *const *specs,
                   const char *how) {
    if (!strcmp(how, "lib-novmw")) {
        if (deny_process_vm_writev() != 0)
            return perror("seccomp"), 1;
        how = "lib";
    }
    if (strcmp(how, "raw") && strcmp(how, "lib") && strcmp(how, "lib-nodisc") && strcmp(how, "lib-disc"))
        return fprintf(stderr, "transcript raw|lib|lib-nodisc|lib-disc\n"), 2;
    for (int i = 0; i < n; i++) {
        const struct spec *s = specs[i];
        if (!(s->size & CF) || s->mflags != 0)
            continue; /* not a probe, or an argument the library does not take */
        transcript_one(names[i], s, how);
    }
    return 0;
}

/* ---- many threads at once ---- */
static pthread_barrier_t g_bar;
static atomic_int g_mismatch;

struct tres {
    uint8_t b[SC_N][128];
    int r[SC_N];
};
static void *worker2(void *arg) {
    struct tres *t = arg;
    pthread_barrier_wait(&g_bar);
    for (int round = 0; round < 10; round++)
        for (int sc = 0; sc < SC_N; sc++) {
            uint8_t b[128];
            memset(b, 0xee, sizeof b);
            int r = extsys_check_fields(NR[sc], b, g_ksize[sc] ? g_ksize[sc] + 8 : 64, 0);
            r = r == 0 ? 0 : errno;
            if (round == 0) {
                memcpy(t->b[sc], b, sizeof b);
                t->r[sc] = r;
            } else if (r != t->r[sc] || memcmp(b, t->b[sc], sizeof b) != 0) {
                atomic_fetch_add(&g_mismatch, 1);
            }
        }
    return NULL;
}

int cmd_lib_threads(int n) {
    if (n < 1 || n > 256)
        return fprintf(stderr, "lib_threads N: 1..256\n"), 2;
    static struct tres res[256];
    pthread_t th[256];
    pthread_barrier_init(&g_bar, NULL, (unsigned)n);
#ifndef EXTSYS_LIB_STATIC
    const int before = atomic_load(&g_unames);
#endif
    for (int i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, worker2, &res[i]) != 0)
            return perror("pthread_create"), 1;
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    for (int i = 1; i < n; i++)
        if (memcmp(&res[i], &res[0], sizeof res[0]) != 0)
            atomic_fetch_add(&g_mismatch, 1);
    int answered = 0;
    for (int sc = 0; sc < SC_N; sc++)
        answered += res[0].r[sc] == 0;
#ifndef EXTSYS_LIB_STATIC
    printf("lookups=%d ", atomic_load(&g_unames) - before);
#endif
    printf("answered=%d mismatches=%d\n", answered, atomic_load(&g_mismatch));
    return 0;
}

/* ---- fork while another thread discovers ---- */
static atomic_int g_started, g_done;
static void *first_call(void *arg) {
    (void)arg;
    uint8_t b[128];
    atomic_store(&g_started, 1);
    extsys_check_fields(SYS_clone3, b, 88, 0);
    atomic_store(&g_done, 1);
    return NULL;
}

int cmd_lib_fork_during(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, first_call, NULL) != 0)
        return perror("pthread_create"), 1;
    while (!atomic_load(&g_started))
        ;
    pid_t p = fork();
    const int overlap = !atomic_load(&g_done);
    if (p == 0) {
        alarm(20);
        uint8_t b[128];
        _exit(extsys_check_fields(SYS_clone3, b, 88, 0) == 0 ? 0 : 3);
    }
    int st = 0;
    waitpid(p, &st, 0);
    pthread_join(t, NULL);
    printf("overlap=%d child=%s\n", overlap,
           WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok"
           : WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ? "hung" : "failed");
    return 0;
}

/* ---- what the first call leaves behind ---- */
static char *slurp(const char *path) {
    static char buf[4][1 << 16];
    static int k;
    char *b = buf[k++ % 4];
    FILE *f = fopen(path, "re");
    size_t n = f ? fread(b, 1, sizeof buf[0] - 1, f) : 0;
    if (f)
        fclose(f);
    b[n] = 0;
    return b;
}
/* The mappings that are not the heap (which malloc may grow), one per line. */
static void maps_without_heap(char *out, size_t cap) {
    char *m = slurp("/proc/self/maps");
    size_t o = 0;
    for (char *line = strtok(m, "\n"); line; line = strtok(NULL, "\n")) {
        if (strstr(line, "[heap]"))
            continue;
        o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s\n", line);
    }
}
static void fd_list(char *out, size_t cap) {
    DIR *d = opendir("/proc/self/fd");
    size_t o = 0;
    int self = d ? dirfd(d) : -1;
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.' && atoi(e->d_name) != self)
            o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s ", e->d_name);
    if (d)
        closedir(d);
}

int cmd_lib_hygiene(void) {
    static char maps0[1 << 16], maps1[1 << 16], fd0[4096], fd1[4096];
    struct sigaction sa0[65], sa1[65];
    sigset_t mask0, mask1;
    memset(sa0, 0, sizeof sa0); /* glibc's own signals (32, 33) cannot be read */
    memset(sa1, 0, sizeof sa1);
    for (int s = 1; s < 65; s++)
        sigaction(s, NULL, &sa0[s]);
    sigprocmask(SIG_BLOCK, NULL, &mask0);
    fd_list(fd0, sizeof fd0);
    maps_without_heap(maps0, sizeof maps0);
    uint8_t b[128];
    int r = extsys_check_fields(SYS_clone3, b, 88, 0);
    maps_without_heap(maps1, sizeof maps1);
    fd_list(fd1, sizeof fd1);
    for (int s = 1; s < 65; s++)
        sigaction(s, NULL, &sa1[s]);
    sigprocmask(SIG_BLOCK, NULL, &mask1);
    int sig_same = 1;
    for (int s = 1; s < 65; s++)
        if (sa0[s].sa_handler != sa1[s].sa_handler || sa0[s].sa_flags != sa1[s].sa_flags)
            sig_same = 0;
    if (memcmp(&mask0, &mask1, sizeof mask0) != 0)
        sig_same = 0;
    int child = waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
    printf("call=%s fds=%s sigactions=%s children=%s maps=%s\n", r == 0 ? "ok" : ename(errno),
           strcmp(fd0, fd1) ? "changed" : "same", sig_same ? "same" : "changed",
           child ? "none" : "left", strcmp(maps0, maps1) ? "changed" : "same");
    if (strcmp(maps0, maps1))
        fprintf(stderr, "before:\n%s\nafter:\n%s\n", maps0, maps1);
    if (strcmp(fd0, fd1))
        fprintf(stderr, "fds before: %s\nafter: %s\n", fd0, fd1);
    return 0;
}
