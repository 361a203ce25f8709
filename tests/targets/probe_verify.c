/*
 * probe_verify.c - the oracle (what an RFC v3 kernel of this version would
 * write), the existence checks, and the generic probe + verify machinery of
 * probe_cases: map a buffer in the layout a case asks for, make the call,
 * then check the return value and every byte of the region.
 */
#include "probe_cases.h"

const char *const SCN[SC_N] = {"openat2", "clone3", "mount_setattr", "open_tree_attr",
                               "setxattrat", "getxattrat", "file_getattr", "file_setattr",
                               "landlock_create_ruleset"};
static const size_t VER0[SC_N] = {24, 64, 32, 32, 16, 16, 24, 24, 8};
/* Each struct's fields: name, offset, width (src/kernel/abi/CHECK_FIELDS.md). */
struct fld {
    const char *name;
    int off, width;
};
#define F8(n, o) {n, o, 8}
#define F4(n, o) {n, o, 4}
static const struct fld FIELDS[SC_N][12] = {
    {F8("flags", 0), F8("mode", 8), F8("resolve", 16)},
    {F8("flags", 0), F8("pidfd", 8), F8("child_tid", 16), F8("parent_tid", 24),
     F8("exit_signal", 32), F8("stack", 40), F8("stack_size", 48), F8("tls", 56),
     F8("set_tid", 64), F8("set_tid_size", 72), F8("cgroup", 80)},
    {F8("attr_set", 0), F8("attr_clr", 8), F8("propagation", 16), F8("userns_fd", 24)},
    {F8("attr_set", 0), F8("attr_clr", 8), F8("propagation", 16), F8("userns_fd", 24)},
    {F8("value", 0), F4("size", 8), F4("flags", 12)},
    {F8("value", 0), F4("size", 8), F4("flags", 12)},
    {F8("fa_xflags", 0), F4("fa_extsize", 8), F4("fa_nextents", 12), F4("fa_projid", 16),
     F4("fa_cowextsize", 20)},
    {F8("fa_xflags", 0), F4("fa_extsize", 8), F4("fa_nextents", 12), F4("fa_projid", 16),
     F4("fa_cowextsize", 20)},
    {F8("handled_access_fs", 0), F8("handled_access_net", 8), F8("scoped", 16)}};

/* The field that holds byte j of the struct (NULL past the last field). */
static const struct fld *field_at(int sc, long j) {
    for (int i = 0; i < 12 && FIELDS[sc][i].name; i++)
        if (j >= FIELDS[sc][i].off && j < FIELDS[sc][i].off + FIELDS[sc][i].width)
            return &FIELDS[sc][i];
    return NULL;
}

/* ---- globals: configuration, oracle, availability ---- */
size_t g_page;
int g_native, g_noop = 134, g_have[SC_N];
struct oracle O;
size_t g_ksize[SC_N];
uint8_t g_img[SC_N][IMG_MAX], g_care[SC_N][IMG_MAX];
atomic_int g_quota = -1;          /* >= 0: limit of diagnostic lines still printed */
char g_cap[4096];                 /* capture buffer (daemon_probe) */
int g_capture;

void diag(const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (g_capture) {
        size_t n = strlen(g_cap);
        snprintf(g_cap + n, sizeof g_cap - n, "%s; ", line);
        return;
    }
    if (atomic_load(&g_quota) >= 0 && atomic_fetch_sub(&g_quota, 1) <= 0)
        return;
    fprintf(stderr, "%s\n", line);
}

