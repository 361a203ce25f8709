// SPDX-License-Identifier: MIT
// base/sys.cpp - raw syscall wrappers.
#include "base/sys.h"

#include <sys/syscall.h>
#include <unistd.h>

namespace extsys::sys {

int seccomp(unsigned int op, unsigned int flags, void* args) {
  return static_cast<int>(::syscall(SYS_seccomp, op, flags, args));
}

}  // namespace extsys::sys
