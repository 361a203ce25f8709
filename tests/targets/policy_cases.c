/*
 * policy_cases.c - test target for extsys policies (personas, restrict, strict sandbox):
 * does a program that believes its CHECK_FIELDS answers get exactly what it was told, and
 * nothing more?  Expected values: src/kernel/abi/CHECK_FIELDS.md and
 * src/kernel/features/VERSIONS.md.
 *
 *   policy_cases told                 the three probes, one machine-readable line each, exit 0
 *   policy_cases use-told             use every advertised bit, one at a time: exit 0 / 1
 *   policy_cases use-more             use every known bit NOT advertised: expect EINVAL
 *                                     (EXTSYS_DENY_ERRNO), E2BIG for a larger clone3: 0 / 1
 *   policy_cases race SECONDS clone3|openat2   flip a forbidden value under the call: 0 / 1
 *   policy_cases race-legacy SECONDS  clone(2) / unshare(2) with CLONE_NEWUSER: 0 / 1
 *   policy_cases sidedoors            io_uring_setup and the compat ABIs: i386 int $0x80 and
 *                                     x32 on x86_64, an AArch32 program on aarch64 (each in a
 *                                     child); EXTSYS_EXPECT_SIDEDOORS=closed: exit 0 only if all
 *                                     are closed: ENOSYS, or for i386 a SIGSEGV (int $0x80
 *                                     faults when IA-32 emulation is off: no syscall ran), for
 *                                     AArch32 ENOEXEC (the kernel runs no 32-bit programs)
 *   policy_cases legacy               transcript of legacy calls, exit 0
 *   policy_cases undumpable           PR_SET_DUMPABLE 0, then openat2(".", O_DIRECTORY): prints
 *                                     "openat2 -> ok" or "openat2 -> ENAME", exit 0
 *   policy_cases newer                transcript of the syscalls after the RFC, exit 0
 *
 * Lines of use-told/use-more: "ok|FAIL|skip SYSCALL FIELD NAME -> RESULT", "note ...", then
 * "summary ok=N fail=N skip=N".  Usage errors exit 2.
 * Environment: EXTSYS_PROBE_ERRNO (134), EXTSYS_DENY_ERRNO (EINVAL), EXTSYS_EXPECT_SIDEDOORS.
 * Every syscall under test is made with raw syscall(); constants are the kernel's raw values
 * for the architecture built for (policy_cases.h).
 */
#include "policy_cases.h"

#include <sys/prctl.h>

/* A restricted call from a process the supervisor may not read (as a
 * non-dumpable program is for an unprivileged supervisor). */
static int cmd_undumpable(void) {
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        return perror("policy_cases: PR_SET_DUMPABLE"), 1;
    uint64_t how[3] = {X_O_RDONLY | X_O_DIRECTORY | X_O_CLOEXEC, 0, 0};
    long fd = syscall(SYS_openat2, AT_FDCWD, ".", how, sizeof how);
    if (fd >= 0) {
        close((int)fd);
        printf("openat2 -> ok\n");
    } else {
        printf("openat2 -> %s\n", strerrorname_np(errno));
    }
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: policy_cases told | use-told | use-more | race SECONDS "
                    "clone3|openat2 | race-legacy SECONDS | sidedoors | legacy | undumpable | newer\n");
    return 2;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_probe_errno = env_errno("EXTSYS_PROBE_ERRNO", 134);
    g_deny_errno = env_errno("EXTSYS_DENY_ERRNO", EINVAL);
    if (argc < 2)
        return usage();
    const char *c = argv[1];
    if (argc == 2 && strcmp(c, "told") == 0)
        return cmd_told();
    if (argc == 2 && strcmp(c, "use-told") == 0)
        return cmd_use_told();
    if (argc == 2 && strcmp(c, "use-more") == 0)
        return cmd_use_more();
    if (argc == 4 && strcmp(c, "race") == 0)
        return cmd_race(parse_secs(argv[2]), argv[3]);
    if (argc == 3 && strcmp(c, "race-legacy") == 0)
        return cmd_race_legacy(parse_secs(argv[2]));
    if (argc == 2 && strcmp(c, "sidedoors") == 0)
        return cmd_sidedoors();
    if (argc == 2 && strcmp(c, "legacy") == 0)
        return cmd_legacy();
    if (argc == 2 && strcmp(c, "undumpable") == 0)
        return cmd_undumpable();
    if (argc == 2 && strcmp(c, "newer") == 0)
        return cmd_newer();
    return usage();
}
