/*
 * policy_legacy.c - policy_cases sidedoors and legacy: the routes around a
 * strict policy (io_uring, and the compat ABIs: i386 and x32 on x86_64,
 * AArch32 on aarch64), each tried in a child, and a transcript of the legacy
 * calls strict mode checks in BPF.
 */
#include "policy_cases.h"

/* ---- side doors: each attempt in a child, so a seccomp kill is reported, not suffered ---- */
enum { D_URING, D_I386, D_X32, D_AARCH32 };

#if defined(__aarch64__)
/* An AArch32 program (ARM state, EABI 5) that calls getpid (r7 = 20,
 * svc #0) and exits 38 if that failed with ENOSYS, else 0 (and raises
 * SIGILL when exit(2) fails too, as it does when the ABI is closed): a 32-bit task
 * the inherited filter sees with AUDIT_ARCH_ARM. Built here as a 116-byte
 * ELF and executed from a memfd, so that no 32-bit toolchain is needed. */
static const uint32_t A32_CODE[] = {
    0xe3a07014, /* mov   r7, #20      getpid */
    0xef000000, /* svc   #0 */
    0xe3700026, /* cmn   r0, #38      r0 == -ENOSYS? */
    0x03a00026, /* moveq r0, #38 */
    0x13a00000, /* movne r0, #0 */
    0xe3a07001, /* mov   r7, #1       exit */
    0xef000000, /* svc   #0 */
    0xe7f000f0, /* udf   #0           exit refused too (the ABI is closed): SIGILL */
};

static void put16(unsigned char *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }

/* -ENOSYS: the door is closed; > 0: the 32-bit getpid worked; -ENOEXEC: this
 * kernel or CPU runs no AArch32 code at all (no door). */
static long door_aarch32(void) {
    enum { EH = 52, PH = 32, VADDR = 0x10000 };
    unsigned char elf[EH + PH + sizeof A32_CODE] = {0x7f, 'E', 'L', 'F', 1 /* 32-bit */,
                                                   1 /* LE */, 1 /* version */};
    const uint32_t size = (uint32_t)sizeof elf;
    put16(elf + 16, 2);                       /* e_type ET_EXEC */
    put16(elf + 18, 40);                      /* e_machine EM_ARM */
    put32(elf + 20, 1);                       /* e_version */
    put32(elf + 24, VADDR + EH + PH);         /* e_entry: the code, ARM state */
    put32(elf + 28, EH);                      /* e_phoff */
    put32(elf + 36, 0x05000000);              /* e_flags: EABI version 5 */
    put16(elf + 40, EH);                      /* e_ehsize */
    put16(elf + 42, PH);                      /* e_phentsize */
    put16(elf + 44, 1);                       /* e_phnum */
    unsigned char *ph = elf + EH;
    put32(ph + 0, 1);                         /* PT_LOAD */
    put32(ph + 4, 0);                         /* p_offset */
    put32(ph + 8, VADDR);                     /* p_vaddr */
    put32(ph + 12, VADDR);                    /* p_paddr */
    put32(ph + 16, size);                     /* p_filesz */
    put32(ph + 20, size);                     /* p_memsz */
    put32(ph + 24, 5);                        /* PF_R | PF_X */
    put32(ph + 28, 0x1000);                   /* p_align */
    memcpy(elf + EH + PH, A32_CODE, sizeof A32_CODE);
    int fd = (int)sc(syscall(SYS_memfd_create, "policy_cases-a32", 0UL));
    if (fd < 0)
        return fd;
    if (write(fd, elf, sizeof elf) != (ssize_t)sizeof elf) {
        close(fd);
        return -EIO;
    }
    pid_t p = raw_fork(SIGCHLD);
    if (p == 0) {
        char *argv[] = {"a32-getpid", NULL}, *envp[] = {NULL};
        fexecve(fd, argv, envp);
        _exit(errno == ENOEXEC ? 100 : 101);
    }
    close(fd);
    if (p < 0)
        return p;
    int st = reap(p, -1);
    if (st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGILL)
        return -ENOSYS; /* not even exit(2) got through: every AArch32 call is refused */
    if (st == -1 || !WIFEXITED(st))
        return -ECHILD;
    switch (WEXITSTATUS(st)) {
    case 0: return 1;
    case 38: return -ENOSYS;
    case 100: return -ENOEXEC;
    default: return -EIO;
    }
}
#endif

