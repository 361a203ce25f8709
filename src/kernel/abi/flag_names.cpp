// SPDX-License-Identifier: MIT
// kernel/abi/flag_names.cpp - bit names per field (asm-generic values, x86_64).
#include "kernel/abi/flag_names.h"

#include <array>
#include <cstdio>

#include "kernel/abi/uapi_compat.h"

namespace extsys::kernel {
namespace {

constexpr std::array<FlagName, 21> kOpenFlags{{
    {"O_WRONLY", 0x1}, {"O_RDWR", 0x2}, {"O_CREAT", 0x40}, {"O_EXCL", 0x80},
    {"O_NOCTTY", 0x100}, {"O_TRUNC", 0x200}, {"O_APPEND", 0x400}, {"O_NONBLOCK", 0x800},
    {"O_DSYNC", 0x1000}, {"FASYNC", 0x2000}, {"O_DIRECT", 0x4000}, {"O_LARGEFILE", 0x8000},
    {"O_DIRECTORY", 0x10000}, {"O_NOFOLLOW", 0x20000}, {"O_NOATIME", 0x40000},
    {"O_CLOEXEC", 0x80000}, {"__O_SYNC", 0x100000}, {"O_PATH", 0x200000},
    {"__O_TMPFILE", 0x400000}, {"O_EMPTYPATH", uapi::kOEmptyPath},
    {"OPENAT2_REGULAR", uapi::kOpenat2Regular},
}};

constexpr std::array<FlagName, 12> kMode{{
    {"S_ISUID", 04000}, {"S_ISGID", 02000}, {"S_ISVTX", 01000}, {"S_IRUSR", 0400},
    {"S_IWUSR", 0200}, {"S_IXUSR", 0100}, {"S_IRGRP", 040}, {"S_IWGRP", 020},
    {"S_IXGRP", 010}, {"S_IROTH", 04}, {"S_IWOTH", 02}, {"S_IXOTH", 01},
}};

constexpr std::array<FlagName, 6> kResolve{{
    {"RESOLVE_NO_XDEV", 0x01}, {"RESOLVE_NO_MAGICLINKS", 0x02}, {"RESOLVE_NO_SYMLINKS", 0x04},
    {"RESOLVE_BENEATH", 0x08}, {"RESOLVE_IN_ROOT", 0x10}, {"RESOLVE_CACHED", 0x20},
}};

constexpr std::array<FlagName, 32> kCloneFlags{{
    {"CLONE_NEWTIME", 0x80}, {"CSIGNAL", 0x7f},  // exit-signal bits, rejected by clone3
    {"CLONE_VM", 0x100}, {"CLONE_FS", 0x200}, {"CLONE_FILES", 0x400},
    {"CLONE_SIGHAND", 0x800}, {"CLONE_PIDFD", 0x1000}, {"CLONE_PTRACE", 0x2000},
    {"CLONE_VFORK", 0x4000}, {"CLONE_PARENT", 0x8000}, {"CLONE_THREAD", 0x10000},
    {"CLONE_NEWNS", 0x20000}, {"CLONE_SYSVSEM", 0x40000}, {"CLONE_SETTLS", 0x80000},
    {"CLONE_PARENT_SETTID", 0x100000}, {"CLONE_CHILD_CLEARTID", 0x200000},
    {"CLONE_DETACHED", 0x400000}, {"CLONE_UNTRACED", 0x800000},
    {"CLONE_CHILD_SETTID", 0x1000000}, {"CLONE_NEWCGROUP", 0x2000000},
    {"CLONE_NEWUTS", 0x4000000}, {"CLONE_NEWIPC", 0x8000000}, {"CLONE_NEWUSER", 0x10000000},
    {"CLONE_NEWPID", 0x20000000}, {"CLONE_NEWNET", 0x40000000}, {"CLONE_IO", 0x80000000},
    {"CLONE_CLEAR_SIGHAND", uapi::kCloneClearSighand},
    {"CLONE_INTO_CGROUP", uapi::kCloneIntoCgroup}, {"CLONE_AUTOREAP", uapi::kCloneAutoreap},
    {"CLONE_NNP", uapi::kCloneNnp}, {"CLONE_PIDFD_AUTOKILL", uapi::kClonePidfdAutokill},
    {"CLONE_EMPTY_MNTNS", uapi::kCloneEmptyMntns},
}};

// The atime enum is listed whole first (display), then its values (policies).
constexpr std::array<FlagName, 11> kMountAttrs{{
    {"MOUNT_ATTR_RDONLY", 0x1}, {"MOUNT_ATTR_NOSUID", 0x2}, {"MOUNT_ATTR_NODEV", 0x4},
    {"MOUNT_ATTR_NOEXEC", 0x8}, {"MOUNT_ATTR__ATIME", 0x70}, {"MOUNT_ATTR_NODIRATIME", 0x80},
    {"MOUNT_ATTR_IDMAP", uapi::kMountAttrIdmap}, {"MOUNT_ATTR_NOSYMFOLLOW", uapi::kMountAttrNosymfollow},
    {"MOUNT_ATTR_NOATIME", 0x10}, {"MOUNT_ATTR_STRICTATIME", 0x20}, {"MOUNT_ATTR_RELATIME", 0},
}};

constexpr std::array<FlagName, 4> kPropagation{{
    {"MS_UNBINDABLE", 0x20000}, {"MS_PRIVATE", 0x40000}, {"MS_SLAVE", 0x80000},
    {"MS_SHARED", 0x100000},
}};

}  // namespace

std::span<const FlagName> flagNames(SyscallId id, std::string_view field) {
  switch (id) {
    case SyscallId::Openat2:
      if (field == "flags") return kOpenFlags;
      if (field == "mode") return kMode;
      if (field == "resolve") return kResolve;
      break;
    case SyscallId::Clone3:
      if (field == "flags") return kCloneFlags;
      break;
    case SyscallId::MountSetattr:
      if (field == "attr_set" || field == "attr_clr") return kMountAttrs;
      if (field == "propagation") return kPropagation;
      break;
  }
  return {};
}

std::vector<std::string> bitNames(SyscallId id, std::string_view field, uint64_t value) {
  std::vector<std::string> out;
  for (const auto& f : flagNames(id, field)) {
    if (f.mask != 0 && (value & f.mask) == f.mask) {
      out.emplace_back(f.name);
      value &= ~f.mask;
    }
  }
  if (value != 0) {
    char rest[24];
    std::snprintf(rest, sizeof rest, "%#llx", static_cast<unsigned long long>(value));
    out.emplace_back(rest);
  }
  return out;
}

std::string describeBits(SyscallId id, std::string_view field, uint64_t value) {
  std::string s;
  for (const auto& n : bitNames(id, field, value)) {
    if (!s.empty())
      s += ' ';
    s += n;
  }
  return s;
}

std::optional<uint64_t> flagByName(SyscallId id, std::string_view field, std::string_view name) {
  for (const auto& f : flagNames(id, field))
    if (f.name == name)
      return f.mask;
  return std::nullopt;
}

}  // namespace extsys::kernel
