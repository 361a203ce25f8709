// SPDX-License-Identifier: MIT
// base/sys.h - thin wrappers for raw syscalls glibc 2.36 does not wrap (it
// does wrap close_range and pidfd_open: use those). Each returns what the
// kernel returns: -1 with errno set on failure.
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <cstdint>

namespace extsys::sys {

int seccomp(unsigned int op, unsigned int flags, void* args);

}  // namespace extsys::sys