const char *ename(int e) {
    static const struct { int e; const char *n; } t[] = {
        {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {ESRCH, "ESRCH"}, {EINTR, "EINTR"},
        {EBADF, "EBADF"}, {ECHILD, "ECHILD"}, {EAGAIN, "EAGAIN"}, {ENOMEM, "ENOMEM"},
        {EACCES, "EACCES"}, {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"}, {EEXIST, "EEXIST"},
        {EXDEV, "EXDEV"}, {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"}, {EINVAL, "EINVAL"},
        {EMFILE, "EMFILE"}, {ENOSPC, "ENOSPC"}, {EROFS, "EROFS"}, {E2BIG, "E2BIG"},
        {ENOSYS, "ENOSYS"}, {ELOOP, "ELOOP"}, {ENAMETOOLONG, "ENAMETOOLONG"},
        {EOPNOTSUPP, "EOPNOTSUPP"}, {EMSGSIZE, "EMSGSIZE"}, {EOVERFLOW, "EOVERFLOW"},
        {ESTALE, "ESTALE"}, {0, "0"}};
    static __thread char buf[32];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].e == e)
            return t[i].n;
    snprintf(buf, sizeof buf, "errno%d", e);
    return buf;
}
/* errno name in probe context: the configured probe errno is named as such */
static const char *pename(int e) {
    static __thread char buf[48];
    if (e != g_noop)
        return ename(e);
    snprintf(buf, sizeof buf, "EEXTSYS_NOOP(%d)", e);
    return buf;
}

void put64(uint8_t *p, size_t off, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}
static void put32(uint8_t *p, size_t off, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}
static uint64_t getn(const uint8_t *p, int width) {
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t get64(const uint8_t *p) { return getn(p, 8); }
static uint8_t garbage(size_t i) { return (uint8_t)(1 + (i * 37 + 11) % 253); }

static int env_u64(const char *name, uint64_t *out) {
    const char *v = getenv(name);
    char *end;
    if (!v || !*v)
        return 0;
    errno = 0;
    *out = strtoull(v, &end, 0);
    if (errno || *end) {
        fprintf(stderr, "probe_cases: bad value for %s: '%s'\n", name, v);
        exit(2);
    }
    return 1;
}

/* ---- the oracle: what an RFC v3 kernel of this version would write ---- */
void init_oracle(void) {
    struct utsname u;
    uint64_t v;
    if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &O.maj, &O.min) != 2) {
        fprintf(stderr, "probe_cases: cannot parse kernel release\n");
        exit(2);
    }
    int k = O.maj * 1000 + O.min;
    O.oflags = X_VALID_OPEN_FLAGS;
    O.oflags_known = k < 7002;
    O.resolve = k >= 5012 ? 0x3f : 0x1f;
    O.cflags = 0xffffffffULL;
    if (k >= 5005) O.cflags |= 1ULL << 32;               /* CLONE_CLEAR_SIGHAND */
    if (k >= 5007) O.cflags |= 1ULL << 33;               /* CLONE_INTO_CGROUP */
    if (k >= 7001) O.cflags |= 7ULL << 34;               /* AUTOREAP, NNP, PIDFD_AUTOKILL */
    O.cksize = k >= 5007 ? 88 : k >= 5005 ? 80 : 64;
    O.mattrs = k >= 5014 ? 0x3000ff : 0x1000ff;
    if (env_u64("EXTSYS_EXPECT_OPEN_FLAGS", &O.oflags))
        O.oflags_known = 1;
    env_u64("EXTSYS_EXPECT_RESOLVE", &O.resolve);
    env_u64("EXTSYS_EXPECT_CLONE_FLAGS", &O.cflags);
    env_u64("EXTSYS_EXPECT_MOUNT_ATTRS", &O.mattrs);
    O.otflags = 0x89901 | (k >= 7000 ? OT_NAMESPACE : 0);
    O.xflags = k >= 7000 ? 0x8003fffbULL : 0x8001fffbULL;
    O.xflags_known = k < 7002;
    /* Landlock: what this kernel has, from its own ABI query (a plain call,
     * never a probe), and the masks of that ABI. */
    errno = 0;
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0UL, 1UL);
    O.ll_off = abi < 0 && errno == EOPNOTSUPP;
    O.ll_abi = abi > 0 ? (int)abi : 0;
    static const uint64_t fs_by_abi[] = {0, 0x1fff, 0x3fff, 0x7fff, 0x7fff, 0xffff,
                                         0xffff, 0xffff, 0xffff, 0x1ffff};
    O.ll_fs = fs_by_abi[O.ll_abi > 9 ? 9 : O.ll_abi];
    O.ll_net = O.ll_abi >= 4 ? 0x3 : 0;
    O.ll_scoped = O.ll_abi >= 6 ? 0x3 : 0;
    O.ll_ksize = O.ll_abi >= 6 ? 24 : O.ll_abi >= 4 ? 16 : 8;
    if (env_u64("EXTSYS_EXPECT_CLONE_SIZE", &v)) {
        if (v < 64 || v > IMG_MAX || v % 8) {
            fprintf(stderr, "probe_cases: EXTSYS_EXPECT_CLONE_SIZE must be 64..%d, x8\n", IMG_MAX);
            exit(2);
        }
        O.cksize = (size_t)v;
    }
    for (int sc = 0; sc < SC_N; sc++) {
        uint8_t *img = g_img[sc];
        memset(img, 0, IMG_MAX);
        memset(g_care[sc], 1, IMG_MAX);
        if (sc == SC_OPENAT2) {
            put64(img, 0, O.oflags);
            put64(img, 8, 07777);
            put64(img, 16, O.resolve);
            if (!O.oflags_known)
                memset(g_care[sc], 0, 8);
            g_ksize[sc] = 24;
        } else if (sc == SC_CLONE3) {
            for (size_t o = 0; o < O.cksize; o += 8)
                put64(img, o, ~0ULL);
            put64(img, 0, O.cflags);
            put64(img, 32, 0xff);
            g_ksize[sc] = O.cksize;
        } else if (sc == SC_MOUNT || sc == SC_OTA) {
            put64(img, 0, O.mattrs);
            put64(img, 8, O.mattrs);
            put64(img, 16, 0x1e0000);
            put64(img, 24, ~0ULL);
            g_ksize[sc] = 32;
        } else if (sc == SC_SETX || sc == SC_GETX) {
            put64(img, 0, ~0ULL);
            put32(img, 8, 0xffffffffu);
            put32(img, 12, sc == SC_SETX ? 0x3 : 0);       /* XATTR_CREATE | XATTR_REPLACE */
            g_ksize[sc] = 16;
        } else if (sc == SC_FGET || sc == SC_FSET) {
            put64(img, 0, O.xflags);
            for (size_t o = 8; o < 24; o += 4)
                put32(img, o, 0xffffffffu);
            if (!O.xflags_known)
                memset(g_care[sc], 0, 8);
            g_ksize[sc] = 24;
        } else {
            put64(img, 0, O.ll_fs);
            put64(img, 8, O.ll_net);
            put64(img, 16, O.ll_scoped);
            if (O.ll_abi > 9)
                memset(g_care[sc], 0, 24);                 /* a newer ABI than this oracle */
            g_ksize[sc] = O.ll_ksize;
        }
    }
}

