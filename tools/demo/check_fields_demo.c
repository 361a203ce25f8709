/*
 * check_fields_demo.c - how a CHECK_FIELDS-aware program discovers what the kernel supports.
 *
 * For openat2, clone3 and mount_setattr it passes a zeroed struct with the size argument
 * "sizeof(struct) | CHECK_FIELDS" (bit 63). A kernel (or `extsys run`) that implements the
 * RFC answers with errno EEXTSYS_NOOP and fills the struct with every supported bit; a
 * field that is all ones means "this field exists". Values below are the x86_64 /
 * asm-generic ones. The expected errno comes from EXTSYS_PROBE_ERRNO (default 134).
 *
 * Build: gcc -std=gnu11 -O2 -o check_fields_demo check_fields_demo.c
 * Exit status: 0 if all three probes were answered, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef CHECK_FIELDS
#define CHECK_FIELDS (1ULL << 63)
#endif

/* The kernel's O_LARGEFILE (glibc's is 0 on 64-bit); O_DIRECT, O_DIRECTORY
 * and O_NOFOLLOW are glibc's, which are the kernel's for each architecture
 * (arm64 and powerpc renumber all four). */
#if defined(__aarch64__) || defined(__arm__)
#define KERNEL_O_LARGEFILE 0x20000
#elif defined(__powerpc__)
#define KERNEL_O_LARGEFILE 0x10000
#else
#define KERNEL_O_LARGEFILE 0x8000
#endif

struct bit { uint64_t mask; const char *name; };
#define B(m, n) {(uint64_t)(m), n}
static const struct bit OPEN_BITS[] = {
    B(0x1, "O_WRONLY"), B(0x2, "O_RDWR"), B(0x40, "O_CREAT"), B(0x80, "O_EXCL"),
    B(0x100, "O_NOCTTY"), B(0x200, "O_TRUNC"), B(0x400, "O_APPEND"), B(0x800, "O_NONBLOCK"),
    B(0x1000, "O_DSYNC"), B(0x2000, "FASYNC"), B(O_DIRECT, "O_DIRECT"),
    B(KERNEL_O_LARGEFILE, "O_LARGEFILE"), B(O_DIRECTORY, "O_DIRECTORY"),
    B(O_NOFOLLOW, "O_NOFOLLOW"), B(0x40000, "O_NOATIME"),
    B(0x80000, "O_CLOEXEC"), B(0x100000, "__O_SYNC"), B(0x200000, "O_PATH"),
    B(0x400000, "__O_TMPFILE"), B(0x4000000, "O_EMPTYPATH"), B(1ULL << 32, "OPENAT2_REGULAR"), {0, 0}};
static const struct bit RESOLVE_BITS[] = {
    B(0x1, "RESOLVE_NO_XDEV"), B(0x2, "RESOLVE_NO_MAGICLINKS"), B(0x4, "RESOLVE_NO_SYMLINKS"),
    B(0x8, "RESOLVE_BENEATH"), B(0x10, "RESOLVE_IN_ROOT"), B(0x20, "RESOLVE_CACHED"), {0, 0}};
static const struct bit CLONE_BITS[] = {
    B(0x7f, "CSIGNAL(0x7f)"), B(0x80, "CLONE_NEWTIME"), B(0x100, "CLONE_VM"), B(0x200, "CLONE_FS"),
    B(0x400, "CLONE_FILES"), B(0x800, "CLONE_SIGHAND"), B(0x1000, "CLONE_PIDFD"),
    B(0x2000, "CLONE_PTRACE"), B(0x4000, "CLONE_VFORK"), B(0x8000, "CLONE_PARENT"),
    B(0x10000, "CLONE_THREAD"), B(0x20000, "CLONE_NEWNS"), B(0x40000, "CLONE_SYSVSEM"),
    B(0x80000, "CLONE_SETTLS"), B(0x100000, "CLONE_PARENT_SETTID"),
    B(0x200000, "CLONE_CHILD_CLEARTID"), B(0x400000, "CLONE_DETACHED"),
    B(0x800000, "CLONE_UNTRACED"), B(0x1000000, "CLONE_CHILD_SETTID"),
    B(0x2000000, "CLONE_NEWCGROUP"), B(0x4000000, "CLONE_NEWUTS"), B(0x8000000, "CLONE_NEWIPC"),
    B(0x10000000, "CLONE_NEWUSER"), B(0x20000000, "CLONE_NEWPID"), B(0x40000000, "CLONE_NEWNET"),
    B(0x80000000, "CLONE_IO"), B(1ULL << 32, "CLONE_CLEAR_SIGHAND"), B(1ULL << 33, "CLONE_INTO_CGROUP"),
    B(1ULL << 34, "CLONE_AUTOREAP"), B(1ULL << 35, "CLONE_NNP"), B(1ULL << 36, "CLONE_PIDFD_AUTOKILL"),
    B(1ULL << 37, "CLONE_EMPTY_MNTNS"), {0, 0}};
