/*
 * policy_race.c - policy_cases race and race-legacy: a second thread flips a
 * forbidden value in the struct while the call reads it (cooperative mode
 * cannot win that race; strict mode never lets it start), and legacy calls
 * whose flags travel in registers.
 */
#include "policy_cases.h"

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

double parse_secs(const char *s) {
    char *end;
    double d = strtod(s, &end);
    if (*end || !(d > 0) || d > 86400) {
        fprintf(stderr, "policy_cases: bad SECONDS '%s'\n", s);
        exit(2);
    }
    return d;
}

int cmd_race(double secs, const char *what) {
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
int cmd_race_legacy(double secs) {
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
