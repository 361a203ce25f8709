/*
 * probe_cases.c - test target for extsys: CHECK_FIELDS probes of openat2, clone3,
 * mount_setattr, open_tree_attr, setxattrat, getxattrat, file_getattr, file_setattr and
 * landlock_create_ruleset, verified byte for byte against the RFC v3 semantics
 * (src/kernel/abi/CHECK_FIELDS.md) with expected values from a kernel-version
 * oracle (src/kernel/features/VERSIONS.md, 'What a probe is answered, by version').
 *
 *   probe_cases list                 every pass/fail case name, one per line
 *   probe_cases run NAME...          exit 0 all passed, 1 a failure, 77 all skipped, 2 usage
 *   probe_cases ordinary_calls       transcript of ordinary (non-probe) calls, exit 0
 *   probe_cases fd_report            sorted open fds on one line, exit 0
 *   probe_cases exit_code N          exit with status N
 *   probe_cases errno_of NAME...     call bpf or perf_event_open with NULL arguments and
 *                                    print "NAME errno=N" (the kernel: EFAULT/EINVAL; a
 *                                    seccomp profile denying it: its errnoRet), exit 0
 *   probe_cases kill_self SIG        raise SIG (number or name) with SIG_DFL
 *   probe_cases daemon_probe FILE    detach, probe after 300 ms, write "ok\n"/"fail: ..\n"
 *   probe_cases orphan_probe FILE    print "ppid N"; a grandchild whose parent exits at once
 *                                    waits to be re-parented, probes, and writes
 *                                    "ok ppid=N\n" or "fail ppid=N: ..\n" (N: its new parent)
 *
 * Environment: EXTSYS_EXPECT=emulated|native, EXTSYS_PROBE_ERRNO (134), and the oracle
 * overrides EXTSYS_EXPECT_OPEN_FLAGS, _RESOLVE, _CLONE_FLAGS, _CLONE_SIZE, _MOUNT_ATTRS.
 */
#include "probe_cases.h"

/* ---- the case table ---- */
struct tcase {
    const char *name;
    struct spec s;
    int (*fn)(void);
    unsigned mask;
};
#define MAX_CASES 400
static struct tcase T[MAX_CASES];
static int NT;
#define SP(...) ((struct spec){__VA_ARGS__})
static void add(const char *name, struct spec s) {
    T[NT++] = (struct tcase){.name = name, .s = s, .mask = 1u << s.sc};
}
static void addf(const char *name, int (*fn)(void)) {
    T[NT++] = (struct tcase){.name = name, .fn = fn, .mask = ALL_SC};
}

/* m) the newer extensible-struct syscalls (open_tree_attr, *xattrat,
 * file_*attr, landlock_create_ruleset): the same RFC-style cases, and their
 * arguments checked before the size (src/kernel/abi/CHECK_FIELDS.md). */
