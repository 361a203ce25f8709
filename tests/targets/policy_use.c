/*
 * policy_use.c - policy_cases told, use-told and use-more: what the three
 * probes answer, then every advertised bit used (it must work) and every
 * known bit not advertised used (it must be refused), one at a time.
 */
#include "policy_cases.h"

static const char *KN[] = {"flags", "resolve", "mode", "flags", "attr_set", "propagation"};
static const int KSC[] = {SC_OPENAT2, SC_OPENAT2, SC_OPENAT2, SC_CLONE3, SC_MOUNT, SC_MOUNT};

/* ---- probes ---- */
static void probe_all(void) {
    for (int s = 0; s < SC_N; s++) {
        struct told *t = &T[s];
        uint64_t *b = t->v;
        unsigned long size = (unsigned long)(CHECK_FIELDS | 128);
        long r;
        memset(t, 0, sizeof *t);
        fflush(stdout);
        if (s == SC_OPENAT2)
            r = sc(syscall(SYS_openat2, AT_FDCWD, NULL, b, size));
        else if (s == SC_CLONE3)
            r = sc(syscall(SYS_clone3, b, size));
        else
            r = sc(syscall(SYS_mount_setattr, -1, NULL, 0UL, b, size));
        if (r == 0 && s == SC_CLONE3)
            _exit(99);                       /* a probe must never create a process */
        if (r > 0 && s == SC_OPENAT2)
            close((int)r);
        if (r > 0 && s == SC_CLONE3)
            reap((pid_t)r, -1);
        t->ret = r;
        t->err = r < 0 ? (int)-r : 0;
        t->state = t->err == g_probe_errno ? T_CF : t->err == ENOSYS ? T_NOSYS : T_OTHER;
        if (s == SC_CLONE3)
            for (size_t i = 0; i < 16; i++)
                if (b[i] == ~0ULL)
                    t->csize = (i + 1) * 8;
    }
}

static void told_line(int s) {
    const struct told *t = &T[s];
    printf("%s errno=", SCN[s]);
    if (t->state == T_CF)
        printf("%d", t->err);
    else if (t->err)
        printf("%s", ename(t->err));
    else
        printf("none ret=%ld", t->ret);
    if (t->state == T_CF && s == SC_OPENAT2)
        printf(" flags=0x%llx mode=0x%llx resolve=0x%llx", (unsigned long long)t->v[0],
               (unsigned long long)t->v[1], (unsigned long long)t->v[2]);
    if (t->state == T_CF && s == SC_CLONE3)
        printf(" flags=0x%llx size=%zu", (unsigned long long)t->v[0], t->csize);
    if (t->state == T_CF && s == SC_MOUNT)
        printf(" attr_set=0x%llx attr_clr=0x%llx propagation=0x%llx",
               (unsigned long long)t->v[0], (unsigned long long)t->v[1],
               (unsigned long long)t->v[2]);
    putchar('\n');
}

int cmd_told(void) {
    probe_all();
    for (int s = 0; s < SC_N; s++)
        told_line(s);
    return 0;
}

/* ---- validation-only calls (shared by use-told and use-more) ---- */
static int v_openat2(uint64_t flags, uint64_t mode, uint64_t resolve) {
    uint64_t how[3] = {flags, mode, resolve};
    long r = sc(syscall(SYS_openat2, AT_FDCWD, NULL, how, 24UL));   /* NULL path: EFAULT */
    if (r >= 0)
        close((int)r);
    return r < 0 ? (int)-r : 0;
}

