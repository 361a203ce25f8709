// SPDX-License-Identifier: MIT
// kernel/abi/uapi_compat.h - the only place for kernel constants our headers
// may lack. Each is defined under #ifndef; where the system header has it, the
// value is checked. Raw values, never glibc's (glibc defines O_LARGEFILE as 0
// on x86_64).
#pragma once

#include <linux/seccomp.h>
#include <sys/ioctl.h>

#include <cstdint>

namespace extsys::uapi {

// RFC only: "extensible syscalls: CHECK_FIELDS to allow for easier feature
// detection" v3 (2024-10), never merged. Bit 63 of the struct-size argument.
inline constexpr uint64_t kCheckFields = 1ULL << 63;

// EEXTSYS_NOOP from the same RFC: EHWPOISON + 1 on asm-generic ABIs (x86_64,
// arm64, riscv...). Linux 7.2 gave this number to EFTYPE, so extsys keeps the
// answer errno configurable (--probe-errno) and uses this only as the default.
#if defined(__x86_64__) || defined(__aarch64__) || defined(__riscv) || defined(__i386__) || \
    defined(__arm__) || defined(__powerpc__) || defined(__s390__) || defined(__loongarch__)
inline constexpr int kEextsysNoop = 134;
#else
#error "EEXTSYS_NOOP for this architecture: see src/kernel/abi/CHECK_FIELDS.md, 'The answer errno'"
#endif

// Open flags as the kernel's asm-generic <asm/fcntl.h> defines them.
inline constexpr uint64_t kOLargefile = 0x8000;  // glibc's O_LARGEFILE is 0 on LP64
inline constexpr uint64_t kOpenat2Regular = 1ULL << 32;  // 7.2, openat2 only
inline constexpr uint64_t kOEmptyPath = 1ULL << 26;      // 7.2 cycle, presumed

// clone3-only flags (include/uapi/linux/sched.h).
inline constexpr uint64_t kCloneLegacyFlags = 0xFFFFFFFFULL;
inline constexpr uint64_t kCloneClearSighand = 1ULL << 32;  // 5.5
inline constexpr uint64_t kCloneIntoCgroup = 1ULL << 33;    // 5.7
inline constexpr uint64_t kCloneAutoreap = 1ULL << 34;      // 7.1
inline constexpr uint64_t kCloneNnp = 1ULL << 35;           // 7.1
inline constexpr uint64_t kClonePidfdAutokill = 1ULL << 36; // 7.1
inline constexpr uint64_t kCloneEmptyMntns = 1ULL << 37;    // 7.1, unconfirmed

// mount_setattr's `flags` argument: AT_EMPTY_PATH | AT_RECURSIVE |
// AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT.
inline constexpr uint64_t kMountSetattrAtFlags = 0x1000 | 0x8000 | 0x100 | 0x800;
inline constexpr uint64_t kMountPropagationFlags = 0x1E0000;  // MS_UNBINDABLE..MS_SHARED
inline constexpr uint64_t kMountAttrIdmap = 0x100000;
inline constexpr uint64_t kMountAttrNosymfollow = 0x200000;   // 5.14

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
