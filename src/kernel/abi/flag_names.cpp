// SPDX-License-Identifier: MIT
// kernel/abi/flag_names.cpp - bit names per field.
#include "kernel/abi/flag_names.h"

#include <array>
#include <cstdio>

#include "kernel/abi/uapi_flags.h"

namespace extsys::kernel {
namespace {

using namespace uapi;

constexpr std::array<FlagName, 21> kOpenFlags{{
    {"O_WRONLY", kOWronly}, {"O_RDWR", kORdwr}, {"O_CREAT", kOCreat}, {"O_EXCL", kOExcl},
    {"O_NOCTTY", kONoctty}, {"O_TRUNC", kOTrunc}, {"O_APPEND", kOAppend},
    {"O_NONBLOCK", kONonblock}, {"O_DSYNC", kODsync}, {"FASYNC", kFasync},
    {"O_DIRECT", kODirect}, {"O_LARGEFILE", kOLargefile}, {"O_DIRECTORY", kODirectory},
    {"O_NOFOLLOW", kONofollow}, {"O_NOATIME", kONoatime}, {"O_CLOEXEC", kOCloexec},
    {"__O_SYNC", kOSyncBit}, {"O_PATH", kOPath}, {"__O_TMPFILE", kOTmpfileBit},
    {"O_EMPTYPATH", kOEmptyPath}, {"OPENAT2_REGULAR", kOpenat2Regular},
}};

constexpr std::array<FlagName, 12> kMode{{
    {"S_ISUID", kSIsuid}, {"S_ISGID", kSIsgid}, {"S_ISVTX", kSIsvtx}, {"S_IRUSR", kSIrusr},
    {"S_IWUSR", kSIwusr}, {"S_IXUSR", kSIxusr}, {"S_IRGRP", kSIrgrp}, {"S_IWGRP", kSIwgrp},
    {"S_IXGRP", kSIxgrp}, {"S_IROTH", kSIroth}, {"S_IWOTH", kSIwoth}, {"S_IXOTH", kSIxoth},
}};

constexpr std::array<FlagName, 6> kResolve{{
    {"RESOLVE_NO_XDEV", kResolveNoXdev}, {"RESOLVE_NO_MAGICLINKS", kResolveNoMagiclinks},
    {"RESOLVE_NO_SYMLINKS", kResolveNoSymlinks}, {"RESOLVE_BENEATH", kResolveBeneath},
    {"RESOLVE_IN_ROOT", kResolveInRoot}, {"RESOLVE_CACHED", kResolveCached},
}};

// CLONE_NEWTIME shares CSIGNAL's byte: it is named first, and "CSIGNAL" is
// what remains (exit-signal bits, which clone3 rejects).
constexpr std::array<FlagName, 32> kCloneFlags{{
    {"CLONE_NEWTIME", kCloneNewtime}, {"CSIGNAL", kCsignal & ~kCloneNewtime},
    {"CLONE_VM", kCloneVm}, {"CLONE_FS", kCloneFs}, {"CLONE_FILES", kCloneFiles},
    {"CLONE_SIGHAND", kCloneSighand}, {"CLONE_PIDFD", kClonePidfd},
    {"CLONE_PTRACE", kClonePtrace}, {"CLONE_VFORK", kCloneVfork},
    {"CLONE_PARENT", kCloneParent}, {"CLONE_THREAD", kCloneThread},
    {"CLONE_NEWNS", kCloneNewns}, {"CLONE_SYSVSEM", kCloneSysvsem},
    {"CLONE_SETTLS", kCloneSettls}, {"CLONE_PARENT_SETTID", kCloneParentSettid},
    {"CLONE_CHILD_CLEARTID", kCloneChildCleartid}, {"CLONE_DETACHED", kCloneDetached},
    {"CLONE_UNTRACED", kCloneUntraced}, {"CLONE_CHILD_SETTID", kCloneChildSettid},
    {"CLONE_NEWCGROUP", kCloneNewcgroup}, {"CLONE_NEWUTS", kCloneNewuts},
    {"CLONE_NEWIPC", kCloneNewipc}, {"CLONE_NEWUSER", kCloneNewuser},
    {"CLONE_NEWPID", kCloneNewpid}, {"CLONE_NEWNET", kCloneNewnet}, {"CLONE_IO", kCloneIo},
    {"CLONE_CLEAR_SIGHAND", kCloneClearSighand}, {"CLONE_INTO_CGROUP", kCloneIntoCgroup},
    {"CLONE_AUTOREAP", kCloneAutoreap}, {"CLONE_NNP", kCloneNnp},
    {"CLONE_PIDFD_AUTOKILL", kClonePidfdAutokill}, {"CLONE_EMPTY_MNTNS", kCloneEmptyMntns},
}};

// The atime enum is listed whole first (display), then its values (policies).
constexpr std::array<FlagName, 11> kMountAttrs{{
    {"MOUNT_ATTR_RDONLY", kMountAttrRdonly}, {"MOUNT_ATTR_NOSUID", kMountAttrNosuid},
    {"MOUNT_ATTR_NODEV", kMountAttrNodev}, {"MOUNT_ATTR_NOEXEC", kMountAttrNoexec},
    {"MOUNT_ATTR__ATIME", kMountAttrAtime}, {"MOUNT_ATTR_NODIRATIME", kMountAttrNodiratime},
    {"MOUNT_ATTR_IDMAP", kMountAttrIdmap}, {"MOUNT_ATTR_NOSYMFOLLOW", kMountAttrNosymfollow},
    {"MOUNT_ATTR_NOATIME", kMountAttrNoatime}, {"MOUNT_ATTR_STRICTATIME", kMountAttrStrictatime},
    {"MOUNT_ATTR_RELATIME", kMountAttrRelatime},
}};

constexpr std::array<FlagName, 4> kPropagation{{
    {"MS_UNBINDABLE", kMsUnbindable}, {"MS_PRIVATE", kMsPrivate}, {"MS_SLAVE", kMsSlave},
    {"MS_SHARED", kMsShared},
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