static int closed_fd(void) {
    int fd = 999;
    while (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
        fd++;
    return fd;
}

static int v_mount(uint64_t set, uint64_t clr, uint64_t prop, uint64_t userns) {
    uint64_t a[4] = {set, clr, prop, userns};
    long r = sc(syscall(SYS_mount_setattr, -1, NULL, 0UL, a, 32UL));   /* NULL path: EFAULT */
    return r < 0 ? (int)-r : 0;
}

/* the cgroup2 root, for CLONE_INTO_CGROUP (hybrid hierarchies: .../unified) */
static int cgroup_fd(void) {
    static const char *cand[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
    for (size_t i = 0; i < 2; i++) {
        struct statfs sf;
        int fd = (int)sc(syscall(SYS_openat, AT_FDCWD, cand[i],
                                 (unsigned long)(X_O_DIRECTORY | X_O_CLOEXEC), 0UL));
        if (fd < 0)
            continue;
        if (fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == CGROUP2_SUPER_MAGIC)
            return fd;
        close(fd);
    }
    return -1;
}

/*
 * One use of one bit: builds the call the way a program that knows the bit would, makes it
 * and prints the verdict.  more == 0: the bit was advertised and must pass validation;
 * more == 1: it was not and must get g_deny_errno.
 */
static void use_bit(int kind, uint64_t bit, int more) {
    const char *name = bitname(kind, bit), *scn = SCN[KSC[kind]], *fld = KN[kind];
    int e, ok, st = 0;
    char res[80];

    if (kind == K_OFLAG || kind == K_RESOLVE || kind == K_MODE) {
        if (kind == K_OFLAG && bit == X_O_TMPFILE)
            e = v_openat2(X_O_TMPFILE | X_O_DIRECTORY | X_O_RDWR, 0600, 0);
        else if (kind == K_OFLAG)
            e = v_openat2(bit, 0, 0);
        else if (kind == K_MODE)
            e = v_openat2(X_O_CREAT | X_O_WRONLY, bit, 0);
        else
            e = v_openat2(X_O_RDONLY, 0, bit);
        ok = more ? e == g_deny_errno
                  : e == EFAULT || (kind == K_RESOLVE && bit == X_RESOLVE_CACHED && e == EAGAIN);
        line(ok, "%s %s %s -> %s", scn, fld, name, e ? ename(e) : "success");
        return;
    }
    if (kind == K_MATTR || kind == K_PROP) {
        int idmap = kind == K_MATTR && bit == X_MOUNT_ATTR_IDMAP;
        if (kind == K_PROP)
            e = v_mount(0, 0, bit, 0);
        else if (bit & X_MOUNT_ATTR__ATIME)            /* an atime value: clear the field */
            e = v_mount(bit, X_MOUNT_ATTR__ATIME, 0, 0);
        else
            e = v_mount(bit, 0, 0, idmap ? (uint64_t)closed_fd() : 0);
        ok = more ? e == g_deny_errno : e == (idmap ? EBADF : EFAULT);
        line(ok, "%s %s %s -> %s", scn, fld, name, e ? ename(e) : "success");
        return;
    }
    /* clone3: a real call; the child _exit(0)s at once */
    uint64_t a[16] = {0};
    size_t size = T[SC_CLONE3].csize < 64 ? 64 : T[SC_CLONE3].csize;
    int cg = -1;
    a[0] = bit;
    a[4] = SIGCHLD;
    if (bit == X_CLONE_INTO_CGROUP) {
        size = size < 88 ? 88 : size;
        if (!more && (cg = cgroup_fd()) < 0) {
            line(-1, "%s %s %s: no cgroup2 directory at /sys/fs/cgroup(/unified)", scn, fld,
                 name);
            return;
        }
        a[10] = more ? 0 : (uint64_t)cg;   /* fd 0 is no cgroup: never a child if let in */
    }
    if (bit == X_CLONE_AUTOREAP || bit == X_CLONE_PIDFD_AUTOKILL) {
        /* the combination a kernel with the bit accepts (use-more too: a let-through bit
         * must create a child, not fail on the combination rules) */
        uint64_t need = bit == X_CLONE_AUTOREAP ? 0 : X_CLONE_AUTOREAP | X_CLONE_NNP;
        if (!more && (T[SC_CLONE3].v[0] & need) != need) {
            line(-1, "%s %s %s: needs AUTOREAP|NNP, not advertised", scn, fld, name);
            return;
        }
        a[0] |= need | X_CLONE_PIDFD;          /* autoreaped: exit_signal 0, wait on a pidfd */
        a[4] = 0;
    }
    e = clone3_real(a, size, &st);
    if (cg >= 0)
        close(cg);
    if (e)
        snprintf(res, sizeof res, "%s", ename(e));
    else
        describe_status(st, res, sizeof res);
    if (more)
        ok = e == g_deny_errno;
    else if (e == 0)
        ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    else if (bit == X_CLONE_INTO_CGROUP &&
             (e == EACCES || e == EBUSY || e == EOPNOTSUPP || e == ENOENT)) {
        line(-1, "%s %s %s -> %s (past flag validation; the cgroup refused)", scn, fld, name,
             res);
        return;
    } else if (e == EPERM && geteuid() != 0 && bit == (1ULL << 37)) {
        line(-1, "%s %s %s -> EPERM (no privilege)", scn, fld, name);
        return;
    } else
        ok = 0;
    line(ok, "%s %s %s -> %s", scn, fld, name, res);
}

/* mount_setattr needs CAP_SYS_ADMIN before any flag is validated: an all-zero attr returns 0
 * right after may_mount() (src/kernel/discovery/RECIPES.md, 'mount_setattr'), so it tells privilege from policy */
static int mount_privileged(void) {
    int e = v_mount(0, 0, 0, 0);
    if (e == EPERM) {
        line(-1, "mount_setattr: no privilege (EPERM for an all-zero attr), uses skipped");
        return 0;
    }
    if (e)
        printf("note mount_setattr all-zero attr -> %s (expected success)\n", ename(e));
    return 1;
}

/* a syscall the probe said is absent must be absent for real calls too */
static void use_hidden(int s) {
    int e, st = 0;
    char res[80];
    if (s == SC_OPENAT2) {
        uint64_t how[3] = {X_O_RDONLY | X_O_DIRECTORY | X_O_CLOEXEC, 0, 0};
        long r = sc(syscall(SYS_openat2, AT_FDCWD, ".", how, 24UL));
        if (r >= 0)
            close((int)r);
        e = r < 0 ? (int)-r : 0;
        snprintf(res, sizeof res, "%s", e ? ename(e) : "success (fd)");
    } else if (s == SC_CLONE3) {
        uint64_t a[16] = {0};
        a[4] = SIGCHLD;
        e = clone3_real(a, 64, &st);
        if (e)
            snprintf(res, sizeof res, "%s", ename(e));
        else
            describe_status(st, res, sizeof res);
    } else {
        e = v_mount(0, 0, 0, 0);
        snprintf(res, sizeof res, "%s", e ? ename(e) : "success");
    }
    line(e == ENOSYS, "%s hidden: real call -> %s", SCN[s], res);
}

static void use_mask(int kind, uint64_t mask, int more) {
    for (int i = 0; i < 64; i++) {
        uint64_t bit = 1ULL << i;
        if (!(mask & bit))
            continue;
        if (kind == K_MATTR && bit == 0x40)   /* not an atime value on its own */
            continue;
        if (kind == K_CFLAG && i < 32)        /* legacy flags: the RFC reports them all */
            continue;
        use_bit(kind, bit, more);
    }
}

int cmd_use_told(void) {
    probe_all();
    for (int s = 0; s < SC_N; s++) {
        const struct told *t = &T[s];
        if (t->state == T_NOSYS) {
            use_hidden(s);
            continue;
        }
        if (t->state == T_OTHER) {
            line(-1, "%s: probe -> %s, no CHECK_FIELDS; a program would fall back to "
                     "trial-and-error", SCN[s], t->err ? ename(t->err) : "success");
            continue;
        }
        if (s == SC_OPENAT2) {
            use_mask(K_OFLAG, t->v[0], 0);
            use_mask(K_RESOLVE, t->v[2], 0);
            if (t->v[1])
                use_bit(K_MODE, t->v[1], 0);
            uint64_t how[3] = {X_O_RDONLY | X_O_DIRECTORY | X_O_CLOEXEC, 0, 0};
            long r = sc(syscall(SYS_openat2, AT_FDCWD, ".", how, 24UL));
            if (r >= 0)
                close((int)r);
            line(r >= 0, "openat2 open \".\" O_RDONLY|O_DIRECTORY|O_CLOEXEC -> %s",
                 r >= 0 ? "fd" : ename((int)-r));
        } else if (s == SC_CLONE3) {
            uint64_t a[16] = {0};
            int st = 0, e;
            char res[80];
            if (t->csize < 64)
                printf("note clone3 told size %zu is below 64; using 64\n", t->csize);
            use_mask(K_CFLAG, t->v[0], 0);
            a[4] = SIGCHLD;
            e = clone3_real(a, t->csize < 64 ? 64 : t->csize, &st);
            if (e)
                snprintf(res, sizeof res, "%s", ename(e));
            else
                describe_status(st, res, sizeof res);
            line(e == 0 && st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                 "clone3 size %zu plain -> %s", t->csize < 64 ? 64 : t->csize, res);
        } else if (mount_privileged()) {
            use_mask(K_MATTR, t->v[0], 0);
            use_mask(K_PROP, t->v[2], 0);
        }
    }
    return summary();
}

int cmd_use_more(void) {
    probe_all();
    for (int s = 0; s < SC_N; s++) {
        const struct told *t = &T[s];
        if (t->state != T_CF) {
            printf("note %s: probe -> %s, nothing advertised to go beyond\n", SCN[s],
                   t->err ? ename(t->err) : "success");
            continue;
        }
        if (s == SC_OPENAT2) {
            use_mask(K_OFLAG, KNOWN_OFLAGS & ~t->v[0], 1);
            use_mask(K_RESOLVE, KNOWN_RESOLVE & ~t->v[2], 1);
        } else if (s == SC_CLONE3) {
            uint64_t a[32] = {0};             /* room for the told size + 8 */
            int st = 0, e;
            size_t size = t->csize < 64 ? 64 : t->csize;
            char res[80];
            use_mask(K_CFLAG, KNOWN_CFLAGS & ~t->v[0], 1);
            a[4] = SIGCHLD;
            ((uint8_t *)a)[size] = 1;        /* a field the kernel does not know */
            e = clone3_real(a, size + 8, &st);
            if (e)
                snprintf(res, sizeof res, "%s", ename(e));
            else
                describe_status(st, res, sizeof res);
            line(e == E2BIG, "clone3 size %zu (told %zu) non-zero byte at %zu -> %s", size + 8,
                 t->csize, size, res);
        } else {
            uint64_t m = KNOWN_MATTRS & ~t->v[0], p = KNOWN_PROP & ~t->v[2];
            if (((m & ~0x40ULL) || p) && mount_privileged()) {
                use_mask(K_MATTR, m, 1);
                use_mask(K_PROP, p, 1);
            }
        }
    }
    if (n_ok + n_fail + n_skip == 0) {
        printf("nothing to overreach\n");
        return 0;
    }
    return summary();
}