/* src/kernel/discovery/RECIPES.md, 'Does the syscall exist?': existence calls
 * that are not probes */
void init_have(void) {
    uint8_t z[64] = {0};
    errno = 0;
    g_have[SC_CLONE3] = !(syscall(SYS_clone3, z, 0UL) == -1 && errno == ENOSYS);
    errno = 0;
    g_have[SC_OPENAT2] = !(syscall(SYS_openat2, AT_FDCWD, NULL, z, 0UL) == -1 && errno == ENOSYS);
    errno = 0;
    g_have[SC_MOUNT] = !(syscall(SYS_mount_setattr, -1, NULL, 0, NULL, 0UL) == -1 && errno == ENOSYS);
    /* the others: a NULL struct and size 1, failed at the first check */
    errno = 0;
    g_have[SC_OTA] = !(syscall(SYS_open_tree_attr, -1, NULL, 0, NULL, 1UL) == -1 && errno == ENOSYS);
    errno = 0;
    g_have[SC_SETX] = !(syscall(SYS_setxattrat, -1, NULL, 0, NULL, NULL, 1UL) == -1 && errno == ENOSYS);
    errno = 0;
    g_have[SC_GETX] = !(syscall(SYS_getxattrat, -1, NULL, 0, NULL, NULL, 1UL) == -1 && errno == ENOSYS);
    errno = 0;
    g_have[SC_FGET] = !(syscall(SYS_file_getattr, -1, NULL, NULL, 1UL, 0) == -1 && errno == ENOSYS);
    errno = 0;
    g_have[SC_FSET] = !(syscall(SYS_file_setattr, -1, NULL, NULL, 1UL, 0) == -1 && errno == ENOSYS);
    errno = 0;
    g_have[SC_LL] = !(syscall(SYS_landlock_create_ruleset, NULL, 1UL, 0) == -1 && errno == ENOSYS);
    /* EXTSYS_PROBE_SYSCALLS=a,b,...: only these are probed, the others count as missing (a
     * container runtime whose libseccomp does not know a name leaves its probes unanswered) */
    const char *only = getenv("EXTSYS_PROBE_SYSCALLS");
    for (int sc = 0; only && sc < SC_N; sc++) {
        char pat[64];
        snprintf(pat, sizeof pat, ",%s,", SCN[sc]);
        char list[512];
        snprintf(list, sizeof list, ",%s,", only);
        if (!strstr(list, pat))
            g_have[sc] = 0;
    }
}

/* ---- the generic probe + verify machinery ---- */
/* open_tree_attr's flags argument (vfs_open_tree): known bits, AT_RECURSIVE
 * only with CLONE (7.0: or NAMESPACE), CLONE and NAMESPACE exclusive. */