static long door(int which) {
    if (which == D_URING) {
        uint64_t params[15] = {0};                     /* struct io_uring_params: 120 bytes */
        long r = sc(syscall(SYS_io_uring_setup, 1UL, params));
        if (r >= 0)
            close((int)r);
        return r;
    }
#if defined(__aarch64__)
    if (which == D_AARCH32)
        return door_aarch32();
#endif
    if (which == D_X32)
        return sc(syscall(0x40000000L | 39));         /* __X32_SYSCALL_BIT | getpid */
#if defined(__x86_64__)
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "cc", "r8", "r9", "r10",
                     "r11");
    return (int)ret;                                  /* i386 getpid; eax is 32 bits */
#else
    return -ENOSYS;
#endif
}

static int try_door(int which, const char *name, int *uring_ok) {
    int fds[2], st = 0;
    long res = 0;
    if (pipe(fds) != 0) {
        perror("policy_cases: pipe");
        exit(2);
    }
    pid_t p = raw_fork(SIGCHLD);
    if (p == 0) {
        long r = door(which);
        if (write(fds[1], &r, sizeof r) != (ssize_t)sizeof r)
            _exit(3);
        _exit(0);
    }
    close(fds[1]);
    ssize_t n = p < 0 ? 0 : read(fds[0], &res, sizeof res);
    close(fds[0]);
    if (p < 0) {
        printf("%s -> cannot fork: %s\n", name, ename((int)-p));
        return 0;
    }
    st = reap(p, -1);
    if (n == (ssize_t)sizeof res && which == D_AARCH32 && res == -ENOEXEC) {
        /* the kernel refuses 32-bit programs (no AArch32 EL0): no such ABI here */
        printf("%s -> ENOEXEC (no AArch32 support: door closed)\n", name);
        return 1;
    }
    if (n != (ssize_t)sizeof res) {
        if (which == D_I386 && st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV) {
            /* int $0x80 faults (#GP) when IA-32 emulation is off: no syscall happened */
            printf("%s -> SIGSEGV (no IA-32 emulation: door closed)\n", name);
            return 1;
        }
        if (st != -1 && WIFSIGNALED(st))
            printf("%s -> killed by signal %d (%s)\n", name, WTERMSIG(st),
                   WTERMSIG(st) == SIGSYS ? "SIGSYS" : "not ENOSYS");
        else
            printf("%s -> no result (wait status %d)\n", name, st);
        return 0;
    }
    if (res >= 0) {
        if (which == D_URING)
            *uring_ok = 1;
        printf("%s -> %s%ld (allowed)\n", name, which == D_URING ? "fd " : "", res);
        return 0;
    }
    printf("%s -> %s\n", name, ename((int)-res));
    return res == -ENOSYS;
}

int cmd_sidedoors(void) {
    const char *ex = getenv("EXTSYS_EXPECT_SIDEDOORS");
    int uring_ok = 0, closed = 0;
    if (ex && *ex && strcmp(ex, "closed") != 0 && strcmp(ex, "open") != 0) {
        fprintf(stderr, "policy_cases: EXTSYS_EXPECT_SIDEDOORS must be closed or open\n");
        return 2;
    }
    int doors = 1;
    closed += try_door(D_URING, "io_uring_setup", &uring_ok);
#if defined(__x86_64__)
    closed += try_door(D_I386, "i386 getpid", &uring_ok);
    closed += try_door(D_X32, "x32 getpid", &uring_ok);
    doors += 2;
#elif defined(__aarch64__)
    closed += try_door(D_AARCH32, "AArch32 getpid", &uring_ok);
    doors += 1;
#endif
    printf("summary closed=%d/%d io_uring=%s\n", closed, doors, uring_ok ? "succeeded" : "failed");
    return ex && strcmp(ex, "closed") == 0 && closed != doors ? 1 : 0;
}

