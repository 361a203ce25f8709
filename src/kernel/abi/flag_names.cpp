// SPDX-License-Identifier: MIT
// kernel/abi/flag_names.cpp - bit names per field and checked argument.
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

constexpr std::array<FlagName, 4> kMountSetattrFlags{{
    {"AT_SYMLINK_NOFOLLOW", kAtSymlinkNofollow}, {"AT_NO_AUTOMOUNT", kAtNoAutomount},
    {"AT_EMPTY_PATH", kAtEmptyPath}, {"AT_RECURSIVE", kAtRecursive},
}};

constexpr std::array<FlagName, 7> kOpenTreeFlags{{
    {"OPEN_TREE_CLONE", kOpenTreeClone}, {"OPEN_TREE_NAMESPACE", kOpenTreeNamespace},
    {"AT_SYMLINK_NOFOLLOW", kAtSymlinkNofollow}, {"AT_NO_AUTOMOUNT", kAtNoAutomount},
    {"AT_EMPTY_PATH", kAtEmptyPath}, {"AT_RECURSIVE", kAtRecursive},
    {"OPEN_TREE_CLOEXEC", kOpenTreeCloexec},
}};

constexpr std::array<FlagName, 2> kAtFlags{{
    {"AT_SYMLINK_NOFOLLOW", kAtSymlinkNofollow}, {"AT_EMPTY_PATH", kAtEmptyPath},
}};

constexpr std::array<FlagName, 2> kXattrFlags{{
    {"XATTR_CREATE", kXattrCreate}, {"XATTR_REPLACE", kXattrReplace},
}};

constexpr std::array<FlagName, 18> kFsXflags{{
    {"FS_XFLAG_REALTIME", kFsXflagRealtime}, {"FS_XFLAG_PREALLOC", kFsXflagPrealloc},
    {"FS_XFLAG_IMMUTABLE", kFsXflagImmutable}, {"FS_XFLAG_APPEND", kFsXflagAppend},
    {"FS_XFLAG_SYNC", kFsXflagSync}, {"FS_XFLAG_NOATIME", kFsXflagNoatime},
    {"FS_XFLAG_NODUMP", kFsXflagNodump}, {"FS_XFLAG_RTINHERIT", kFsXflagRtinherit},
    {"FS_XFLAG_PROJINHERIT", kFsXflagProjinherit}, {"FS_XFLAG_NOSYMLINKS", kFsXflagNosymlinks},
    {"FS_XFLAG_EXTSIZE", kFsXflagExtsize}, {"FS_XFLAG_EXTSZINHERIT", kFsXflagExtszinherit},
    {"FS_XFLAG_NODEFRAG", kFsXflagNodefrag}, {"FS_XFLAG_FILESTREAM", kFsXflagFilestream},
    {"FS_XFLAG_DAX", kFsXflagDax}, {"FS_XFLAG_COWEXTSIZE", kFsXflagCowextsize},
    {"FS_XFLAG_VERITY", kFsXflagVerity}, {"FS_XFLAG_HASATTR", kFsXflagHasattr},
}};

constexpr std::array<FlagName, 17> kLandlockFs{{
    {"LANDLOCK_ACCESS_FS_EXECUTE", kLandlockFsExecute},
    {"LANDLOCK_ACCESS_FS_WRITE_FILE", kLandlockFsWriteFile},
    {"LANDLOCK_ACCESS_FS_READ_FILE", kLandlockFsReadFile},
    {"LANDLOCK_ACCESS_FS_READ_DIR", kLandlockFsReadDir},
    {"LANDLOCK_ACCESS_FS_REMOVE_DIR", kLandlockFsRemoveDir},
    {"LANDLOCK_ACCESS_FS_REMOVE_FILE", kLandlockFsRemoveFile},
    {"LANDLOCK_ACCESS_FS_MAKE_CHAR", kLandlockFsMakeChar},
    {"LANDLOCK_ACCESS_FS_MAKE_DIR", kLandlockFsMakeDir},
    {"LANDLOCK_ACCESS_FS_MAKE_REG", kLandlockFsMakeReg},
    {"LANDLOCK_ACCESS_FS_MAKE_SOCK", kLandlockFsMakeSock},
    {"LANDLOCK_ACCESS_FS_MAKE_FIFO", kLandlockFsMakeFifo},
    {"LANDLOCK_ACCESS_FS_MAKE_BLOCK", kLandlockFsMakeBlock},
    {"LANDLOCK_ACCESS_FS_MAKE_SYM", kLandlockFsMakeSym},
    {"LANDLOCK_ACCESS_FS_REFER", kLandlockFsRefer},
    {"LANDLOCK_ACCESS_FS_TRUNCATE", kLandlockFsTruncate},
    {"LANDLOCK_ACCESS_FS_IOCTL_DEV", kLandlockFsIoctlDev},
    {"LANDLOCK_ACCESS_FS_RESOLVE_UNIX", kLandlockFsResolveUnix},
}};