static int ota_flags_ok(uint32_t fl) {
    if (fl & ~O.otflags)
        return 0;
    if ((fl & OT_RECURSIVE) && !(fl & (OT_CLONE | OT_NAMESPACE)))
        return 0;
    return (fl & (OT_CLONE | OT_NAMESPACE)) != (OT_CLONE | OT_NAMESPACE);
}

/* The errno each syscall gives, in its order of checks
 * (src/kernel/abi/CHECK_FIELDS.md): emulated, the RFC's or the proposal's;
 * native, a kernel without CHECK_FIELDS. */
static int expect_errno(const struct spec *s) {
    uint64_t sz = s->size & ~CF;
    uint32_t fl = (uint32_t)s->mflags;              /* every checked argument is 32-bit */
    int small = sz < VER0[s->sc], big = sz > g_page, null = s->fault == F_NULL;
    switch (s->sc) {
    case SC_OPENAT2:
        if (g_native)
            return E2BIG;                           /* bit 63 makes the size huge */
        if (small)
            return EINVAL;
        break;
    case SC_MOUNT:
        if (fl & ~MOUNT_FLAGS_OK)
            return EINVAL;                          /* flags first, low 32 bits only */
        break;
    case SC_OTA:
        if (null)
            return EINVAL;                          /* uattr NULL with a size */
        if (!ota_flags_ok(fl))
            return EINVAL;
        if (g_native)                               /* the path (NULL or bad) fails next */
            return (fl & (OT_CLONE | OT_NAMESPACE)) && geteuid() != 0 ? EPERM : EFAULT;
        break;
    case SC_SETX:
    case SC_GETX:
        if (g_native)
            return E2BIG;                           /* the size comes first */
        if (small)
            return EINVAL;
        break;
    case SC_FGET:
    case SC_FSET:
        if (fl & ~AT_FLAGS_OK)
            return EINVAL;                          /* at_flags first */
        break;
    case SC_LL:
        if (O.ll_off)
            return EOPNOTSUPP;
        if (fl)
            return EINVAL;                          /* flags with a size */
        if (null)
            return EFAULT;                          /* before the size */
        if (g_native)
            return E2BIG;
        if (small)
            return EINVAL;
        break;
    }
    if (g_native)
        return E2BIG;
    if (big)
        return E2BIG;
    if (small)
        return EINVAL;
    return s->fault != F_NONE ? EFAULT : g_noop;
}

int prepare(struct pctx *c, const struct spec *s) {
    memset(c, 0, sizeof *c);
    c->s = s;
    if (s->fault == F_NULL)
        return 0;
    size_t pre = 64 + s->mis, ks = g_ksize[s->sc];
    if (s->fault == F_TAIL || s->fault == F_HEAD) {
        c->maplen = 2 * g_page;
        c->vlen = c->bnd = g_page;
        pre = g_page - (s->fault == F_TAIL ? ks + 8 : ks - 8);
    } else {
        c->maplen = c->vlen = (pre + s->buflen + 64 + s->mis + g_page - 1) / g_page * g_page;
    }
    c->map = mmap(NULL, c->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c->map == MAP_FAILED) {
        diag("mmap(%zu): %s", c->maplen, strerror(errno));
        c->map = NULL;
        return -1;
    }
    c->ptr = c->map + pre;
    memset(c->map, 0xff, c->vlen);
    size_t n = s->buflen;
    if (pre + n > c->vlen)
        n = c->vlen - pre;
    for (size_t i = 0; i < n; i++)
        c->ptr[i] = s->fill == FILL_AB ? 0xab : s->fill == FILL_ZERO ? 0 : garbage(i);
    for (size_t i = 0; i < s->post_zero && pre + n + i < c->vlen; i++)
        c->ptr[n + i] = 0;
    if (c->bnd && mprotect(c->map + c->bnd, c->maplen - c->bnd, PROT_NONE) != 0)
        return diag("mprotect: %s", strerror(errno)), -1;
    c->orig = malloc(c->vlen);
    if (!c->orig)
        return -1;
    memcpy(c->orig, c->map, c->vlen);
    if (s->fault == F_RO && mprotect(c->map, c->maplen, PROT_READ) != 0)
        return diag("mprotect: %s", strerror(errno)), -1;
    return 0;
}

void release(struct pctx *c) {
    if (c->map)
        munmap(c->map, c->maplen);
    free(c->orig);
    c->map = c->orig = NULL;
}

