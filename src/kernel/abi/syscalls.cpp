// SPDX-License-Identifier: MIT
// kernel/abi/syscalls.cpp - the descriptor table. Layouts from the uapi
// headers (linux/openat2.h, sched.h, mount.h, xattr.h, fs.h, landlock.h);
// the order of checks and the answer of each field from
// src/kernel/abi/CHECK_FIELDS.md.
#include "kernel/abi/syscalls.h"

#include <cerrno>

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

// --- open_tree_attr(dfd, filename, flags, uattr, usize), 6.15 -------------
// The same struct mount_attr. Before the size, in the order of the proposal
// (src/kernel/abi/CHECK_FIELDS.md): uattr NULL with a size is EINVAL, then
// vfs_open_tree()'s flags, then the size; no path is looked up.
constexpr Check kOpenTreeAttrOrder[] = {NullStruct, Args, TooBig, TooSmall};
constexpr ArgCombo kOpenTreeCombos[] = {
    {uapi::kAtRecursive, uapi::kOpenTreeClone | uapi::kOpenTreeNamespace},
    {uapi::kOpenTreeClone | uapi::kOpenTreeNamespace, 0},
};
constexpr ArgCheck kOpenTreeAttrArgs[] = {
    {"flags", 2, true, true, std::nullopt, kOpenTreeCombos}};

// --- setxattrat / getxattrat(dfd, pathname, at_flags, name, uargs, usize),
// 6.13: the size first; at_flags only after the struct copy.
constexpr uint32_t kXattrArgsSizes[] = {16};
constexpr Check kXattratOrder[] = {TooSmall, TooBig};
constexpr ArgCheck kXattratArgs[] = {{"at_flags", 2, true, false, std::nullopt}};
constexpr FieldDesc kXattrArgs[] = {
    {"value", 0, 8, AllOnes}, {"size", 8, 4, AllOnes}, {"flags", 12, 4, Mask}};

// --- file_getattr / file_setattr(dfd, filename, ufattr, usize, at_flags),
// 6.17: at_flags, then the size (E2BIG before EINVAL).
constexpr uint32_t kFileAttrSizes[] = {24};
constexpr Check kFileAttrOrder[] = {Args, TooBig, TooSmall};
constexpr ArgCheck kFileAttrArgs[] = {{"at_flags", 4, true, true, std::nullopt}};
constexpr FieldDesc kFileAttr[] = {
    {"fa_xflags", 0, 8, Mask},     {"fa_extsize", 8, 4, AllOnes},
    {"fa_nextents", 12, 4, AllOnes}, {"fa_projid", 16, 4, AllOnes},
    {"fa_cowextsize", 20, 4, AllOnes}};

// --- landlock_create_ruleset(attr, size, flags), 5.13 ----------------------
// Landlock switched off: EOPNOTSUPP; any flag with a struct: EINVAL; attr
// NULL: EFAULT before the size; then size < 8 (EINVAL), size > page (E2BIG).
constexpr uint32_t kLandlockSizes[] = {8, 16, 24};
constexpr Check kLandlockOrder[] = {Usable, Args, NullStruct, TooSmall, TooBig};
constexpr ArgCheck kLandlockArgs[] = {{"flags", 2, true, true, 0}};
constexpr FieldDesc kLandlockAttr[] = {
    {"handled_access_fs", 0, 8, Mask}, {"handled_access_net", 8, 8, Mask},
    {"scoped", 16, 8, Mask}};

const std::array<SyscallDesc, kSyscallCount> kTable{{
    {SyscallId::Openat2, "openat2", 3, 2, kOpenHowSizes, kOpenat2Order, 0, true, 0, {}, kOpenHow},
    {SyscallId::Clone3, "clone3", 1, 0, kCloneArgsSizes, kClone3Order, 0, true, 0, {}, kCloneArgs},
    {SyscallId::MountSetattr, "mount_setattr", 4, 3, kMountAttrSizes, kMountSetattrOrder, 0, true,
     0, kMountSetattrArgs, kMountAttr},
    {SyscallId::OpenTreeAttr, "open_tree_attr", 4, 3, kMountAttrSizes, kOpenTreeAttrOrder, EINVAL,
     true, 0, kOpenTreeAttrArgs, kMountAttr},
    {SyscallId::Setxattrat, "setxattrat", 5, 4, kXattrArgsSizes, kXattratOrder, 0, true, 0,
     kXattratArgs, kXattrArgs},
    {SyscallId::Getxattrat, "getxattrat", 5, 4, kXattrArgsSizes, kXattratOrder, 0, true, 0,
     kXattratArgs, kXattrArgs},
    {SyscallId::FileGetattr, "file_getattr", 3, 2, kFileAttrSizes, kFileAttrOrder, 0, false, 0,
     kFileAttrArgs, kFileAttr},
    {SyscallId::FileSetattr, "file_setattr", 3, 2, kFileAttrSizes, kFileAttrOrder, 0, true, 0,
     kFileAttrArgs, kFileAttr},
    {SyscallId::LandlockCreateRuleset, "landlock_create_ruleset", 1, 0, kLandlockSizes,
     kLandlockOrder, EFAULT, true, uapi::kLandlockCreateRulesetVersion, kLandlockArgs,
     kLandlockAttr},
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
