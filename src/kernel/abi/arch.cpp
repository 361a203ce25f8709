// SPDX-License-Identifier: MIT
// kernel/abi/arch.cpp - syscall numbers per architecture, and the native row
// checked against the target's own kernel headers at compile time (a cross
// build checks that arch's row).
#include "kernel/abi/arch.h"

// The kernel's uapi headers only (not glibc's <fcntl.h>, whose O_LARGEFILE
// is 0 on 64-bit ABIs): the raw values the kernel compares with.
#include <asm/fcntl.h>
#include <asm/unistd.h>
#include <linux/audit.h>
#include <seccomp.h>

#include <cerrno>
#include <string>

namespace extsys::kernel {
namespace {

constexpr const ArchDesc& kRow = nativeArch();
static_assert(kRow.open.directory == O_DIRECTORY && kRow.open.nofollow == O_NOFOLLOW &&
                  kRow.open.direct == O_DIRECT && kRow.open.largefile == O_LARGEFILE,
              "the native row's open flags differ from <asm/fcntl.h>");
static_assert((kRow.open.directory | kRow.open.nofollow | kRow.open.direct |
               kRow.open.largefile) == 0x3C000,
              "the four renumbered open flags must still be bits 14-17 (VALID_OPEN_FLAGS)");

#if defined(__x86_64__)
static_assert(kRow.auditArch == AUDIT_ARCH_X86_64);
#elif defined(__aarch64__)
static_assert(kRow.auditArch == AUDIT_ARCH_AARCH64);
#elif defined(__riscv)
static_assert(kRow.auditArch == AUDIT_ARCH_RISCV64);
#elif defined(__powerpc64__)
static_assert(kRow.auditArch == AUDIT_ARCH_PPC64LE);
#elif defined(__s390x__)
static_assert(kRow.auditArch == AUDIT_ARCH_S390X);
#endif

static_assert(kRow.probeErrno == EHWPOISON + 1, "EEXTSYS_NOOP is EHWPOISON + 1");

// A sample of the legacy list against <asm/unistd.h> (every name is checked
// against libseccomp's tables for every row by tests/unit/arch_test.cpp).
#ifdef __NR_open
static_assert(archHas(kRow, "open"));
#else
static_assert(!archHas(kRow, "open"));
#endif
#ifdef __NR_creat
static_assert(archHas(kRow, "creat"));
#else
static_assert(!archHas(kRow, "creat"));
#endif
#ifdef __NR_renameat
static_assert(archHas(kRow, "renameat"));
#else
static_assert(!archHas(kRow, "renameat"));
#endif
#ifdef __NR_time
static_assert(archHas(kRow, "time"));
#else
static_assert(!archHas(kRow, "time"));
#endif
// From 424 on the numbers are common: the table's tail must be the target's.
static_assert(__NR_openat2 == 437 && __NR_clone3 == 435 && __NR_mount_setattr == 442);

}  // namespace

int syscallNr(const ArchDesc& a, std::string_view name) {
  if (!archHas(a, name))
    return -1;
  const std::string n(name);
  int nr = seccomp_syscall_resolve_name_arch(a.auditArch, n.c_str());
  if (nr >= 0)
    return nr;
  if (nr != __NR_SCMP_ERROR)
    return -1;  // libseccomp knows it, and knows this arch has no such call
  for (const auto& s : kNewerSyscalls)
    if (s.name == name)
      return s.nr;
  return -1;
}

int nativeSyscallNr(std::string_view name) { return syscallNr(nativeArch(), name); }

bool syscallExists(std::string_view name) { return nativeSyscallNr(name) >= 0; }

bool syscallKnown(std::string_view name) {
  if (legacyBit(name) != 0)
    return true;
  for (const auto& s : kNewerSyscalls)
    if (s.name == name)
      return true;
  const std::string n(name);
  for (const auto& a : kArchTable)
    if (seccomp_syscall_resolve_name_arch(a.auditArch, n.c_str()) != __NR_SCMP_ERROR)
      return true;
  return false;
}

const ArchDesc* archByName(std::string_view name) {
  for (const auto& a : kArchTable)
    if (a.name == name)
      return &a;
  return nullptr;
}

}  // namespace extsys::kernel
