// SPDX-License-Identifier: MIT
// base/sys.cpp - raw syscall wrappers.
#include "base/sys.h"

#include <sys/syscall.h>
#include <unistd.h>

namespace extsys::sys {

int seccomp(unsigned int op, unsigned int flags, void* args) {
  return static_cast<int>(::syscall(SYS_seccomp, op, flags, args));
}

int pidfd_open(pid_t pid, unsigned int flags) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}

int close_range(unsigned int first, unsigned int last, unsigned int flags) {
  return static_cast<int>(::syscall(SYS_close_range, first, last, flags));
}

}  // namespace extsys::sys
