// SPDX-License-Identifier: MIT
// base/sys.h - thin wrappers for raw syscalls glibc 2.36 does not wrap.
// Each returns what the kernel returns: -1 with errno set on failure.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>

namespace extsys::sys {

int seccomp(unsigned int op, unsigned int flags, void* args);
int pidfd_open(pid_t pid, unsigned int flags);
int close_range(unsigned int first, unsigned int last, unsigned int flags);

}  // namespace extsys::sys