long do_call(const struct spec *s, void *ptr) {
    int o2 = s->sc == SC_OPENAT2, old3 = s->sc <= SC_MOUNT;
    long dfd = s->args ? s->dfd : o2 ? AT_FDCWD : -1;
    const char *path = s->args ? s->path : o2 ? "." : old3 ? "" : NULL;
    unsigned long size = (unsigned long)s->size, fl = (unsigned long)s->mflags;
    switch (s->sc) {
    case SC_OPENAT2: return syscall(SYS_openat2, dfd, path, ptr, size);
    case SC_CLONE3: return syscall(SYS_clone3, ptr, size);
    case SC_MOUNT: return syscall(SYS_mount_setattr, dfd, path, fl, ptr, size);
    case SC_OTA: return syscall(SYS_open_tree_attr, dfd, path, fl, ptr, size);
    case SC_SETX: return syscall(SYS_setxattrat, dfd, path, fl, path, ptr, size);
    case SC_GETX: return syscall(SYS_getxattrat, dfd, path, fl, path, ptr, size);
    case SC_FGET: return syscall(SYS_file_getattr, dfd, path, ptr, size, fl);
    case SC_FSET: return syscall(SYS_file_setattr, dfd, path, ptr, size, fl);
    default: return syscall(SYS_landlock_create_ruleset, ptr, size, fl);
    }
}

/* clean up after a call that wrongly succeeded */
static void undo(const struct spec *s, long r) {
    if (r == 0 && s->sc == SC_CLONE3)
        syscall(SYS_exit, 99);                      /* we are a child that must not exist */
    if (r > 0 && (s->sc == SC_OPENAT2 || s->sc == SC_OTA || s->sc == SC_LL))
        close((int)r);
    if (r > 0 && s->sc == SC_CLONE3)
        waitpid((pid_t)r, NULL, __WALL);
}

static void where(char *b, size_t n, const struct spec *s, long j, uint64_t usz, size_t ks) {
    if (j < 0)
        snprintf(b, n, "%ld byte(s) before the buffer", -j);
    else if ((uint64_t)j >= usz)
        snprintf(b, n, "buf+%ld (outside [0,usize=%llu))", j, (unsigned long long)usz);
    else if ((size_t)j < ks && field_at(s->sc, j))
        snprintf(b, n, "buf+%ld (%s byte %ld)", j, field_at(s->sc, j)->name,
                 j - field_at(s->sc, j)->off);
    else
        snprintf(b, n, "buf+%ld (trailing [ksize=%zu,usize))", j, ks);
}