static char nname[SC_N][24][56];
static int nk;                                      /* the next free name of the syscall */
static const char *nn(int sc, const char *what) {
    if (nk >= 24)
        abort();
    snprintf(nname[sc][nk], sizeof nname[sc][0], "%s_cf_%s", SCN[sc], what);
    return nname[sc][nk++];
}
static void init_newer_cases(void) {
    static const int newer[] = {SC_OTA, SC_SETX, SC_GETX, SC_FGET, SC_FSET, SC_LL};
    const size_t P = g_page;
    const int G = FILL_GARBAGE, AB = FILL_AB;
    for (size_t i = 0; i < sizeof newer / sizeof newer[0]; i++) {
        const int sc = newer[i];
        const size_t ks = g_ksize[sc], v0 = sc == SC_LL ? 8 : ks;
        nk = 0;
        add(nn(sc, "ver0"), SP(.sc = sc, .size = CF | v0, .buflen = v0, .post_zero = 16, .fill = AB));
        add(nn(sc, "ksize"), SP(.sc = sc, .size = CF | ks, .buflen = ks, .fill = G));
        add(nn(sc, "larger"), SP(.sc = sc, .size = CF | (ks + 40), .buflen = ks + 40, .fill = G));
        add(nn(sc, "size_0"), SP(.sc = sc, .size = CF, .buflen = 32, .fill = G));
        add(nn(sc, "below_ver0"), SP(.sc = sc, .size = CF | (v0 - 1), .buflen = v0, .fill = G));
        add(nn(sc, "size_page"), SP(.sc = sc, .size = CF | P, .buflen = P, .fill = G));
        add(nn(sc, "size_page_plus1"), SP(.sc = sc, .size = CF | (P + 1), .buflen = P + 1, .fill = G));
        add(nn(sc, "size_16pages"), SP(.sc = sc, .size = CF | 16 * P, .buflen = 64, .fill = AB));
        add(nn(sc, "highbit"), SP(.sc = sc, .size = CF | 1ULL << 40 | ks, .buflen = ks, .fill = G));
        add(nn(sc, "misalign_1"), SP(.sc = sc, .size = CF | (ks + 8), .buflen = ks + 8, .mis = 1, .fill = G));
        add(nn(sc, "misalign_7"), SP(.sc = sc, .size = CF | (ks + 3), .buflen = ks + 3, .mis = 7, .fill = G));
        add(nn(sc, "misalign_87"), SP(.sc = sc, .size = CF | (ks + 1), .buflen = ks + 1, .mis = 87, .fill = G));
        add(nn(sc, "ignore_dfd_9999_path_bad"), SP(.sc = sc, .size = CF | ks, .args = 1, .dfd = 9999,
                                                  .path = (const char *)1, .buflen = ks, .fill = G));
    }
    const int o = SC_OTA, l = SC_LL, G2 = FILL_GARBAGE;
    nk = 13;
    /* open_tree_attr: uattr NULL, then the flags, then the size */
    add(nn(o, "badflag"), SP(.sc = o, .size = CF | 32, .mflags = 0x4, .buflen = 32, .fill = G2));
    add(nn(o, "badflag_toobig"), SP(.sc = o, .size = CF | (P + 1), .mflags = 0x4, .buflen = 32, .fill = G2));
    add(nn(o, "badflag_size0"), SP(.sc = o, .size = CF, .mflags = 0x4, .buflen = 32, .fill = G2));
    add(nn(o, "recursive_noclone"), SP(.sc = o, .size = CF | 32, .mflags = OT_RECURSIVE, .buflen = 32, .fill = G2));
    add(nn(o, "clone_namespace"), SP(.sc = o, .size = CF | 32, .mflags = OT_CLONE | OT_NAMESPACE, .buflen = 32, .fill = G2));
    add(nn(o, "flags_ok"), SP(.sc = o, .size = CF | 32, .mflags = 0x88901, .buflen = 32, .fill = G2));
    add(nn(o, "flags_high32"), SP(.sc = o, .size = CF | 32, .mflags = 1ULL << 32 | 0x80000, .buflen = 32, .fill = G2));
    add(nn(o, "null_badflag"), SP(.sc = o, .size = CF | 32, .mflags = 0x4, .fault = F_NULL));
    /* file_*attr and *xattrat: at_flags before the size, or after the struct copy */
    for (int sc = SC_SETX; sc <= SC_FSET; sc++) {
        nk = 13;
        add(nn(sc, "atflags_bad"), SP(.sc = sc, .size = CF | 24, .mflags = 0x2, .buflen = 24, .fill = G2));
        add(nn(sc, "atflags_bad_toobig"), SP(.sc = sc, .size = CF | (P + 1), .mflags = 0x2, .buflen = 24, .fill = G2));
        add(nn(sc, "atflags_bad_size0"), SP(.sc = sc, .size = CF, .mflags = 0x2, .buflen = 24, .fill = G2));
        add(nn(sc, "atflags_ok"), SP(.sc = sc, .size = CF | 24, .mflags = AT_FLAGS_OK, .buflen = 24, .fill = G2));
        add(nn(sc, "atflags_high32"), SP(.sc = sc, .size = CF | 24, .mflags = 1ULL << 32, .buflen = 24, .fill = G2));
    }
    /* landlock_create_ruleset: flags, attr NULL, then the size; cut answers */
    nk = 13;
    add(nn(l, "flags_version"), SP(.sc = l, .size = CF | 24, .mflags = 1, .buflen = 24, .fill = G2));
    add(nn(l, "flags_version_null"), SP(.sc = l, .size = CF | 24, .mflags = 1, .fault = F_NULL));
    add(nn(l, "flags_high32"), SP(.sc = l, .size = CF | 24, .mflags = 1ULL << 32, .buflen = 24, .fill = G2));
    add(nn(l, "null_toobig"), SP(.sc = l, .size = CF | (P + 1), .fault = F_NULL));
    add(nn(l, "size_12"), SP(.sc = l, .size = CF | 12, .buflen = 12, .post_zero = 16, .fill = AB));
    add(nn(l, "size_16"), SP(.sc = l, .size = CF | 16, .buflen = 16, .post_zero = 16, .fill = AB));
    add(nn(l, "size_23"), SP(.sc = l, .size = CF | 23, .buflen = 23, .post_zero = 16, .fill = AB));
}

