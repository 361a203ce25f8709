// SPDX-License-Identifier: MIT
// kernel/abi/arch.h - the per-architecture table: every fact extsys needs
// that differs between the ABIs it builds for. One row per architecture;
// the native row is chosen at compile time, and every other file takes its
// arch-specific values from it (open flag bits through uapi_flags.h, the
// answer errno through uapi_compat.h, syscall numbers and which syscalls
// exist, the audit arch, the OCI arch names, clone(2)'s flags argument).
//
// Only 64-bit ABIs: CHECK_FIELDS is bit 63 of a size argument, which a
// 32-bit size_t (i386, arm, x32, rv32, ppc32, s390) cannot carry. x86_64
// and aarch64 are built and tested in CI (aarch64 on Debian's arm64 kernel
// under qemu); riscv64, ppc64le and s390x are only compiled (README.md,
// "Architectures").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace extsys::kernel {

enum class Arch : uint8_t { X86_64, Aarch64, Riscv64, Ppc64le, S390x };
inline constexpr size_t kArchCount = 5;

// The open(2) flags an architecture's asm/fcntl.h renumbers; the rest are
// asm-generic everywhere here (kernel/abi/uapi_flags.h). The set of valid
// bits (0x7fffc3) is the same: only which bit means what changes.
struct OpenFlagBits {
  uint64_t direct;
  uint64_t largefile;
  uint64_t directory;
  uint64_t nofollow;
};

// Legacy syscalls that asm-generic/unistd.h (arm64, riscv64: the newer
// arches) leaves out in favour of the *at and newer forms, plus the few the
// older 64-bit arches lack. A rule or a test naming one of them must ask
// whether the arch has it (archHas()). Index = bit in ArchDesc::lacks.
inline constexpr std::array<std::string_view, 40> kLegacySyscalls{{
    "open",      "creat",   "mknod",        "chmod",      "chown",        "lchown",
    "link",      "unlink",  "symlink",      "readlink",   "rename",       "renameat",
    "mkdir",     "rmdir",   "access",       "stat",       "lstat",        "utime",
    "utimes",    "futimesat", "pipe",       "dup2",       "fork",         "vfork",
    "poll",      "select",  "pause",        "alarm",      "time",         "getdents",
    "getpgrp",   "epoll_create", "epoll_wait", "inotify_init", "signalfd", "eventfd",
    "uselib",    "ustat",   "sysfs",        "_sysctl",
}};

constexpr uint64_t legacyBit(std::string_view name) {
  for (size_t i = 0; i < kLegacySyscalls.size(); ++i)
    if (kLegacySyscalls[i] == name)
      return 1ULL << i;
  return 0;
}
inline constexpr uint64_t kAllLegacy = (1ULL << kLegacySyscalls.size()) - 1;
static_assert(kLegacySyscalls.size() <= 64);

struct ArchDesc {
  Arch arch;
  std::string_view name;       // as `uname -m` says it
  uint32_t auditArch;          // AUDIT_ARCH_*: seccomp_data.arch of the native ABI
                               // (libseccomp's SCMP_ARCH_* token is the same number)
  std::string_view ociArch;    // its SCMP_ARCH_* name in an OCI profile
  std::array<std::string_view, 2> ociCompat;  // the compat ABIs a runtime can filter
  std::string_view compatAbis;  // the 32-bit ABIs its kernels may run, for messages
  OpenFlagBits open;
  uint8_t cloneFlagsArg;       // clone(2)'s flags argument: 1 on s390 (CLONE_BACKWARDS2)
  int probeErrno;              // EEXTSYS_NOOP = EHWPOISON + 1 (CHECK_FIELDS.md)
  uint64_t lacks;              // bit i: no kLegacySyscalls[i] here
  bool tested;                 // run in CI, not only compiled
};

// asm-generic/fcntl.h: x86_64, riscv64, s390x.
inline constexpr OpenFlagBits kGenericOpen{0x4000, 0x8000, 0x10000, 0x20000};

