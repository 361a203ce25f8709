// SPDX-License-Identifier: MIT
// kernel/features/feature_set.h - what the running kernel supports for each
// extensible syscall, and the version table (src/kernel/features/VERSIONS.md)
// that describes mainline kernels by release.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "kernel/abi/syscalls.h"

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
  uint32_t structSize = 0;  // the kernel's sizeof(struct open_how)
};

struct Clone3Features {
  bool present = false;
  uint64_t extraFlags = 0;  // accepted clone3-only flags (bits 32 and up)
  uint32_t structSize = 0;  // the kernel's sizeof(struct clone_args)
};

struct MountSetattrFeatures {
  bool present = false;
  uint64_t attrs = 0;        // accepted MOUNT_ATTR_* bits in attr_set
  uint64_t attrsClr = 0;     // accepted in attr_clr (informational)
  uint64_t propagation = 0;  // accepted MS_* propagation bits
  uint32_t structSize = 0;   // the kernel's sizeof(struct mount_attr)
};

// Where one syscall's facts came from, in order of trust.
enum class FeatureSource : uint8_t {
  Native,  // the kernel answered CHECK_FIELDS itself
  Probe,   // safe active probes (src/kernel/discovery/RECIPES.md)
  Table,   // the version table (probing impossible or skipped)
};
const char* sourceName(FeatureSource s);

// A field where the probe and the version table disagree (the probe wins).
struct Disagreement {
  std::string field;
  uint64_t table = 0;
  uint64_t probe = 0;
};

struct SyscallReport {
  FeatureSource source = FeatureSource::Table;
  std::string note;  // why Table, what was skipped, quirks seen
  std::vector<Disagreement> disagreements;
  uint64_t unknownAccepted = 0;  // bits the kernel accepts that extsys does not know
};

// Seccomp user-notification features (src/kernel/features/VERSIONS.md,
// 'Seccomp notification features').
struct NotifyFeatures {
  bool tested = false;
  std::string note;  // why not tested
  bool listener = false;          // 5.0
  bool pollhup = false;           // 5.8
  bool addfd = false;             // 5.9
  bool addfdSend = false;         // 5.14
  bool waitKillableRecv = false;  // 5.19
  bool syncWakeUp = false;        // 6.6
};

struct KernelFeatures {
  KernelVersion version;
  std::string release;  // uname -r
  Openat2Features openat2;
  Clone3Features clone3;
  MountSetattrFeatures mountSetattr;
  std::array<SyscallReport, kSyscallCount> reports;  // indexed by SyscallId
  NotifyFeatures notify;

  SyscallReport& report(SyscallId id) { return reports[static_cast<size_t>(id)]; }
  const SyscallReport& report(SyscallId id) const { return reports[static_cast<size_t>(id)]; }
};

// What a mainline kernel of this version accepts. Versions newer than the
// table's last row get that row (the newest kernel extsys knows of). Every
// report says Table; notification features follow the versions they came in.
KernelFeatures featuresForVersion(KernelVersion v);

// Every bit extsys knows a meaning for, on a kernel of this version or newer:
// probe results are intersected with these, because some kernels accept
// unknown bits silently (src/kernel/features/VERSIONS.md, 'Bits extsys knows').
struct KnownBits {
  uint64_t openFlags, openMode, resolve, cloneExtra, mountAttrs, propagation;
};
KnownBits knownBits(KernelVersion v);

}  // namespace extsys::kernel