static void init_cases(void) {
    static const int mis[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 17, 87};
    static char mname[13][40];
    const size_t P = g_page;
    const int o = SC_OPENAT2, c = SC_CLONE3, m = SC_MOUNT, G = FILL_GARBAGE, AB = FILL_AB;
    /* a) selftests 5a, 5b, 5d, 5e - stricter */
    for (int i = 0; i < 13; i++) {
        snprintf(mname[i], sizeof mname[i], "openat2_cf_misalign_%d", mis[i]);
        add(mname[i], SP(.sc = o, .size = CF | 296, .buflen = 296, .mis = (size_t)mis[i], .fill = G));
    }
    add("openat2_cf_size_0", SP(.sc = o, .size = CF, .args = 1, .dfd = AT_FDCWD, .path = "", .buflen = 24));
    add("openat2_cf_size_16pages", SP(.sc = o, .size = CF | 16 * P, .args = 1, .dfd = AT_FDCWD, .path = "", .buflen = 24));
    add("clone3_cf_v0", SP(.sc = c, .size = CF | 64, .buflen = 64, .post_zero = 16, .fill = AB));
    add("clone3_cf_v1", SP(.sc = c, .size = CF | 80, .buflen = 80, .post_zero = 16, .fill = AB));
    add("clone3_cf_v2", SP(.sc = c, .size = CF | 88, .buflen = 88, .post_zero = 16, .fill = AB));
    add("clone3_cf_short", SP(.sc = c, .size = CF | 1, .buflen = 1, .fill = AB));
    add("clone3_cf_long", SP(.sc = c, .size = CF | 16 * P, .buflen = 16 * P, .fill = AB));
    add("mount_setattr_cf_size_0", SP(.sc = m, .size = CF, .buflen = 56, .fill = AB));
    add("mount_setattr_cf_size_16pages", SP(.sc = m, .size = CF | 16 * P, .buflen = 56, .fill = AB));
    add("mount_setattr_cf_56", SP(.sc = m, .size = CF | 56, .buflen = 56, .fill = AB));
    /* b) odd sizes */
    add("openat2_cf_size_25", SP(.sc = o, .size = CF | 25, .buflen = 25, .fill = G));
    add("openat2_cf_size_page", SP(.sc = o, .size = CF | P, .buflen = P, .fill = G));
    add("clone3_cf_size_65", SP(.sc = c, .size = CF | 65, .buflen = 65, .fill = G));
    add("clone3_cf_size_80", SP(.sc = c, .size = CF | 80, .buflen = 80, .fill = G));
    add("clone3_cf_size_87", SP(.sc = c, .size = CF | 87, .buflen = 87, .fill = G));
    add("clone3_cf_size_88", SP(.sc = c, .size = CF | 88, .buflen = 88, .fill = G));
    add("clone3_cf_size_89", SP(.sc = c, .size = CF | 89, .buflen = 89, .fill = G));
    add("clone3_cf_size_200", SP(.sc = c, .size = CF | 200, .buflen = 200, .fill = G));
    add("mount_setattr_cf_size_33", SP(.sc = m, .size = CF | 33, .buflen = 33, .fill = G));
    /* c) size limits */
    add("openat2_cf_highbit", SP(.sc = o, .size = CF | 1ULL << 40 | 24, .buflen = 24, .fill = G));
    add("clone3_cf_highbit", SP(.sc = c, .size = CF | 1ULL << 40 | 64, .buflen = 64, .fill = G));
    add("mount_setattr_cf_highbit", SP(.sc = m, .size = CF | 1ULL << 40 | 32, .buflen = 32, .fill = G));
    add("openat2_cf_size_23", SP(.sc = o, .size = CF | 23, .buflen = 24, .fill = G));
    add("clone3_cf_size_63", SP(.sc = c, .size = CF | 63, .buflen = 64, .fill = G));
    add("mount_setattr_cf_size_31", SP(.sc = m, .size = CF | 31, .buflen = 32, .fill = G));
    add("clone3_cf_size_page", SP(.sc = c, .size = CF | P, .buflen = P, .fill = G));
    add("mount_setattr_cf_size_page", SP(.sc = m, .size = CF | P, .buflen = P, .fill = G));
    add("openat2_cf_size_page_plus1", SP(.sc = o, .size = CF | (P + 1), .buflen = P + 1, .fill = G));
    add("clone3_cf_size_page_plus1", SP(.sc = c, .size = CF | (P + 1), .buflen = P + 1, .fill = G));
    add("mount_setattr_cf_size_page_plus1", SP(.sc = m, .size = CF | (P + 1), .buflen = P + 1, .fill = G));
    /* d) mount_setattr flags argument */
    add("mount_setattr_cf_badflag", SP(.sc = m, .size = CF | 32, .mflags = 1, .buflen = 32, .fill = G));
    add("mount_setattr_cf_badflag_size0", SP(.sc = m, .size = CF, .mflags = 1, .buflen = 32, .fill = G));
    add("mount_setattr_cf_badflag_toobig", SP(.sc = m, .size = CF | (P + 1), .mflags = 1, .buflen = 32, .fill = G));
    add("mount_setattr_cf_flags_9900", SP(.sc = m, .size = CF | 32, .mflags = 0x9900, .buflen = 32, .fill = G));
    add("mount_setattr_cf_flags_high32", SP(.sc = m, .size = CF | 32, .mflags = 1ULL << 32, .buflen = 32, .fill = G));
    add("mount_setattr_cf_flags_high32_low1", SP(.sc = m, .size = CF | 32, .mflags = 1ULL << 32 | 1, .buflen = 32, .fill = G));
    /* e) arguments that must be ignored */
    add("openat2_cf_ignore_dfd_neg1_path_null", SP(.sc = o, .size = CF | 24, .args = 1, .dfd = -1, .path = NULL, .buflen = 24, .fill = G));
    add("openat2_cf_ignore_dfd_9999_path_bad", SP(.sc = o, .size = CF | 24, .args = 1, .dfd = 9999, .path = (const char *)1, .buflen = 24, .fill = G));
    add("openat2_cf_ignore_path_empty", SP(.sc = o, .size = CF | 24, .args = 1, .dfd = AT_FDCWD, .path = "", .buflen = 24, .fill = G));
    add("mount_setattr_cf_ignore_dfd_neg1_path_null", SP(.sc = m, .size = CF | 32, .args = 1, .dfd = -1, .path = NULL, .buflen = 32, .fill = G));
    add("mount_setattr_cf_ignore_dfd_9999_path_bad", SP(.sc = m, .size = CF | 32, .args = 1, .dfd = 9999, .path = (const char *)1, .buflen = 32, .fill = G));
    /* f) faults */
    static const char *fk[4] = {"null", "readonly", "tail", "head"};
    static char fname[SC_N][4][48];
    for (int sc = 0; sc < SC_N; sc++) {
        size_t ks = g_ksize[sc];
        for (int f = 0; f < 4; f++)
            snprintf(fname[sc][f], sizeof fname[sc][f], "%s_cf_fault_%s", SCN[sc], fk[f]);
        add(fname[sc][0], SP(.sc = sc, .size = CF | ks, .fault = F_NULL));
        add(fname[sc][1], SP(.sc = sc, .size = CF | (ks + 16), .buflen = ks + 16, .fill = G, .fault = F_RO));
        add(fname[sc][2], SP(.sc = sc, .size = CF | (ks + 16), .buflen = ks + 16, .fill = G, .fault = F_TAIL));
        add(fname[sc][3], SP(.sc = sc, .size = CF | ks, .buflen = ks, .fill = G, .fault = F_HEAD));
    }
    init_newer_cases();
    /* g), h), i) */
    addf("unpriv_probes", c_unpriv);
    addf("concurrency_16x2000", c_concurrency);
    addf("desc_fork_child", c_fork_child);
    addf("desc_fork_grandchild", c_fork_grandchild);
    addf("desc_vfork", c_vfork);
    addf("desc_exec_chain", c_exec_chain);
    addf("desc_child_thread", c_child_thread);
}

