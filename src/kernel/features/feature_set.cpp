// SPDX-License-Identifier: MIT
// kernel/features/feature_set.cpp - kernel versions and the per-version feature
// table.
#include "kernel/features/feature_set.h"

#include <sys/utsname.h>

#include <algorithm>
#include <charconv>

#include "kernel/abi/uapi_flags.h"

namespace extsys::kernel {

std::optional<KernelVersion> KernelVersion::parse(std::string_view release) {
  KernelVersion v;
  int* parts[3] = {&v.major, &v.minor, &v.patch};
  const char* p = release.data();
  const char* end = release.data() + release.size();
  int parsed = 0;
  for (int i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(p, end, *parts[i]);
    if (ec != std::errc())
      break;
    ++parsed;
    p = next;
    if (p == end || *p != '.')
      break;
    ++p;
  }
  if (parsed < 2)
    return std::nullopt;
  if (v.major <= 0)
    return std::nullopt;
  return v;
}

Result<KernelVersion> KernelVersion::running() {
  utsname u{};
  if (uname(&u) != 0)
    return Error::fromErrno(errno, "uname");
  auto v = parse(u.release);
  if (!v)
    return Error(EINVAL, std::string("cannot parse kernel release '") + u.release + "'");
  return *v;
}

std::string KernelVersion::str() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

const char* sourceName(FeatureSource s) {
  switch (s) {
    case FeatureSource::Native: return "native";
    case FeatureSource::Probe: return "probe";
    case FeatureSource::Table: return "table";
  }
  return "?";
}

namespace {

using enum Gain;
constexpr SyscallId kOpenat2 = SyscallId::Openat2;
constexpr SyscallId kClone3 = SyscallId::Clone3;
constexpr SyscallId kMount = SyscallId::MountSetattr;
constexpr SyscallId kOpenTree = SyscallId::OpenTreeAttr;
constexpr SyscallId kSetx = SyscallId::Setxattrat;
constexpr SyscallId kGetx = SyscallId::Getxattrat;
constexpr SyscallId kFileGet = SyscallId::FileGetattr;
constexpr SyscallId kFileSet = SyscallId::FileSetattr;
constexpr SyscallId kLandlock = SyscallId::LandlockCreateRuleset;

// Each row: from this release on. Sources and evidence per row:
// src/kernel/features/VERSIONS.md.
constexpr VersionRow kRows[] = {
    // clone3: 5.3 (struct 64); set_tid + CLEAR_SIGHAND 5.5 (80); cgroup +
    // INTO_CGROUP 5.7 (88); AUTOREAP, NNP, PIDFD_AUTOKILL 7.1. The answer
    // adds all 32 legacy bits itself (FieldDesc::value).
    {{5, 3}, kClone3, Syscall, {}, 0},
    {{5, 3}, kClone3, Size, {}, 64},
    {{5, 5}, kClone3, Size, {}, 80},
    {{5, 5}, kClone3, Field, "flags", uapi::kCloneClearSighand},
    {{5, 7}, kClone3, Size, {}, 88},
    {{5, 7}, kClone3, Field, "flags", uapi::kCloneIntoCgroup},
    {{7, 1}, kClone3, Field, "flags",
     uapi::kCloneAutoreap | uapi::kCloneNnp | uapi::kClonePidfdAutokill},
    {{7, 1}, kClone3, Unconfirmed, "flags", uapi::kCloneEmptyMntns},

    // openat2: 5.6. VALID_OPEN_FLAGS through 7.1; RESOLVE_CACHED 5.12;
    // OPENAT2_REGULAR 7.2. O_EMPTYPATH (bit 26) is unconfirmed, and bit 26
    // was FMODE_NONOTIFY, silently dropped up to 6.13: it can only mean
    // O_EMPTYPATH from 7.2 on.
    {{5, 6}, kOpenat2, Syscall, {}, 0},
    {{5, 6}, kOpenat2, Size, {}, 24},
    {{5, 6}, kOpenat2, Field, "flags", uapi::kValidOpenFlags},
    {{5, 6}, kOpenat2, Field, "mode", uapi::kModeBits},
    {{5, 6}, kOpenat2, Field, "resolve", uapi::kValidResolveFlags56},
    {{5, 12}, kOpenat2, Field, "resolve", uapi::kResolveCached},
    {{7, 2}, kOpenat2, Field, "flags", uapi::kOpenat2Regular},
    {{7, 2}, kOpenat2, Unconfirmed, "flags", uapi::kOEmptyPath},

    // mount_setattr: 5.12 (FSMOUNT_VALID_FLAGS | IDMAP); NOSYMFOLLOW 5.14.
    // attr_clr takes the same bits but IDMAP (the answer copies attr_set).
    {{5, 12}, kMount, Syscall, {}, 0},
    {{5, 12}, kMount, Size, {}, 32},
    {{5, 12}, kMount, Field, "attr_set", uapi::kMountAttrs512},
    {{5, 12}, kMount, Field, "attr_clr", uapi::kMountAttrs512 & ~uapi::kMountAttrIdmap},
    {{5, 12}, kMount, Field, "propagation", uapi::kMountPropagationFlags},
    {{5, 12}, kMount, Arg, "flags", uapi::kMountSetattrAtFlags},
    {{5, 14}, kMount, Field, "attr_set", uapi::kMountAttrNosymfollow},
    {{5, 14}, kMount, Field, "attr_clr", uapi::kMountAttrNosymfollow},

    // landlock_create_ruleset: 5.13 (ABI 1). The struct grows with the ABI:
    // handled_access_net 6.7 (ABI 4, 16 bytes), scoped 6.12 (ABI 6, 24).
    {{5, 13}, kLandlock, Syscall, {}, 0},
    {{5, 13}, kLandlock, Size, {}, 8},
    {{5, 13}, kLandlock, Field, "handled_access_fs", uapi::kLandlockFsAbi1},
    {{5, 19}, kLandlock, Field, "handled_access_fs", uapi::kLandlockFsRefer},
    {{6, 2}, kLandlock, Field, "handled_access_fs", uapi::kLandlockFsTruncate},
    {{6, 7}, kLandlock, Size, {}, 16},
    {{6, 7}, kLandlock, Field, "handled_access_net",
     uapi::kLandlockNetBindTcp | uapi::kLandlockNetConnectTcp},
    {{6, 10}, kLandlock, Field, "handled_access_fs", uapi::kLandlockFsIoctlDev},
    {{6, 12}, kLandlock, Size, {}, 24},
    {{6, 12}, kLandlock, Field, "scoped",
     uapi::kLandlockScopeAbstractUnixSocket | uapi::kLandlockScopeSignal},
    {{7, 1}, kLandlock, Field, "handled_access_fs", uapi::kLandlockFsResolveUnix},

    // setxattrat, getxattrat: 6.13. xattr_args.flags takes XATTR_CREATE and
    // XATTR_REPLACE in setxattrat and nothing in getxattrat.
    {{6, 13}, kSetx, Syscall, {}, 0},
    {{6, 13}, kSetx, Size, {}, 16},
    {{6, 13}, kSetx, Field, "flags", uapi::kXattrCreate | uapi::kXattrReplace},
    {{6, 13}, kSetx, Arg, "at_flags", uapi::kXattratAtFlags},
    {{6, 13}, kGetx, Syscall, {}, 0},
    {{6, 13}, kGetx, Size, {}, 16},
    {{6, 13}, kGetx, Arg, "at_flags", uapi::kXattratAtFlags},

    // open_tree_attr: 6.15, the masks of mount_setattr; OPEN_TREE_NAMESPACE
    // in the flags argument 7.0.
    {{6, 15}, kOpenTree, Syscall, {}, 0},
    {{6, 15}, kOpenTree, Size, {}, 32},
    {{6, 15}, kOpenTree, Field, "attr_set", uapi::kKnownMountAttrs},
    {{6, 15}, kOpenTree, Field, "attr_clr", uapi::kKnownMountAttrs & ~uapi::kMountAttrIdmap},
    {{6, 15}, kOpenTree, Field, "propagation", uapi::kMountPropagationFlags},
    {{6, 15}, kOpenTree, Arg, "flags", uapi::kOpenTreeFlags615},
    {{7, 0}, kOpenTree, Arg, "flags", uapi::kOpenTreeNamespace},

    // file_getattr, file_setattr: 6.17, FS_XFLAGS_MASK; FS_XFLAG_VERITY 7.0.
    {{6, 17}, kFileGet, Syscall, {}, 0},
    {{6, 17}, kFileGet, Size, {}, 24},
    {{6, 17}, kFileGet, Field, "fa_xflags", uapi::kFsXflagsMask617},
    {{6, 17}, kFileGet, Arg, "at_flags", uapi::kXattratAtFlags},
    {{7, 0}, kFileGet, Field, "fa_xflags", uapi::kFsXflagVerity},
    {{6, 17}, kFileSet, Syscall, {}, 0},
    {{6, 17}, kFileSet, Size, {}, 24},
    {{6, 17}, kFileSet, Field, "fa_xflags", uapi::kFsXflagsMask617},
    {{6, 17}, kFileSet, Arg, "at_flags", uapi::kXattratAtFlags},
    {{7, 0}, kFileSet, Field, "fa_xflags", uapi::kFsXflagVerity},
};

constexpr LandlockAbiRow kLandlockAbi[] = {
    {{5, 13}, 1}, {{5, 19}, 2}, {{6, 2}, 3}, {{6, 7}, 4}, {{6, 10}, 5},
    {{6, 12}, 6}, {{6, 15}, 7}, {{7, 0}, 8}, {{7, 1}, 9},
};

struct NotifyRow {
  KernelVersion since;
  bool NotifyFeatures::*member;
};
constexpr NotifyRow kNotifyRows[] = {
    {{5, 0}, &NotifyFeatures::listener},        {{5, 8}, &NotifyFeatures::pollhup},
    {{5, 9}, &NotifyFeatures::addfd},           {{5, 14}, &NotifyFeatures::addfdSend},
    {{5, 19}, &NotifyFeatures::waitKillableRecv}, {{6, 6}, &NotifyFeatures::syncWakeUp},
};

// Applies a Field/Arg/Unconfirmed row's bits to `s`.
void addBits(SyscallFeatures& s, const VersionRow& r) {
  const SyscallDesc& d = describe(r.id);
  if (r.what == Arg) {
    if (auto i = d.argIndex(r.name))
      s.args[*i] |= r.value;
  } else if (auto i = d.fieldIndex(r.name)) {
    s.fields[*i] |= r.value;
  } else if (auto a = d.argIndex(r.name)) {
    s.args[*a] |= r.value;  // an Unconfirmed bit of an argument
  }
}

}  // namespace

std::span<const VersionRow> versionTable() { return kRows; }
std::span<const LandlockAbiRow> landlockAbiTable() { return kLandlockAbi; }

std::optional<KernelVersion> releaseOfLandlockAbi(int abi) {
  for (const auto& r : kLandlockAbi)
    if (r.abi == abi)
      return r.since;
  return std::nullopt;
}

uint64_t KernelFeatures::field(SyscallId id, std::string_view name) const {
  auto i = describe(id).fieldIndex(name);
  return i ? of(id).fields[*i] : 0;
}

uint64_t KernelFeatures::arg(SyscallId id, std::string_view name) const {
  auto i = describe(id).argIndex(name);
  return i ? of(id).args[*i] : 0;
}

void KernelFeatures::setField(SyscallId id, std::string_view name, uint64_t bits) {
  if (auto i = describe(id).fieldIndex(name))
    of(id).fields[*i] = bits;
}

uint64_t KnownBits::field(SyscallId id, std::string_view name) const {
  auto i = describe(id).fieldIndex(name);
  return i ? syscalls[static_cast<size_t>(id)].fields[*i] : 0;
}

uint64_t KnownBits::arg(SyscallId id, std::string_view name) const {
  auto i = describe(id).argIndex(name);
  return i ? syscalls[static_cast<size_t>(id)].args[*i] : 0;
}

KernelFeatures featuresForVersion(KernelVersion v) {
  KernelFeatures f;
  f.version = v;
  f.release = v.str();
  for (const auto& r : kRows) {
    if (r.since > v || r.what == Unconfirmed)
      continue;
    SyscallFeatures& s = f.of(r.id);
    switch (r.what) {
      case Syscall: s.present = true; break;
      case Size: s.structSize = std::max(s.structSize, static_cast<uint32_t>(r.value)); break;
      default: addBits(s, r); break;
    }
  }
  for (const auto& r : kLandlockAbi)
    if (r.since <= v)
      f.landlockAbi = r.abi;
  for (auto& r : f.reports)
    r.source = FeatureSource::Table;
  f.notify.tested = false;
  f.notify.note = "from the version table";
  for (const auto& r : kNotifyRows)
    f.notify.*r.member = r.since <= v;
  return f;
}

KnownBits knownBits(KernelVersion v) {
  KnownBits k;
  for (const auto& r : kRows) {
    const bool bits = r.what == Field || r.what == Arg || r.what == Unconfirmed;
    if (bits && (r.what != Unconfirmed || r.since <= v))
      addBits(k.syscalls[static_cast<size_t>(r.id)], r);
  }
  return k;
}

uint64_t cloneLegacyFlags(KernelVersion v) {
  // Legacy bits clone3 gained after 5.3: CLONE_NEWTIME (5.6, 769071ac9f20).
  constexpr struct {
    KernelVersion since;
    uint64_t bits;
  } kLegacyGains[] = {{{5, 6}, uapi::kCloneNewtime}};
  uint64_t bits = uapi::kCloneLegacyFlags;
  for (const auto& g : kLegacyGains)
    if (v < g.since)
      bits &= ~g.bits;
  return bits;
}

std::vector<KernelVersion> personaVersions() {
  std::vector<KernelVersion> out;
  for (const auto& r : kRows)
    if (r.what != Unconfirmed)
      out.push_back(r.since);
  for (const auto& r : kLandlockAbi)
    out.push_back(r.since);
  out.push_back({5, 6});  // CLONE_NEWTIME in clone3 (cloneLegacyFlags)
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  // The release before the first row: a minor below it (5.2 before 5.3).
  if (!out.empty() && out.front().minor > 0)
    out.insert(out.begin(), KernelVersion{out.front().major, out.front().minor - 1, 0});
  return out;
}

}  // namespace extsys::kernel
