// SPDX-License-Identifier: MIT
// kernel/abi/syscalls.cpp - the descriptor table. Layouts from the uapi
// headers (linux/openat2.h, sched.h, mount.h); the order of checks and the
// answer of each field from src/kernel/abi/CHECK_FIELDS.md.
#include "kernel/abi/syscalls.h"

#include <seccomp.h>

#include <string>

#include "kernel/abi/uapi_flags.h"

namespace extsys::kernel {
namespace {

using enum FieldRole;
using enum Check;

// --- openat2(dfd, filename, how, usize) ---------------------------------
constexpr uint32_t kOpenHowSizes[] = {24};
constexpr Check kOpenat2Order[] = {TooSmall, TooBig};
constexpr FieldDesc kOpenHow[] = {
    {"flags", 0, 8, Mask}, {"mode", 8, 8, Mask}, {"resolve", 16, 8, Mask}};

// --- clone3(uargs, size) --------------------------------------------------
// The answer's flags are all 32 legacy bits (CLONE_LEGACY_FLAGS) plus the
// clone3-only flags this kernel accepts; the feature is the latter.
constexpr uint32_t kCloneArgsSizes[] = {64, 80, 88};
constexpr Check kClone3Order[] = {TooBig, TooSmall};
constexpr FieldDesc kCloneArgs[] = {
    {"flags", 0, 8, Mask, uapi::kCloneLegacyFlags, "clone3_only_flags"},
    {"pidfd", 8, 8, AllOnes}, {"child_tid", 16, 8, AllOnes}, {"parent_tid", 24, 8, AllOnes},
    {"exit_signal", 32, 8, Fixed, uapi::kCsignal}, {"stack", 40, 8, AllOnes},
    {"stack_size", 48, 8, AllOnes}, {"tls", 56, 8, AllOnes}, {"set_tid", 64, 8, AllOnes},
    {"set_tid_size", 72, 8, AllOnes}, {"cgroup", 80, 8, AllOnes},
};

// --- mount_setattr(dfd, path, flags, uattr, usize) --------------------------
// The unsigned int flags argument is checked before any size check.
constexpr uint32_t kMountAttrSizes[] = {32};
constexpr Check kMountSetattrOrder[] = {Args, TooBig, TooSmall};
constexpr ArgCheck kMountSetattrArgs[] = {{"flags", 2, true, true, std::nullopt}};
constexpr FieldDesc kMountAttr[] = {
    {"attr_set", 0, 8, Mask}, {"attr_clr", 8, 8, CopyOf, 0}, {"propagation", 16, 8, Mask},
    {"userns_fd", 24, 8, AllOnes}};

const std::array<SyscallDesc, kSyscallCount> kTable{{
    {SyscallId::Openat2, "openat2", 3, 2, kOpenHowSizes, kOpenat2Order, 0, true, {}, kOpenHow},
    {SyscallId::Clone3, "clone3", 1, 0, kCloneArgsSizes, kClone3Order, 0, true, {}, kCloneArgs},
    {SyscallId::MountSetattr, "mount_setattr", 4, 3, kMountAttrSizes, kMountSetattrOrder, 0, true,
     kMountSetattrArgs, kMountAttr},
}};

struct NewSyscall {
  std::string_view name;
  int nr;
};
// libseccomp 2.5.4 (2022) predates these. Since 5.1 (nr 424) every
// architecture uses the same numbers (x86_64's syscall_64.tbl and the
// generic scripts/syscall.tbl agree).
constexpr std::array<NewSyscall, 10> kNewer{{
    {"cachestat", 451}, {"fchmodat2", 452}, {"map_shadow_stack", 453}, {"statmount", 457},
    {"listmount", 458}, {"setxattrat", 463}, {"getxattrat", 464}, {"open_tree_attr", 467},
    {"file_getattr", 468}, {"file_setattr", 469},
}};

}  // namespace

std::optional<size_t> SyscallDesc::fieldIndex(std::string_view field) const {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == field)
      return i;
  return std::nullopt;
}

std::optional<size_t> SyscallDesc::argIndex(std::string_view arg) const {
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i].name == arg)
      return i;
  return std::nullopt;
}

const std::array<SyscallDesc, kSyscallCount>& syscallTable() { return kTable; }

const SyscallDesc& describe(SyscallId id) { return kTable[static_cast<size_t>(id)]; }

std::optional<SyscallId> syscallByName(std::string_view name) {
  for (const auto& d : kTable)
    if (d.name == name)
      return d.id;
  return std::nullopt;
}

int nativeSyscallNr(std::string_view name) {
  const std::string n(name);
  int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, n.c_str());
  if (nr >= 0)
    return nr;
#if defined(__x86_64__)
  for (const auto& s : kNewer)
    if (s.name == name)
      return s.nr;
#endif
  return -1;
}

uint32_t nativeAuditArch() { return seccomp_arch_native(); }

SyscallLookup::SyscallLookup() : arch_(nativeAuditArch()) {
  for (const auto& d : kTable)
    nrs_[static_cast<size_t>(d.id)] = {nativeSyscallNr(d.name), d.id};
}

const SyscallDesc* SyscallLookup::find(uint32_t arch, int nr) const {
  if (arch != arch_)
    return nullptr;
  for (const auto& e : nrs_)
    if (e.nr == nr)
      return &describe(e.id);
  return nullptr;
}

}  // namespace extsys::kernel