static int run_cases(int n, char **names) {
    int pass = 0, fail = 0, skip = 0;
    struct tcase *sel[MAX_CASES];
    for (int i = 0; i < n; i++) {
        sel[i] = NULL;
        for (int k = 0; k < NT; k++)
            if (!strcmp(T[k].name, names[i]))
                sel[i] = &T[k];
        if (!sel[i]) {
            fprintf(stderr, "probe_cases: unknown case '%s' (see 'probe_cases list')\n", names[i]);
            return 2;
        }
    }
    if (!O.oflags_known && !g_native)
        fprintf(stderr, "note: kernel %d.%d >= 7.2: openat2 flags mask unknown, only checking that it "
                "contains 0x%llx (set EXTSYS_EXPECT_OPEN_FLAGS for an exact comparison)\n",
                O.maj, O.min, (unsigned long long)X_VALID_OPEN_FLAGS);
    for (int i = 0; i < n; i++) {
        struct tcase *t = sel[i];
        unsigned avail = 0;
        for (int sc = 0; sc < SC_N; sc++)
            avail |= (unsigned)g_have[sc] << sc;
        int r;
        if (!(t->mask & avail)) {
            printf("SKIP %s: %s missing (ENOSYS)\n", t->name, t->fn ? "every syscall" : SCN[t->s.sc]);
            skip++;
            continue;
        }
        r = t->fn ? t->fn() : probe_verify(&t->s, t->name) ? FAIL : PASS;
        printf("%s %s\n", r == PASS ? "PASS" : r == SKIP ? "SKIP" : "FAIL", t->name);
        fflush(stdout);
        if (r == PASS)
            pass++;
        else if (r == SKIP)
            skip++;
        else
            fail++;
    }
    if (fail)
        fprintf(stderr, "expectations: mode=%s probe-errno=%d kernel=%d.%d open_flags=0x%llx%s "
                "resolve=0x%llx clone_flags=0x%llx clone_size=%zu mount_attrs=0x%llx page=%zu\n",
                g_native ? "native" : "emulated", g_noop, O.maj, O.min, (unsigned long long)O.oflags,
                O.oflags_known ? "" : "(unchecked)", (unsigned long long)O.resolve,
                (unsigned long long)O.cflags, O.cksize, (unsigned long long)O.mattrs, g_page);
    printf("summary: %d passed, %d failed, %d skipped\n", pass, fail, skip);
    return fail ? 1 : (skip == n ? SKIP : 0);
}

