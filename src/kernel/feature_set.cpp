// SPDX-License-Identifier: MIT
// kernel/feature_set.cpp - kernel versions and the per-version feature table.
#include "kernel/feature_set.h"

#include <sys/utsname.h>

#include <charconv>

#include "kernel/uapi_compat.h"

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

KernelFeatures featuresForVersion(KernelVersion v) {
  auto atLeast = [&](int major, int minor) { return v >= KernelVersion{major, minor, 0}; };
  KernelFeatures f;
  f.version = v;
  f.source = FeatureSource::VersionTable;

  // openat2: 5.6. VALID_OPEN_FLAGS 0x7fffc3 (asm-generic) through 7.1;
  // RESOLVE_CACHED in 5.12; OPENAT2_REGULAR (and presumably O_EMPTYPATH) in 7.2.
  if (atLeast(5, 6)) {
    f.openat2.present = true;
    f.openat2.flags = 0x7FFFC3;
    if (atLeast(7, 2))
      f.openat2.flags |= uapi::kOpenat2Regular;
    f.openat2.mode = 07777;
    f.openat2.resolve = atLeast(5, 12) ? 0x3F : 0x1F;
  }

  // clone3: 5.3 (struct 64); set_tid + CLEAR_SIGHAND 5.5 (80); cgroup +
  // INTO_CGROUP 5.7 (88); AUTOREAP, NNP, PIDFD_AUTOKILL 7.1.
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
  if (atLeast(5, 12)) {
    f.mountSetattr.present = true;
    f.mountSetattr.attrs = 0x1000FF;
    if (atLeast(5, 14))
      f.mountSetattr.attrs |= uapi::kMountAttrNosymfollow;
    f.mountSetattr.propagation = uapi::kMountPropagationFlags;
  }
  return f;
}

}  // namespace extsys::kernel
