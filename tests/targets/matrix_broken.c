// SPDX-License-Identifier: MIT
// matrix_broken.c - tools/examples/cached_open.c without its fallbacks, for the
// matrix tests: RESOLVE_CACHED unconditionally, so it fails (exit 1) on
// every kernel before 5.12 - EINVAL for the flag from 5.6, ENOSYS before.
// `matrix_broken clone-newtime`: a clone3 with CLONE_NEWTIME; prints
// "child" or the error (a persona older than 5.6 must answer EINVAL).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef RESOLVE_CACHED
#define RESOLVE_CACHED 0x20
#endif

#ifndef SYS_clone3
#define SYS_clone3 435
#endif

static int cloneNewtime(void) {
  uint64_t args[8] = {0x80 /* CLONE_NEWTIME */, 0, 0, 0, SIGCHLD, 0, 0, 0};
  long rc = syscall(SYS_clone3, args, sizeof args);
  if (rc == 0)
    _exit(0);
  if (rc > 0) {
    waitpid((pid_t)rc, NULL, 0);
    printf("child\n");
  } else {
    printf("%s\n", strerror(errno));
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "clone-newtime") == 0)
    return cloneNewtime();
  const char *path = argc > 1 ? argv[1] : ".";
  struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_CACHED};
  long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  if (fd < 0 && errno == EAGAIN) {  // not cached: the slow lookup
    how.resolve = 0;
    fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  }
  if (fd < 0) {
    fprintf(stderr, "matrix_broken: openat2 RESOLVE_CACHED: %s\n", strerror(errno));
    return 1;
  }
  printf("openat2 RESOLVE_CACHED: opened\n");
  return 0;
}