/* ---- j) ordinary (non-probe) calls: deterministic transcript ---- */
static void show(const char *desc, long r, int e) {
    if (r < 0)
        printf("%s = -1 %s\n", desc, ename(e));
    else
        printf("%s = %ld\n", desc, r);
}
static void o2(const char *desc, const char *path, uint64_t fl, uint64_t res, size_t size, int dirty) {
    uint8_t how[64] = {0};
    put64(how, 0, fl);
    put64(how, 16, res);
    if (dirty)
        how[24] = 1;
    errno = 0;
    long r = syscall(SYS_openat2, AT_FDCWD, path, how, (unsigned long)size);
    show(desc, r, errno);
    if (r >= 0)
        printf("close(fd) = %d\n", close((int)r));
}
static void c3(const char *desc, uint64_t flags, size_t size, int dirty) {
    uint8_t ca[128] = {0};
    int st;
    put64(ca, 0, flags);
    put64(ca, 32, SIGCHLD);
    if (dirty)
        ca[88] = 1;
    fflush(stdout);
    errno = 0;
    long r = syscall(SYS_clone3, ca, (unsigned long)size);
    if (r == 0)
        syscall(SYS_exit_group, 7);
    if (r < 0) {
        show(desc, r, errno);
        return;
    }
    printf("%s = <child pid>\n", desc);
    if (waitpid((pid_t)r, &st, 0) != r)
        printf("waitpid(child) = -1 %s\n", ename(errno));
    else if (WIFEXITED(st))
        printf("waitpid(child) = exited with status %d\n", WEXITSTATUS(st));
    else
        printf("waitpid(child) = killed by signal %d\n", WTERMSIG(st));
}
static void ms(const char *desc, const char *path, uint64_t attr_set) {
    uint64_t a[4] = {attr_set, 0, 0, 0};
    errno = 0;
    long r = syscall(SYS_mount_setattr, -1, path, 0, a, 32UL);
    show(desc, r, errno);
}
static int cmd_ordinary(void) {
    const uint64_t RD = 0;
    o2("openat2(AT_FDCWD, \".\", {flags=O_RDONLY|O_DIRECTORY}, 24)", ".", RD | X_O_DIRECTORY, 0, 24, 0);
    o2("openat2(AT_FDCWD, \".\", {flags=1<<40}, 24)", ".", 1ULL << 40, 0, 24, 0);
    o2("openat2(AT_FDCWD, \".\", {flags=0x4000000}, 24)", ".", 0x4000000, 0, 24, 0);
    o2("openat2(AT_FDCWD, \".\", {flags=O_RDONLY}, 23)", ".", RD, 0, 23, 0);
    o2("openat2(AT_FDCWD, \".\", {flags=O_RDONLY, byte 24 = 1}, 32)", ".", RD, 0, 32, 1);
    o2("openat2(AT_FDCWD, \".\", {flags=O_RDONLY, zeroed tail}, 32)", ".", RD, 0, 32, 0);
    o2("openat2(AT_FDCWD, \".\", {resolve=RESOLVE_BENEATH|RESOLVE_IN_ROOT}, 24)", ".", RD, RESOLVE_BENEATH | RESOLVE_IN_ROOT, 24, 0);
    o2("openat2(AT_FDCWD, \".\", {flags=O_CREAT|O_DIRECTORY}, 24)", ".", X_O_CREAT | X_O_DIRECTORY, 0, 24, 0);
    o2("openat2(AT_FDCWD, \"\", {flags=O_RDONLY}, 24)", "", RD, 0, 24, 0);
    c3("clone3({exit_signal=SIGCHLD}, 64)", 0, 64, 0);
    c3("clone3({flags=1<<50, exit_signal=SIGCHLD}, 64)", 1ULL << 50, 64, 0);
    c3("clone3({exit_signal=SIGCHLD, byte 88 = 1}, 96)", 0, 96, 1);
    ms("mount_setattr(-1, \"\", 0, {zeroed}, 32)", "", 0);
    ms("mount_setattr(-1, \"/nonexistent-extsys\", 0, {attr_set=MOUNT_ATTR_RDONLY}, 32)",
       "/nonexistent-extsys", MOUNT_ATTR_RDONLY);
    fflush(stdout);
    return 0;
}