inline constexpr std::array<ArchDesc, kArchCount> kArchTable{{
    {Arch::X86_64, "x86_64", 0xC000003E, "SCMP_ARCH_X86_64", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"},
     "i386 and x32", kGenericOpen, 0, 134, 0, true},
    // arch/arm64/include/uapi/asm/fcntl.h
    {Arch::Aarch64, "aarch64", 0xC00000B7, "SCMP_ARCH_AARCH64", {"SCMP_ARCH_ARM", ""},
     "AArch32 (arm)", {0x10000, 0x20000, 0x4000, 0x8000}, 0, 134,
     kAllLegacy & ~legacyBit("renameat"), true},
    {Arch::Riscv64, "riscv64", 0xC00000F3, "SCMP_ARCH_RISCV64", {"", ""}, "rv32",
     kGenericOpen, 0, 134, kAllLegacy, false},
    // arch/powerpc/include/uapi/asm/fcntl.h
    {Arch::Ppc64le, "ppc64le", 0xC0000015, "SCMP_ARCH_PPC64LE", {"", ""}, "32-bit powerpc",
     {0x20000, 0x10000, 0x4000, 0x8000}, 0, 134, 0, false},
    {Arch::S390x, "s390x", 0x80000016, "SCMP_ARCH_S390X", {"SCMP_ARCH_S390", ""},
     "31-bit s390", kGenericOpen, 1, 134, legacyBit("time"), false},
}};

constexpr const ArchDesc& archDesc(Arch a) { return kArchTable[static_cast<size_t>(a)]; }

// The architecture this build runs on.
#if defined(__x86_64__) && !defined(__ILP32__)
inline constexpr Arch kNativeArch = Arch::X86_64;
#elif defined(__aarch64__) && !defined(__ILP32__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
inline constexpr Arch kNativeArch = Arch::Aarch64;
#elif defined(__riscv) && __riscv_xlen == 64
inline constexpr Arch kNativeArch = Arch::Riscv64;
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
inline constexpr Arch kNativeArch = Arch::Ppc64le;
#elif defined(__s390x__)
inline constexpr Arch kNativeArch = Arch::S390x;
#else
#error "extsys builds for x86_64, aarch64, riscv64, ppc64le and s390x (64-bit: CHECK_FIELDS is bit 63 of a size argument). Another 64-bit ABI needs its row in src/kernel/abi/arch.h."
#endif

constexpr const ArchDesc& nativeArch() { return archDesc(kNativeArch); }

// Whether `name` exists on `a`, as far as the legacy list knows: a name not
// in it is assumed to exist (its number then comes from libseccomp or
// kNewerSyscalls, and an unknown name is an error there).
constexpr bool archHas(const ArchDesc& a, std::string_view name) {
  return (a.lacks & legacyBit(name)) == 0;
}

// Syscalls newer than Debian 12's libseccomp 2.5.4. From 424 (Linux 5.1) on,
// every architecture in the table numbers syscalls alike (alpha, mips and
// ia64 add an offset; they are not in the table).
struct NewerSyscall {
  std::string_view name;
  int nr;
};
inline constexpr std::array<NewerSyscall, 19> kNewerSyscalls{{
    {"cachestat", 451},         {"fchmodat2", 452},         {"map_shadow_stack", 453},
    {"futex_wake", 454},        {"futex_wait", 455},        {"futex_requeue", 456},
    {"statmount", 457},         {"listmount", 458},         {"lsm_get_self_attr", 459},
    {"lsm_set_self_attr", 460}, {"lsm_list_modules", 461},  {"mseal", 462},
    {"setxattrat", 463},        {"getxattrat", 464},        {"listxattrat", 465},
    {"removexattrat", 466},     {"open_tree_attr", 467},    {"file_getattr", 468},
    {"file_setattr", 469},
}};

// The number of syscall `name` on `a`: libseccomp's table, then
// kNewerSyscalls. -1 when `a` has no such syscall (open on aarch64) or
// nobody knows the name.
int syscallNr(const ArchDesc& a, std::string_view name);

// The same for the native ABI, and whether the native ABI has it at all.
// A rule for a syscall that does not exist here is dropped, not an error
// (filter/rules.h): no program can make that call.
int nativeSyscallNr(std::string_view name);
bool syscallExists(std::string_view name);

// Whether libseccomp or kNewerSyscalls knows `name` on any architecture in
// the table: false means a misspelt name.
bool syscallKnown(std::string_view name);

// AUDIT_ARCH_* of the native ABI, as seccomp_data.arch carries it.
constexpr uint32_t nativeAuditArch() { return nativeArch().auditArch; }

// The row named `name` ("aarch64"), or nullptr.
const ArchDesc* archByName(std::string_view name);

}  // namespace extsys::kernel