/* Verify return value and every byte of the mapped region. Returns 0 if all is right. */
int check(struct pctx *c, long ret, int err, const char *name) {
    const struct spec *s = c->s;
    int exp = expect_errno(s), bad = 0, nm = 0, nb = 0;
    long lastf = -1;
    if (ret == -2) {                                /* vfork child exited 255 */
        diag("%s: %s succeeded in the vfork child, expected errno %s", name, SCN[s->sc], pename(exp));
        bad = 1;
    } else if (ret != -1) {
        diag("%s: %s returned %ld, expected -1 with errno %s", name, SCN[s->sc], ret, pename(exp));
        bad = 1;
    } else if (err != exp) {
        diag("%s: %s: expected errno %s, got %s", name, SCN[s->sc], pename(exp), pename(err));
        bad = 1;
    }
    if (!c->map)
        return bad;
    /* EFAULT writes only when it came from writing the answer */
    int mode = exp == g_noop ? M_IMAGE
             : exp != EFAULT || g_native ? M_UNTOUCHED
             : s->fault == F_TAIL ? M_TAIL : s->fault == F_HEAD ? M_HEAD : M_UNTOUCHED;
    uint64_t usz = s->size & ~CF;
    size_t po = (size_t)(c->ptr - c->map), ks = g_ksize[s->sc], hk = 0;
    const uint8_t *img = g_img[s->sc], *care = g_care[s->sc];
    if (mode == M_HEAD) /* written bytes may form an image prefix; the rest is untouched */
        while (po + hk < c->bnd && hk < ks && (c->ptr[hk] == img[hk] || !care[hk]))
            hk++;
    for (size_t i = 0; i < c->vlen; i++) {
        long j = (long)i - (long)po;
        int want = c->orig[i];
        const char *cls = "untouched";
        if (j >= 0 && (uint64_t)j < usz) {
            if (mode == M_IMAGE && (size_t)j < ks) {
                if (!care[j])
                    continue;
                want = img[j], cls = "image";
            } else if (mode == M_IMAGE) {
                want = 0, cls = "zeroed tail";
            } else if (mode == M_TAIL && (size_t)j >= ks && i < c->bnd) {
                want = 0, cls = "zeroed tail before the fault";
            } else if (mode == M_TAIL) {
                cls = "untouched (head must not be written after a tail fault)";
            } else if (mode == M_HEAD && (size_t)j < hk) {
                want = img[j], cls = "image prefix";
            } else if (mode == M_HEAD) {
                cls = "untouched or image prefix";
            }
        }
        if (c->map[i] != want) {
            char w[96];
            const struct fld *fd = j >= 0 ? field_at(s->sc, j) : NULL;
            size_t f0 = fd ? (size_t)fd->off : 0, fw = fd ? (size_t)fd->width : 8;
            if (mode == M_IMAGE && fd && (size_t)j < ks && f0 + fw <= ks && f0 + fw <= usz) {
                if ((long)f0 != lastf && nm < 8)   /* whole little-endian field: one line */
                    diag("%s: %s size 0x%llx: field %s @%zu: expected 0x%llx, got 0x%llx", name,
                         SCN[s->sc], (unsigned long long)s->size, fd->name, f0,
                         (unsigned long long)getn(img + f0, fd->width),
                         (unsigned long long)getn(c->ptr + f0, fd->width));
                nm += (long)f0 != lastf ? 1 : 0;
                lastf = (long)f0;
                nb++, bad = 1;
                continue;
            }
            nb++;
            if (nm++ < 8) {
                where(w, sizeof w, s, j, usz, ks);
                diag("%s: %s size 0x%llx: %s: expected 0x%02x (%s), got 0x%02x", name, SCN[s->sc],
                     (unsigned long long)s->size, w, want, cls, c->map[i]);
            }
            bad = 1;
        }
    }
    if (nm > 8)
        diag("%s: ... %d wrong bytes in total", name, nb);
    if (mode == M_IMAGE && s->sc == SC_OPENAT2 && !O.oflags_known) {
        uint64_t got = get64(c->ptr);
        if ((got & X_VALID_OPEN_FLAGS) != X_VALID_OPEN_FLAGS) {
            diag("%s: openat2 flags 0x%llx lack bits of 0x%llx", name, (unsigned long long)got,
                 (unsigned long long)X_VALID_OPEN_FLAGS);
            bad = 1;
        }
    }
    return bad;
}

int probe_verify(const struct spec *s, const char *name) {
    struct pctx c;
    int bad = 1;
    if (prepare(&c, s) == 0) {
        errno = 0;
        long r = do_call(s, c.ptr);
        int e = errno;
        undo(s, r);
        bad = check(&c, r, e, name);
    }
    release(&c);
    return bad;
}

/* One byte-exact probe of each available syscall (sizes with a zeroed tail). */
const struct spec BASIC[SC_N] = {
    {.sc = SC_OPENAT2, .size = CF | 40, .buflen = 40, .mis = 3, .fill = FILL_GARBAGE},
    {.sc = SC_CLONE3, .size = CF | 100, .buflen = 100, .mis = 5, .fill = FILL_GARBAGE},
    {.sc = SC_MOUNT, .size = CF | 40, .buflen = 40, .mis = 1, .fill = FILL_GARBAGE},
    {.sc = SC_OTA, .size = CF | 44, .buflen = 44, .mis = 2, .fill = FILL_GARBAGE},
    {.sc = SC_SETX, .size = CF | 24, .buflen = 24, .mis = 6, .fill = FILL_GARBAGE},
    {.sc = SC_GETX, .size = CF | 20, .buflen = 20, .mis = 7, .fill = FILL_GARBAGE},
    {.sc = SC_FGET, .size = CF | 32, .buflen = 32, .mis = 9, .fill = FILL_GARBAGE},
    {.sc = SC_FSET, .size = CF | 28, .buflen = 28, .mis = 4, .fill = FILL_GARBAGE},
    {.sc = SC_LL, .size = CF | 36, .buflen = 36, .mis = 11, .fill = FILL_GARBAGE}};

int basic_all(const char *who) {
    int fails = 0;
    char nm[96];
    for (int sc = 0; sc < SC_N; sc++) {
        if (!g_have[sc])
            continue;
        snprintf(nm, sizeof nm, "%s/%s", who, SCN[sc]);
        fails += probe_verify(&BASIC[sc], nm);
    }
    return fails;
}
