/*
 * escape_files.c - attacks on what strict forbids beyond processes: set-id files and file
 * capabilities, user namespaces, mount attributes, the i386 ABI. See escape_cases.c.
 */
#define _GNU_SOURCE
#include "escape_cases.h"

/* ---- set-id files ---- */

int make_plain(const char *path)
{
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0755);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

int do_setid(const char *kind, const char *dir, const char *bitname)
{
    mode_t bit = strcmp(bitname, "suid") == 0 ? S_ISUID : strcmp(bitname, "sgid") == 0 ? S_ISGID : 0;
    int caps = strcmp(kind, "setxattr-caps") == 0;
    if (!bit && !caps)
        return usage();
    const mode_t mode = 0755 | bit;
    char path[4096], via[64];
    snprintf(path, sizeof path, "%s/%s-%s-%d", dir, kind, bitname, (int)getpid());
    long rc;
    int creates = !strcmp(kind, "mknod") || !strcmp(kind, "mknodat") || !strcmp(kind, "open") ||
                  !strcmp(kind, "openat") || !strcmp(kind, "creat") || !strcmp(kind, "tmpfile");
    if (!creates && make_plain(path) != 0)
        return result(errno, 0, "step=create path=%s", path);
    if (strcmp(kind, "chmod") == 0) {
        rc = chmod(path, mode);
    } else if (strcmp(kind, "fchmod") == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        rc = fchmod(fd, mode);
    } else if (strcmp(kind, "fchmodat") == 0) {
        rc = syscall(SYS_fchmodat, AT_FDCWD, path, mode);
    } else if (strcmp(kind, "fchmodat2") == 0) {
        rc = syscall(NR_fchmodat2, AT_FDCWD, path, mode, 0);
    } else if (strcmp(kind, "fchmodat2-empty") == 0) {
        int fd = open(path, O_PATH | O_CLOEXEC);
        rc = syscall(NR_fchmodat2, fd, "", mode, X_AT_EMPTY_PATH);
    } else if (strcmp(kind, "chmod-procfd") == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        snprintf(via, sizeof via, "/proc/self/fd/%d", fd);
        rc = chmod(via, mode);
    } else if (strcmp(kind, "mknod") == 0) {
#ifdef SYS_mknod
        rc = syscall(SYS_mknod, path, S_IFREG | mode, 0);
#else
        return skip("this architecture has no mknod(2), only mknodat(2)");
#endif
    } else if (strcmp(kind, "mknodat") == 0) {
        rc = syscall(SYS_mknodat, AT_FDCWD, path, S_IFREG | mode, 0);
    } else if (strcmp(kind, "open") == 0) {
#ifdef SYS_open
        rc = syscall(SYS_open, path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
#else
        return skip("this architecture has no open(2), only openat(2)");
#endif
    } else if (strcmp(kind, "openat") == 0) {
        rc = syscall(SYS_openat, AT_FDCWD, path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
    } else if (strcmp(kind, "creat") == 0) {
#ifdef SYS_creat
        rc = syscall(SYS_creat, path, mode);
#else
        return skip("this architecture has no creat(2)");
#endif
    } else if (strcmp(kind, "tmpfile") == 0) {
        rc = syscall(SYS_openat, AT_FDCWD, dir, X_O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
        if (rc >= 0) {
            snprintf(via, sizeof via, "/proc/self/fd/%ld", rc);
            if (linkat(AT_FDCWD, via, AT_FDCWD, path, AT_SYMLINK_FOLLOW) != 0)
                return result(errno, 0, "step=linkat path=%s", path);
        }
    } else if (caps) {
        /* struct vfs_cap_data, revision 2: CAP_NET_RAW permitted and effective */
        uint32_t v[5] = {X_VFS_CAP_REVISION_2 | X_VFS_CAP_FLAGS_EFFECTIVE, 1U << X_CAP_NET_RAW, 0, 0, 0};
        rc = setxattr(path, "security.capability", v, sizeof v, 0);
        int err = rc < 0 ? errno : 0;
        char got[64];
        ssize_t n = getxattr(path, "security.capability", got, sizeof got);
        return result(err, n > 0, "path=%s", path);
    } else {
        return usage();
    }
    int err = rc < 0 ? errno : 0;
    struct stat st;
    if (stat(path, &st) != 0)
        return result(err, 0, "path=%s mode=absent", path);
    return result(err, (st.st_mode & bit) != 0, "path=%s mode=%#o", path, (unsigned)st.st_mode & 07777);
}

/* ---- user namespaces ---- */

static void ns_link(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/ns/user", buf, size - 1);
    buf[n > 0 ? n : 0] = 0;
}

long nstype_arg(const char *s)
{
    if (strcmp(s, "0") == 0)
        return 0;
    if (strcmp(s, "user") == 0)
        return (long)X_CLONE_NEWUSER;
    if (strcmp(s, "high") == 0)
        return 1L << 32;
    return -1;
}

int setns_report(long fd, long nstype, const char *how)
{
    char before[64], after[64];
    ns_link(before, sizeof before);
    long rc = syscall(SYS_setns, fd, nstype);
    int err = rc < 0 ? errno : 0;
    ns_link(after, sizeof after);
    return result(err, strcmp(before, after) != 0, "via=%s nstype=%#lx before=%s after=%s", how,
                  (unsigned long)nstype, before, after);
}

int do_userns_handle(int fd)
{
    struct {
        struct file_handle fh;
        unsigned char bytes[128];
    } h;
    int mount_id;
    h.fh.handle_bytes = sizeof h.bytes;
    if (name_to_handle_at(fd, "", &h.fh, &mount_id, X_AT_EMPTY_PATH) != 0) {
        if (errno == EOPNOTSUPP || errno == EINVAL)
            return skip("this kernel has no nsfs file handles (Linux < 6.18)");
        return result(errno, 0, "step=name_to_handle_at");
    }
    close(fd); /* from here on, the handle's bytes are all the attacker has */
    int nfd = open_by_handle_at(X_FD_NSFS_ROOT, &h.fh, O_RDONLY | O_CLOEXEC);
    if (nfd < 0)
        return result(errno, 0, "step=open_by_handle_at");
    return setns_report(nfd, 0, "nsfs-handle");
}

int do_userns_new(const char *how)
{
    char before[64];
    ns_link(before, sizeof before);
    if (strcmp(how, "unshare") == 0) {
        long rc = unshare(CLONE_NEWUSER);
        int err = rc < 0 ? errno : 0;
        char after[64];
        ns_link(after, sizeof after);
        return result(err, strcmp(before, after) != 0, "before=%s after=%s", before, after);
    }
    long pid;
    if (strcmp(how, "clone") == 0) {
        fflush(stdout);
        pid = syscall(SYS_clone, (unsigned long)(X_CLONE_NEWUSER | SIGCHLD), 0, 0, 0, 0);
    } else {
        struct x_clone_args a;
        memset(&a, 0, sizeof a);
        a.flags = X_CLONE_NEWUSER;
        a.exit_signal = SIGCHLD;
        fflush(stdout);
        pid = syscall(NR_clone3, &a, sizeof a);
    }
    if (pid == 0)
        _exit(0);
    int err = pid < 0 ? errno : 0;
    if (pid > 0)
        waitpid((pid_t)pid, NULL, 0);
    return result(err, pid > 0, "child_in_new_userns=%d", pid > 0);
}

/* ---- mount attributes ---- */

/* "<mount options> | <super options>" of the top mount at dir, from mountinfo. */
static void mount_flags(const char *dir, char *out, size_t size)
{
    char buf[1 << 16];
    snprintf(out, size, "none");
    if (read_file("/proc/self/mountinfo", buf, sizeof buf) < 0)
        return;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char mp[4096], opts[512], sopts[512];
        if (sscanf(line, "%*s %*s %*s %*s %4095s %511s", mp, opts) != 2 || strcmp(mp, dir) != 0)
            continue;
        const char *dash = strstr(line, " - ");
        if (!dash || sscanf(dash, " - %*s %*s %511s", sopts) != 1)
            snprintf(sopts, sizeof sopts, "?");
        snprintf(out, size, "%s|%s", opts, sopts); /* the last match is the top mount */
    }
}

int do_mount(const char *how, const char *dir)
{
    char before[1100], after[1100];
    const char *step = how;
    long rc;
    mount_flags(dir, before, sizeof before);
    const uint64_t clr = X_MOUNT_ATTR_RDONLY | X_MOUNT_ATTR_NOSUID | X_MOUNT_ATTR_NODEV | X_MOUNT_ATTR_NOEXEC;
    if (strcmp(how, "remount-bind") == 0) {
        rc = mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND, NULL);
    } else if (strcmp(how, "remount") == 0) {
        rc = mount(NULL, dir, NULL, MS_REMOUNT, NULL);
    } else if (strcmp(how, "setattr") == 0) {
        struct x_mount_attr a = {0, clr, 0, 0};
        rc = syscall(NR_mount_setattr, AT_FDCWD, dir, 0, &a, sizeof a);
    } else if (strcmp(how, "fsmount") == 0) {
        step = "fsopen";
        rc = syscall(NR_fsopen, "tmpfs", 0);
        long fs = rc;
        if (rc >= 0 && (step = "fsconfig-create", rc = syscall(NR_fsconfig, fs, X_FSCONFIG_CMD_CREATE, NULL, NULL, 0)) >= 0 &&
            (step = "fsmount", rc = syscall(NR_fsmount, fs, 0, 0)) >= 0)
            step = "move_mount", rc = syscall(NR_move_mount, rc, "", AT_FDCWD, dir, X_MOVE_MOUNT_F_EMPTY_PATH);
    } else if (strcmp(how, "fspick") == 0) {
        step = "fspick";
        rc = syscall(NR_fspick, AT_FDCWD, dir, 0);
        long fs = rc;
        if (rc >= 0 && (step = "fsconfig-rw", rc = syscall(NR_fsconfig, fs, X_FSCONFIG_SET_FLAG, "rw", NULL, 0)) >= 0)
            step = "fsconfig-reconfigure", rc = syscall(NR_fsconfig, fs, X_FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0);
    } else if (strcmp(how, "open-tree-attr") == 0) {
        struct x_mount_attr a = {0, clr, 0, 0};
        step = "open_tree_attr";
        rc = syscall(NR_open_tree_attr, AT_FDCWD, dir, X_OPEN_TREE_CLONE, &a, sizeof a);
        if (rc >= 0)
            step = "move_mount", rc = syscall(NR_move_mount, rc, "", AT_FDCWD, dir, X_MOVE_MOUNT_F_EMPTY_PATH);
    } else {
        return usage();
    }
    int err = rc < 0 ? errno : 0;
    mount_flags(dir, after, sizeof after);
    return result(err, strcmp(before, after) != 0, "step=%s before=%s after=%s", step, before, after);
}

/* ---- side doors ---- */

#if defined(__x86_64__)
static long int80(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a), "c"(b), "d"(c)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}
#endif