/* ---- legacy transcript ---- */
static void legacy_clone(const char *name, unsigned long flags) {
    pid_t p = raw_fork(flags);
    if (p == 0)
        child_exit();
    if (p < 0) {
        printf("%s -> %s\n", name, ename((int)-p));
        return;
    }
    int st = reap(p, -1);
    if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) <= 1)
        printf("%s -> ok (child reaped%s)\n", name,
               WEXITSTATUS(st) ? ", in a new user namespace" : "");
    else if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) >= 100)
        printf("%s -> %s\n", name, ename(WEXITSTATUS(st) - 100));
    else
        printf("%s -> ok (child wait status %d)\n", name, st);
}

static void legacy_fd(const char *name, long r) {
    r = sc(r);
    if (r >= 0) {
        printf("%s -> fd\n", name);
        close((int)r);
    } else
        printf("%s -> %s\n", name, ename((int)-r));
}

int cmd_legacy(void) {
    char tmp[] = "/tmp/policy_cases.XXXXXX";
    int fd = mkstemp(tmp);
    long r;
    read_userns(g_userns, sizeof g_userns);
    g_ns_check = 1;
    legacy_clone("clone SIGCHLD", SIGCHLD);
    legacy_clone("clone CLONE_NEWUSER|SIGCHLD", SIGCHLD | X_CLONE_NEWUSER);
    pid_t p = raw_fork(SIGCHLD);
    if (p == 0) {
        r = sc(syscall(SYS_unshare, (unsigned long)X_CLONE_NEWUSER));
        if (r < 0)
            _exit(r < -150 ? 250 : 100 + (int)-r);
        child_exit();
    }
    if (p < 0)
        printf("unshare CLONE_NEWUSER -> cannot fork: %s\n", ename((int)-p));
    else {
        int st = reap(p, -1);
        if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) >= 100)
            printf("unshare CLONE_NEWUSER -> %s\n", ename(WEXITSTATUS(st) - 100));
        else
            printf("unshare CLONE_NEWUSER -> %s\n", st != -1 && WIFEXITED(st) &&
                   WEXITSTATUS(st) == 1 ? "ok (new user namespace)" : "ok (same namespace?)");
    }
    legacy_fd("openat . O_RDONLY|O_DIRECTORY",
              syscall(SYS_openat, AT_FDCWD, ".", (unsigned long)X_O_DIRECTORY, 0UL));
#ifdef SYS_open
    legacy_fd("open . O_RDONLY|O_DIRECTORY",
              syscall(SYS_open, ".", (unsigned long)X_O_DIRECTORY, 0UL));
#endif
    if (fd >= 0) {
        close(fd);
        legacy_fd("openat tmpfile O_RDWR",
                  syscall(SYS_openat, AT_FDCWD, tmp, (unsigned long)X_O_RDWR, 0UL));
        unlink(tmp);
    } else
        printf("openat tmpfile O_RDWR -> cannot create the file: %s\n", ename(errno));
    r = sc(syscall(SYS_mount, NULL, "/nonexistent/policy_cases", NULL,
                   X_MS_RDONLY | X_MS_REMOUNT | X_MS_BIND, NULL));
    printf("mount MS_RDONLY|MS_REMOUNT|MS_BIND /nonexistent -> %s\n",
           r < 0 ? ename((int)-r) : "success");
    r = sc(syscall(SYS_mount, NULL, "/nonexistent/policy_cases", NULL, X_MS_REMOUNT, NULL));
    printf("mount MS_REMOUNT /nonexistent -> %s\n", r < 0 ? ename((int)-r) : "success");
    r = sc(syscall(SYS_fsmount, -1, 0UL, (unsigned long)X_MOUNT_ATTR_RDONLY));
    if (r >= 0)
        close((int)r);
    printf("fsmount -1 0 MOUNT_ATTR_RDONLY -> %s\n", r < 0 ? ename((int)-r) : "success");
    return 0;
}