/* ---- k) l) helpers for the driver ---- */
static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
static int cmd_fd_report(void) {
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int fds[4096], n = 0;
    if (!d)
        return perror("opendir /proc/self/fd"), 1;
    while ((de = readdir(d)) && n < 4096)
        if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
            fds[n++] = atoi(de->d_name);
    closedir(d);
    qsort(fds, (size_t)n, sizeof fds[0], cmp_int);
    for (int i = 0; i < n; i++)
        printf(i ? " %d" : "%d", fds[i]);
    printf("\n");
    return 0;
}

static int cmd_kill_self(const char *arg) {
    static const struct { const char *n; int s; } t[] = {
        {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ABRT", SIGABRT}, {"KILL", SIGKILL},
        {"SEGV", SIGSEGV}, {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}};
    int sig = atoi(arg);
    sigset_t set;
    if (!strncmp(arg, "SIG", 3))
        arg += 3;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(arg, t[i].n))
            sig = t[i].s;
    if (sig <= 0 || sig >= 65)
        return fprintf(stderr, "kill_self: bad signal '%s'\n", arg), 2;
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    fflush(NULL);
    raise(sig);
    fprintf(stderr, "kill_self: still alive after signal %d\n", sig);
    return 1;
}

static int cmd_daemon(const char *path) {
    char tmp[4096 + 32], msg[4200];
    fflush(NULL);
    pid_t p = fork();
    if (p < 0)
        return perror("fork"), 1;
    if (p > 0)
        return 0;                               /* the parent exits at once */
    setsid();
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
        dup2(nul, 0), dup2(nul, 1), dup2(nul, 2);
        if (nul > 2)
            close(nul);
    }
    struct timespec ts = {0, 300 * 1000 * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    g_capture = 1;
    int fails = basic_all("daemon");
    if (fails)
        snprintf(msg, sizeof msg, "fail: %.1500s\n", g_cap);
    else
        snprintf(msg, sizeof msg, "ok\n");
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        _exit(1);
    size_t len = strlen(msg);
    if (write(fd, msg, len) != (ssize_t)len || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0)
        _exit(1);
    _exit(0);
}

