// SPDX-License-Identifier: MIT
// kernel/abi/syscalls.cpp - descriptor table (layouts from include/uapi/linux/
// openat2.h, sched.h and mount.h; check order from
// src/kernel/abi/CHECK_FIELDS.md, 'Order of checks').
#include "kernel/abi/syscalls.h"

#include "kernel/abi/uapi_flags.h"

namespace extsys::kernel {
namespace {

constexpr std::array<FieldDesc, 3> kOpenHow{{{"flags", 0}, {"mode", 8}, {"resolve", 16}}};

constexpr std::array<FieldDesc, 11> kCloneArgs{{
    {"flags", 0}, {"pidfd", 8}, {"child_tid", 16}, {"parent_tid", 24},
    {"exit_signal", 32}, {"stack", 40}, {"stack_size", 48}, {"tls", 56},
    {"set_tid", 64}, {"set_tid_size", 72}, {"cgroup", 80},
}};

constexpr std::array<FieldDesc, 4> kMountAttr{{
    {"attr_set", 0}, {"attr_clr", 8}, {"propagation", 16}, {"userns_fd", 24}}};

const std::array<SyscallDesc, kSyscallCount> kTable{{
    // openat2(dfd, filename, how, usize): SYSCALL_DEFINE4(openat2) checks
    // usize < OPEN_HOW_SIZE_VER0 first, then usize > PAGE_SIZE.
    {SyscallId::Openat2, "openat2", 3, 2, 24, 24, SizeCheckOrder::TooSmallFirst, std::nullopt,
     kOpenHow},
    // clone3(uargs, size): copy_clone_args_from_user checks > PAGE_SIZE first.
    {SyscallId::Clone3, "clone3", 1, 0, 64, 88, SizeCheckOrder::TooBigFirst, std::nullopt,
     kCloneArgs},
    // mount_setattr(dfd, path, flags, uattr, usize): the unsigned int flags
    // argument is checked before any size check.
    {SyscallId::MountSetattr, "mount_setattr", 4, 3, 32, 32, SizeCheckOrder::TooBigFirst,
     ArgMaskCheck{2, uapi::kMountSetattrAtFlags, true}, kMountAttr},
}};

}  // namespace

const std::array<SyscallDesc, kSyscallCount>& syscallTable() { return kTable; }

const SyscallDesc& describe(SyscallId id) { return kTable[static_cast<size_t>(id)]; }

std::optional<SyscallId> syscallByName(std::string_view name) {
  for (const auto& d : kTable)
    if (d.name == name)
      return d.id;
  return std::nullopt;
}

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
