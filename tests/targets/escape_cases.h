/*
 * escape_cases.h - what the parts of escape_cases share (see escape_cases.c for the
 * subcommands and their output).
 */
#ifndef EXTSYS_ESCAPE_CASES_H
#define EXTSYS_ESCAPE_CASES_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* Raw syscall numbers (asm-generic, shared by x86_64 and aarch64 from 424 on). */
#define NR_pidfd_send_signal 424
#define NR_io_uring_setup 425
#define NR_open_tree 428
#define NR_move_mount 429
#define NR_fsopen 430
#define NR_fsconfig 431
#define NR_fsmount 432
#define NR_fspick 433
#define NR_pidfd_open 434
#define NR_clone3 435
#define NR_pidfd_getfd 438
#define NR_mount_setattr 442
#define NR_fchmodat2 452
#define NR_open_tree_attr 467

#define X_CLONE_NEWUSER 0x10000000ULL
#define X_O_TMPFILE (020000000 | O_DIRECTORY)
#define X_AT_EMPTY_PATH 0x1000
#define X_FD_NSFS_ROOT (-10003)
#define X_MOUNT_ATTR_RDONLY 0x1ULL
#define X_MOUNT_ATTR_NOSUID 0x2ULL
#define X_MOUNT_ATTR_NODEV 0x4ULL
#define X_MOUNT_ATTR_NOEXEC 0x8ULL
#define X_FSCONFIG_SET_FLAG 0
#define X_FSCONFIG_CMD_CREATE 6
#define X_FSCONFIG_CMD_RECONFIGURE 7
#define X_OPEN_TREE_CLONE 1
#define X_MOVE_MOUNT_F_EMPTY_PATH 0x4
#define X_VFS_CAP_REVISION_2 0x02000000
#define X_VFS_CAP_FLAGS_EFFECTIVE 0x1
#define X_CAP_NET_RAW 13

struct x_mount_attr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
};
struct x_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};


/* escape_cases.c: output and helpers */
extern const char *g_attack;
const char *ename(int e);
/* RESULT <attack> errno=<err> effect=<effect> [fmt...]; returns 0 */
int result(int err, int effect, const char *fmt, ...);
int skip(const char *reason); /* SKIP <attack> <reason>; returns 77 */
int usage(void);
void sleep_ms(int ms);
ssize_t read_file(const char *path, char *buf, size_t size);
char proc_state(pid_t pid);
pid_t target(const char *spec);

/* escape_process.c: processes outside the sandboxed tree, the terminal */
int do_ptrace_inject(pid_t pid);
int do_vm(pid_t pid, int write_back);
int do_proc_mem(pid_t pid);
int do_pidfd_getfd(pid_t pid);
int do_signal(pid_t pid, const char *route);
int do_prlimit(pid_t pid);
int do_abstract(const char *name, int type);
int do_tiocsti(void);

/* escape_files.c: set-id files, user namespaces, mounts, the i386 ABI */
int make_plain(const char *path);
int do_setid(const char *kind, const char *dir, const char *bitname);
long nstype_arg(const char *s);
int setns_report(long fd, long nstype, const char *how);
int do_userns_handle(int fd);
int do_userns_new(const char *how);
int do_mount(const char *how, const char *dir);
int do_int80(const char *what, const char *dir);

#endif