static int cmd_orphan(const char *path) {
    char tmp[4096 + 32], msg[4200];
    printf("ppid %d\n", (int)getppid());
    fflush(NULL);
    pid_t p = fork();
    if (p < 0)
        return perror("fork"), 1;
    if (p > 0)
        return wait_child(p, "orphan_probe middle") == PASS ? 0 : 1;
    const pid_t middle = getpid();
    if (fork() != 0)
        _exit(0); /* the middle process: the grandchild becomes an orphan */
    for (int i = 0; i < 500 && getppid() == middle; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
        dup2(nul, 0), dup2(nul, 1), dup2(nul, 2);
        if (nul > 2)
            close(nul);
    }
    g_capture = 1;
    int fails = basic_all("orphan");
    int ppid = (int)getppid();
    if (fails)
        snprintf(msg, sizeof msg, "fail ppid=%d: %.1500s\n", ppid, g_cap);
    else
        snprintf(msg, sizeof msg, "ok ppid=%d\n", ppid);
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        _exit(1);
    size_t len = strlen(msg);
    if (write(fd, msg, len) != (ssize_t)len || fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0)
        _exit(1);
    _exit(0);
}

/* The errno of a call a seccomp profile may deny, made with arguments the
 * kernel itself rejects without side effects. */
static int cmd_errno_of(int n, char **names) {
    for (int i = 0; i < n; i++) {
        long nr = !strcmp(names[i], "bpf") ? SYS_bpf
                  : !strcmp(names[i], "perf_event_open") ? SYS_perf_event_open : -1;
        if (nr < 0)
            return fprintf(stderr, "errno_of: unknown call %s\n", names[i]), 2;
        errno = 0;
        long rc = nr == SYS_bpf ? syscall(nr, 0L, 0L, 0L) : syscall(nr, 0L, 0L, -1L, -1L, 0L);
        printf("%s errno=%d\n", names[i], rc < 0 ? errno : 0);
    }
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: probe_cases list | run NAME... | ordinary_calls | fd_report |\n"
                    "       exit_code N | kill_self SIG | daemon_probe PATHFILE | orphan_probe PATHFILE |\n"
                    "       errno_of NAME...\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *mode = getenv("EXTSYS_EXPECT"), *pe = getenv("EXTSYS_PROBE_ERRNO");
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        return usage();
    long ps = sysconf(_SC_PAGESIZE);
    g_page = ps > 0 ? (size_t)ps : 4096;
    if (mode && *mode && strcmp(mode, "emulated") && strcmp(mode, "native"))
        return fprintf(stderr, "EXTSYS_EXPECT must be 'emulated' or 'native'\n"), 2;
    g_native = mode && !strcmp(mode, "native");
    if (pe && *pe)
        g_noop = atoi(pe);
    init_oracle();
    init_cases();
    if (!strcmp(argv[1], "list")) {
        for (int i = 0; i < NT; i++)
            printf("%s\n", T[i].name);
        return 0;
    }
    if (!strcmp(argv[1], "ordinary_calls"))
        return cmd_ordinary();
    if (!strcmp(argv[1], "fd_report"))
        return cmd_fd_report();
    if (!strcmp(argv[1], "exit_code") && argc == 3)
        return (int)strtol(argv[2], NULL, 0);
    if (!strcmp(argv[1], "errno_of") && argc >= 3)
        return cmd_errno_of(argc - 2, argv + 2);
    if (!strcmp(argv[1], "kill_self") && argc == 3)
        return cmd_kill_self(argv[2]);
    init_have();
    if (!strcmp(argv[1], "daemon_probe") && argc == 3)
        return cmd_daemon(argv[2]);
    if (!strcmp(argv[1], "orphan_probe") && argc == 3)
        return cmd_orphan(argv[2]);
    if (!strcmp(argv[1], "run") && argc >= 3 && argc - 2 <= MAX_CASES)
        return run_cases(argc - 2, argv + 2);
#ifdef EXTSYS_WITH_LIB
    if (!strcmp(argv[1], "transcript") && argc == 3) {
        static const char *names[MAX_CASES];
        static const struct spec *specs[MAX_CASES];
        int n = 0;
        for (int i = 0; i < NT; i++)
            if (!T[i].fn)
                names[n] = T[i].name, specs[n++] = &T[i].s;
        return cmd_transcript(n, names, specs, argv[2]);
    }
    if (!strcmp(argv[1], "lib_threads") && argc == 3)
        return cmd_lib_threads(atoi(argv[2]));
    if (!strcmp(argv[1], "lib_hygiene"))
        return cmd_lib_hygiene();
    if (!strcmp(argv[1], "lib_fork_during"))
        return cmd_lib_fork_during();
#endif
    return usage();
}
