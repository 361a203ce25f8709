// SPDX-License-Identifier: MIT
// kernel/feature_set.h - what the running kernel supports for each extensible
// syscall, and the version table (spec/kernel-features.md section 0) that
// describes mainline kernels by release.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace extsys::kernel {

struct KernelVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;

  // "6.18.44-fc-v782" -> 6.18.44. Needs at least "major.minor".
  static std::optional<KernelVersion> parse(std::string_view release);
  // The running kernel (uname).
  static Result<KernelVersion> running();
  std::string str() const;
  auto operator<=>(const KernelVersion&) const = default;
};

struct Openat2Features {
  bool present = false;
  uint64_t flags = 0;    // accepted open_how.flags bits
  uint64_t mode = 0;     // accepted open_how.mode bits
  uint64_t resolve = 0;  // accepted RESOLVE_* bits
};

struct Clone3Features {
  bool present = false;
  uint64_t extraFlags = 0;  // accepted clone3-only flags (bits 32 and up)
  uint32_t structSize = 0;  // the kernel's sizeof(struct clone_args)
};

struct MountSetattrFeatures {
  bool present = false;
  uint64_t attrs = 0;        // accepted MOUNT_ATTR_* bits
  uint64_t propagation = 0;  // accepted MS_* propagation bits
};

enum class FeatureSource : uint8_t { VersionTable };

struct KernelFeatures {
  KernelVersion version;
  FeatureSource source = FeatureSource::VersionTable;
  Openat2Features openat2;
  Clone3Features clone3;
  MountSetattrFeatures mountSetattr;
};

// What a mainline kernel of this version accepts. Versions newer than the
// table's last row get that row (the newest kernel extsys knows of).
KernelFeatures featuresForVersion(KernelVersion v);

}  // namespace extsys::kernel
