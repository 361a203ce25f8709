// SPDX-License-Identifier: MIT
// cached_open.c - open a file with RESOLVE_CACHED (5.12: a path lookup that
// never blocks) where the kernel has it, and fall back where it does not:
// openat2 without it (5.6-5.11), plain openat (before 5.6). It asks with a
// CHECK_FIELDS probe first and, where the kernel cannot answer probes, tries
// the call. Prints the path it took. README.md, "Test your fallbacks on
// every kernel", runs it under `extsys matrix`.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef RESOLVE_CACHED
#define RESOLVE_CACHED 0x20
#endif
#define CHECK_FIELDS (1ULL << 63) /* the proposal: bit 63 of the size */
#define EEXTSYS_NOOP 134          /* a probe's answer */

static long openat2_(const char *path, struct open_how *how, uint64_t size) {
  return syscall(SYS_openat2, AT_FDCWD, path, how, size);
}

static int open_fast(const char *path, const char **took) {
  struct open_how how = {0};
  if (openat2_(path, &how, sizeof how | CHECK_FIELDS) < 0 && errno == ENOSYS) {
    *took = "openat";  // no openat2 (before 5.6)
    return openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  }
  // EEXTSYS_NOOP: `how` says what the kernel accepts. Anything else (E2BIG):
  // no CHECK_FIELDS, so try the flag and let the call say.
  const int cached = errno != EEXTSYS_NOOP || (how.resolve & RESOLVE_CACHED);
  how = (struct open_how){.flags = O_RDONLY | O_CLOEXEC, .resolve = cached ? RESOLVE_CACHED : 0};
  long fd = openat2_(path, &how, sizeof how);
  *took = cached ? "openat2 RESOLVE_CACHED" : "openat2";
  if (fd < 0 && cached && (errno == EAGAIN || errno == EINVAL)) {
    // EAGAIN: not in the cache; EINVAL: no RESOLVE_CACHED after all.
    *took = errno == EAGAIN ? "openat2 RESOLVE_CACHED, then uncached" : "openat2";
    how.resolve = 0;
    fd = openat2_(path, &how, sizeof how);
  }
  return (int)fd;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : ".";
  const char *took = "";
  const int fd = open_fast(path, &took);
  printf("%s: %s\n", took, fd >= 0 ? "opened" : "failed");
  return fd >= 0 ? 0 : 1;
}