static const struct bit MOUNT_BITS[] = {
    B(0x1, "MOUNT_ATTR_RDONLY"), B(0x2, "MOUNT_ATTR_NOSUID"), B(0x4, "MOUNT_ATTR_NODEV"),
    B(0x8, "MOUNT_ATTR_NOEXEC"), B(0x70, "MOUNT_ATTR__ATIME"), B(0x80, "MOUNT_ATTR_NODIRATIME"),
    B(0x100000, "MOUNT_ATTR_IDMAP"), B(0x200000, "MOUNT_ATTR_NOSYMFOLLOW"), {0, 0}};
static const struct bit PROPAGATION_BITS[] = {
    B(1 << 17, "MS_UNBINDABLE"), B(1 << 18, "MS_PRIVATE"), B(1 << 19, "MS_SLAVE"),
    B(1 << 20, "MS_SHARED"), {0, 0}};

static int probe_errno = 134;

/* "  label        0x%016llx  NAME NAME ..." with the names wrapped under each other */
static void field(const char *label, uint64_t v, const struct bit *bits, const char *note) {
    int col = printf("  %-13s0x%016llx  ", label, (unsigned long long)v);
    const int indent = col, width = 92;
    uint64_t rest = v;
    char extra[48];
    if (note) {
        printf("%s\n", note);
        return;
    }
    for (const struct bit *b = bits; b && b->name; b++) {
        if ((rest & b->mask) != b->mask)
            continue;
        rest &= ~b->mask;
        if (col > indent && col + 1 + (int)strlen(b->name) > width) {
            printf("\n%*s", indent, "");
            col = indent;
        }
        col += printf("%s%s", col > indent ? " " : "", b->name);
    }
    if (rest) {
        snprintf(extra, sizeof extra, "(unknown bits 0x%llx)", (unsigned long long)rest);
        if (col > indent && col + 1 + (int)strlen(extra) > width)
            printf("\n%*s", indent, ""), col = indent;
        printf("%s%s", col > indent ? " " : "", extra);
    }
    if (!v)
        printf("(none)");
    printf("\n");
}

/* Returns 1 if the probe was answered. */
static int report(const char *name, const char *sname, long ret, int err, size_t size) {
    printf("%s  (struct %s, %zu bytes, size argument 0x%llx)\n", name, sname, size,
           (unsigned long long)(size | CHECK_FIELDS));
    if (ret >= 0) {
        printf("  !! the call SUCCEEDED (returned %ld): it was executed as an ordinary call,\n"
               "     nothing here understood CHECK_FIELDS\n\n", ret);
        return 0;
    }
    if (err == probe_errno) {
        printf("  answered: errno %d (EEXTSYS_NOOP) - supported bits follow\n", err);
        return 1;
    }
    if (err == E2BIG)
        printf("  E2BIG: this kernel has no CHECK_FIELDS (it saw a huge struct size);\n"
               "         run me under `extsys run` to get the answer\n\n");
    else if (err == ENOSYS)
        printf("  ENOSYS: syscall missing (kernel too old, or hidden by a seccomp policy)\n\n");
    else if (err == EPERM)
        printf("  EPERM: the call was blocked (seccomp or LSM policy?)\n\n");
    else if (err == EFAULT)
        printf("  EFAULT: the answer could not be written to our buffer\n\n");
    else if (err == EINVAL)
        printf("  EINVAL: the probe was rejected as invalid (size or flags argument)\n\n");
    else
        printf("  errno %d (%s): not a known answer; if your CHECK_FIELDS implementation uses\n"
               "  this errno, set EXTSYS_PROBE_ERRNO=%d\n\n", err, strerror(err), err);
    return 0;
}

