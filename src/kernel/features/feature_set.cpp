// SPDX-License-Identifier: MIT
// kernel/features/feature_set.cpp - kernel versions and the per-version feature
// table.
#include "kernel/features/feature_set.h"

#include <sys/utsname.h>

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

KernelFeatures featuresForVersion(KernelVersion v) {
  auto atLeast = [&](int major, int minor) { return v >= KernelVersion{major, minor, 0}; };
  KernelFeatures f;
  f.version = v;
  f.release = v.str();

  // openat2: 5.6. VALID_OPEN_FLAGS through 7.1;
  // RESOLVE_CACHED in 5.12; OPENAT2_REGULAR in 7.2 (O_EMPTYPATH, bit 26, is
  // unconfirmed: the probe settles it).
  if (atLeast(5, 6)) {
    f.openat2.present = true;
    f.openat2.flags = uapi::kValidOpenFlags;
    if (atLeast(7, 2))
      f.openat2.flags |= uapi::kOpenat2Regular;
    f.openat2.mode = uapi::kModeBits;
    f.openat2.resolve = atLeast(5, 12) ? uapi::kValidResolveFlags : uapi::kValidResolveFlags56;
    f.openat2.structSize = 24;
  }

  // clone3: 5.3 (struct 64); set_tid + CLEAR_SIGHAND 5.5 (80); cgroup +
  // INTO_CGROUP 5.7 (88); AUTOREAP, NNP, PIDFD_AUTOKILL 7.1 (EMPTY_MNTNS
  // unconfirmed: left to the probe).
  if (atLeast(5, 3)) {
    f.clone3.present = true;
    f.clone3.structSize = 64;
    if (atLeast(5, 5)) {
      f.clone3.extraFlags |= uapi::kCloneClearSighand;
      f.clone3.structSize = 80;
    }
    if (atLeast(5, 7)) {
      f.clone3.extraFlags |= uapi::kCloneIntoCgroup;
      f.clone3.structSize = 88;
    }
    if (atLeast(7, 1))
      f.clone3.extraFlags |= uapi::kCloneAutoreap | uapi::kCloneNnp | uapi::kClonePidfdAutokill;
  }

  // mount_setattr: 5.12 (FSMOUNT_VALID_FLAGS | IDMAP); NOSYMFOLLOW 5.14.
  // attr_clr takes the same bits but IDMAP, and the atime field as a whole.
  if (atLeast(5, 12)) {
    f.mountSetattr.present = true;
    f.mountSetattr.attrs = uapi::kMountAttrs512;
    if (atLeast(5, 14))
      f.mountSetattr.attrs |= uapi::kMountAttrNosymfollow;
    f.mountSetattr.attrsClr = f.mountSetattr.attrs & ~uapi::kMountAttrIdmap;
    f.mountSetattr.propagation = uapi::kMountPropagationFlags;
    f.mountSetattr.structSize = 32;
  }

  for (auto& r : f.reports)
    r.source = FeatureSource::Table;
  f.notify.tested = false;
  f.notify.note = "from the version table";
  f.notify.listener = atLeast(5, 0);
  f.notify.pollhup = atLeast(5, 8);
  f.notify.addfd = atLeast(5, 9);
  f.notify.addfdSend = atLeast(5, 14);
  f.notify.waitKillableRecv = atLeast(5, 19);
  f.notify.syncWakeUp = atLeast(6, 6);
  return f;
}

KnownBits knownBits(KernelVersion v) {
  KnownBits k{};
  k.openFlags = uapi::kValidOpenFlags | uapi::kOpenat2Regular;
  // Bit 26 was FMODE_NONOTIFY, silently dropped up to 6.13; it can only mean
  // O_EMPTYPATH on 7.2 and later.
  if (v >= KernelVersion{7, 2, 0})
    k.openFlags |= uapi::kOEmptyPath;
  k.openMode = uapi::kModeBits;
  k.resolve = uapi::kValidResolveFlags;
  k.cloneExtra = uapi::kCloneClearSighand | uapi::kCloneIntoCgroup | uapi::kCloneAutoreap |
                 uapi::kCloneNnp | uapi::kClonePidfdAutokill | uapi::kCloneEmptyMntns;
  k.mountAttrs = uapi::kKnownMountAttrs;
  k.propagation = uapi::kMountPropagationFlags;
  return k;
}

}  // namespace extsys::kernel
