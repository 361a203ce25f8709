// SPDX-License-Identifier: MIT
// kernel/abi/uapi_compat.h - kernel constants the system headers lack: those
// of the CHECK_FIELDS RFC, which was never merged, and seccomp notification
// features newer than Debian 12's linux-libc-dev (6.1). Macros are defined
// under #ifndef; where the system header has one, its value is checked. The
// flag bits of the syscalls extsys knows are in kernel/abi/uapi_flags.h.
#pragma once

#include <linux/seccomp.h>
#include <sys/ioctl.h>

#include <cstdint>

#include "kernel/abi/arch.h"

namespace extsys::uapi {

// RFC only: "extensible syscalls: CHECK_FIELDS to allow for easier feature
// detection" v3 (2024-10), never merged. Bit 63 of the struct-size argument.
inline constexpr uint64_t kCheckFields = 1ULL << 63;

// EEXTSYS_NOOP from the same RFC: EHWPOISON + 1, per architecture in
// kernel/abi/arch.h (134 on all of them). Linux 7.2 gave this number to
// EFTYPE, so extsys keeps the answer errno configurable (--probe-errno) and
// uses this only as the default.
inline constexpr int kEextsysNoop = kernel::nativeArch().probeErrno;

// Seccomp notification features newer than Debian 12's linux-libc-dev (6.1).
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)  // 5.19
#else
static_assert(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV == (1UL << 5));
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)  // 6.6
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)  // 6.6
#endif
#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND (1UL << 1)  // 5.14
#endif

}  // namespace extsys::uapi