/* the kernel zeroes what it does not know, so the last non-zero field ends its struct */
static void known_size(const uint64_t *s, int nfields, const char *how) {
    int last = -1;
    for (int i = 0; i < nfields; i++)
        if (s[i])
            last = i;
    printf("  => struct size known to the kernel: %d bytes%s\n\n", (last + 1) * 8, how);
}

int main(void) {
    const char *pe = getenv("EXTSYS_PROBE_ERRNO");
    int answered = 0;
    long r;
    if (pe && *pe)
        probe_errno = atoi(pe);
    printf("CHECK_FIELDS demo: each probe passes a zeroed struct with bit 63 set in its size.\n"
           "An answered probe fails with errno %d (EEXTSYS_NOOP) after filling in the struct.\n\n",
           probe_errno);

    /* openat2(dfd, path, how, size): dfd and path are not looked at by a probe */
    uint64_t how[3] = {0};
    errno = 0;
    r = syscall(SYS_openat2, AT_FDCWD, "", how, (unsigned long)(sizeof how | CHECK_FIELDS));
    if (r >= 0)
        close((int)r);
    if (report("openat2", "open_how", r, errno, sizeof how)) {
        answered++;
        field("flags", how[0], OPEN_BITS, NULL);
        char m[64];
        snprintf(m, sizeof m, "mode bits 0%llo%s", (unsigned long long)how[1],
                 how[1] == 07777 ? " (S_ISUID|S_ISGID|S_ISVTX|0777)" : "");
        field("mode", how[1], NULL, m);
        field("resolve", how[2], RESOLVE_BITS, NULL);
        known_size(how, 3, "");
    }

    /* clone3(args, size): no process is created by a probe */
    static const char *cf[11] = {"flags", "pidfd", "child_tid", "parent_tid", "exit_signal",
                                 "stack", "stack_size", "tls", "set_tid", "set_tid_size", "cgroup"};
    uint64_t ca[11] = {0};
    errno = 0;
    fflush(stdout);
    r = syscall(SYS_clone3, ca, (unsigned long)(sizeof ca | CHECK_FIELDS));
    if (r == 0)
        _exit(0);                           /* cannot happen with bit 63 set; be safe */
    if (r > 0)
        waitpid((pid_t)r, NULL, 0);
    if (report("clone3", "clone_args", r, errno, sizeof ca)) {
        answered++;
        field("flags", ca[0], CLONE_BITS, NULL);
        for (int i = 1; i < 11; i++)
            field(cf[i], ca[i], NULL,
                  i == 4 ? (ca[i] ? "CSIGNAL: any exit signal number that fits 0xff"
                                  : "not known to this kernel")
                         : ca[i] == ~0ULL ? "all ones: field known" : "zero: field not known");
        known_size(ca, 11, " (up to the last all-ones field)");
    }

    /* mount_setattr(dfd, path, flags, attr, size): checked before any privilege check */
    uint64_t ma[4] = {0};
    errno = 0;
    r = syscall(SYS_mount_setattr, -1, "", 0, ma, (unsigned long)(sizeof ma | CHECK_FIELDS));
    if (report("mount_setattr", "mount_attr", r, errno, sizeof ma)) {
        answered++;
        field("attr_set", ma[0], MOUNT_BITS, NULL);
        field("attr_clr", ma[1], MOUNT_BITS, NULL);
        field("propagation", ma[2], PROPAGATION_BITS, NULL);
        field("userns_fd", ma[3], NULL, ma[3] == ~0ULL ? "all ones: field known" : "zero: not known");
        known_size(ma, 4, "");
    }

    printf("%d of 3 probes answered.%s\n", answered,
           answered == 3 ? "" : " (E2BIG everywhere means: no CHECK_FIELDS here; try `extsys run`)");
    return answered == 3 ? 0 : 1;
}
