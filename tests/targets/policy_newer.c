/*
 * policy_newer.c - `policy_cases newer`: the syscalls after the RFC under a policy, one
 * transcript line each (exit 0). A probe of setxattrat, getxattrat, open_tree_attr,
 * file_getattr and file_setattr (dfd -1, NULL path: nothing can be looked up); Landlock's
 * ABI version query; a 16-byte landlock_ruleset_attr using handled_access_net (ABI 4); an
 * 8-byte one (ABI 1). The rulesets made are closed at once and never enforced.
 */
#include "policy_cases.h"

#include "newer_syscalls.h"
#define X_LANDLOCK_VERSION 1UL
#define X_LANDLOCK_FS_READ_FILE 0x4ULL
#define X_LANDLOCK_NET_BIND_TCP 0x1ULL

static void report(const char *what, long r, int is_fd) {
    if (r < 0)
        printf("%s -> %s\n", what, ename((int)-r));
    else if (is_fd)
        printf("%s -> fd\n", what), close((int)r);
    else
        printf("%s -> %ld\n", what, r);
}

int cmd_newer(void) {
    uint64_t buf[8];
    memset(buf, 0, sizeof buf);
    report("setxattrat probe", sc(syscall(SYS_setxattrat, -1, NULL, 0, NULL, buf, CHECK_FIELDS | 16)), 0);
    report("getxattrat probe", sc(syscall(SYS_getxattrat, -1, NULL, 0, NULL, buf, CHECK_FIELDS | 16)), 0);
    report("open_tree_attr probe", sc(syscall(SYS_open_tree_attr, -1, NULL, 0, buf, CHECK_FIELDS | 32)), 0);
    report("file_getattr probe", sc(syscall(SYS_file_getattr, -1, NULL, buf, CHECK_FIELDS | 24, 0)), 0);
    report("file_setattr probe", sc(syscall(SYS_file_setattr, -1, NULL, buf, CHECK_FIELDS | 24, 0)), 0);
    report("landlock version", sc(syscall(SYS_landlock_create_ruleset, NULL, 0UL, X_LANDLOCK_VERSION)), 0);
    uint64_t attr[2] = {X_LANDLOCK_FS_READ_FILE, X_LANDLOCK_NET_BIND_TCP};
    report("landlock 16-byte with net", sc(syscall(SYS_landlock_create_ruleset, attr, 16UL, 0UL)), 1);
    report("landlock 8-byte", sc(syscall(SYS_landlock_create_ruleset, attr, 8UL, 0UL)), 1);
    return 0;
}