int do_int80(const char *what, const char *dir)
{
#if defined(__x86_64__)
    char path[4096];
    if (strcmp(what, "chmod") == 0) {
        snprintf(path, sizeof path, "%s/int80-chmod-%d", dir, (int)getpid());
        if (make_plain(path) != 0)
            return result(errno, 0, "step=create");
    }
    int p[2];
    if (pipe(p) != 0)
        return result(errno, 0, "step=pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        long r;
        if (strcmp(what, "getpid") == 0) {
            r = int80(20 /* i386 getpid */, 0, 0, 0);
        } else { /* the path must be addressable with 32 bits */
            char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
            strcpy(low, path);
            r = int80(15 /* i386 chmod */, (long)(uintptr_t)low, 04755, 0);
        }
        (void)!write(p[1], &r, sizeof r);
        _exit(0);
    }
    close(p[1]);
    long r = 0;
    ssize_t n = read(p[0], &r, sizeof r);
    int st;
    waitpid(pid, &st, 0);
    if (n != sizeof r && WIFSIGNALED(st))
        return skip("int $0x80 faults: IA-32 emulation is off in this kernel (no i386 syscall can run)");
    int err = r < 0 && r > -4096 ? (int)-r : 0;
    if (strcmp(what, "getpid") == 0)
        return result(err, r > 0, "ret=%ld", r);
    struct stat sb;
    int has = stat(path, &sb) == 0 && (sb.st_mode & S_ISUID);
    return result(err, has, "path=%s", path);
#else
    (void)what;
    (void)dir;
    return skip("int $0x80 is x86 only");
#endif
}