constexpr std::array<FlagName, 2> kLandlockNet{{
    {"LANDLOCK_ACCESS_NET_BIND_TCP", kLandlockNetBindTcp},
    {"LANDLOCK_ACCESS_NET_CONNECT_TCP", kLandlockNetConnectTcp},
}};

constexpr std::array<FlagName, 2> kLandlockScope{{
    {"LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET", kLandlockScopeAbstractUnixSocket},
    {"LANDLOCK_SCOPE_SIGNAL", kLandlockScopeSignal},
}};

// Which names go with which field (or checked argument) of which syscall.
struct NamesRow {
  SyscallId id;
  bool arg;  // a checked argument, not a struct field
  std::string_view name;
  std::span<const FlagName> names;
};
const NamesRow kNames[] = {
    {SyscallId::Openat2, false, "flags", kOpenFlags},
    {SyscallId::Openat2, false, "mode", kMode},
    {SyscallId::Openat2, false, "resolve", kResolve},
    {SyscallId::Clone3, false, "flags", kCloneFlags},
    {SyscallId::MountSetattr, false, "attr_set", kMountAttrs},
    {SyscallId::MountSetattr, false, "attr_clr", kMountAttrs},
    {SyscallId::MountSetattr, false, "propagation", kPropagation},
    {SyscallId::MountSetattr, true, "flags", kMountSetattrFlags},
    {SyscallId::OpenTreeAttr, false, "attr_set", kMountAttrs},
    {SyscallId::OpenTreeAttr, false, "attr_clr", kMountAttrs},
    {SyscallId::OpenTreeAttr, false, "propagation", kPropagation},
    {SyscallId::OpenTreeAttr, true, "flags", kOpenTreeFlags},
    {SyscallId::Setxattrat, false, "flags", kXattrFlags},
    {SyscallId::Setxattrat, true, "at_flags", kAtFlags},
    {SyscallId::Getxattrat, false, "flags", kXattrFlags},
    {SyscallId::Getxattrat, true, "at_flags", kAtFlags},
    {SyscallId::FileGetattr, false, "fa_xflags", kFsXflags},
    {SyscallId::FileGetattr, true, "at_flags", kAtFlags},
    {SyscallId::FileSetattr, false, "fa_xflags", kFsXflags},
    {SyscallId::FileSetattr, true, "at_flags", kAtFlags},
    {SyscallId::LandlockCreateRuleset, false, "handled_access_fs", kLandlockFs},
    {SyscallId::LandlockCreateRuleset, false, "handled_access_net", kLandlockNet},
    {SyscallId::LandlockCreateRuleset, false, "scoped", kLandlockScope},
};

std::span<const FlagName> lookup(SyscallId id, bool arg, std::string_view name) {
  for (const auto& r : kNames)
    if (r.id == id && r.arg == arg && r.name == name)
      return r.names;
  return {};
}

std::vector<std::string> namesOf(std::span<const FlagName> names, uint64_t value) {
  std::vector<std::string> out;
  for (const auto& f : names) {
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

}  // namespace

std::span<const FlagName> flagNames(SyscallId id, std::string_view field) {
  return lookup(id, false, field);
}

std::span<const FlagName> argFlagNames(SyscallId id, std::string_view arg) {
  return lookup(id, true, arg);
}

std::vector<std::string> argBitNames(SyscallId id, std::string_view arg, uint64_t value) {
  return namesOf(argFlagNames(id, arg), value);
}

std::vector<std::string> bitNames(SyscallId id, std::string_view field, uint64_t value) {
  return namesOf(flagNames(id, field), value);
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
