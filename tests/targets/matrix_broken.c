// SPDX-License-Identifier: MIT
// matrix_broken.c - examples/cached_open.c without its fallbacks, for the
// matrix tests: RESOLVE_CACHED unconditionally, so it fails (exit 1) on
// every kernel before 5.12 - EINVAL for the flag from 5.6, ENOSYS before.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef RESOLVE_CACHED
#define RESOLVE_CACHED 0x20
#endif

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "/etc/hostname";
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
