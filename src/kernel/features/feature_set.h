// SPDX-License-Identifier: MIT
// kernel/features/feature_set.h - what the running kernel supports for each
// extensible syscall, and the version table (src/kernel/features/VERSIONS.md)
// that describes mainline kernels by release.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
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

// What a kernel supports for one syscall of the descriptor table.
struct SyscallFeatures {
  bool present = false;
  int disabledErrno = 0;    // present but switched off (Landlock not enabled: EOPNOTSUPP)
  uint32_t structSize = 0;  // the kernel's own struct size (ksize)
  // Accepted bits per flag field (FieldRole Mask or CopyOf), indexed like
  // SyscallDesc::fields; 0 for other fields.
  std::array<uint64_t, kMaxFields> fields{};
  // Accepted bits per checked argument, indexed like SyscallDesc::args.
  std::array<uint64_t, kMaxArgChecks> args{};
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
  std::array<SyscallFeatures, kSyscallCount> syscalls;  // indexed by SyscallId
  std::array<SyscallReport, kSyscallCount> reports;     // indexed by SyscallId
  NotifyFeatures notify;
  int landlockAbi = 0;  // LANDLOCK_CREATE_RULESET_VERSION; 0: no Landlock (absent or off)

  SyscallFeatures& of(SyscallId id) { return syscalls[static_cast<size_t>(id)]; }
  const SyscallFeatures& of(SyscallId id) const { return syscalls[static_cast<size_t>(id)]; }
  SyscallReport& report(SyscallId id) { return reports[static_cast<size_t>(id)]; }
  const SyscallReport& report(SyscallId id) const { return reports[static_cast<size_t>(id)]; }

  // The accepted bits of a field or a checked argument, by name (0 when
  // there is no such field or argument).
  uint64_t field(SyscallId id, std::string_view name) const;
  uint64_t arg(SyscallId id, std::string_view name) const;
  void setField(SyscallId id, std::string_view name, uint64_t bits);
};

// The version table, as data: each row says that from a mainline release
// on, a syscall exists, its struct has a new size, a field or checked
// argument accepts more bits, or (Unconfirmed) a bit extsys knows but whose
// release is not confirmed exists. featuresForVersion() and knownBits() are
// folds over it; src/kernel/features/VERSIONS.md is its documentation.
enum class Gain : uint8_t { Syscall, Size, Field, Arg, Unconfirmed };
struct VersionRow {
  KernelVersion since;
  SyscallId id;
  Gain what;
  std::string_view name;  // Field, Arg, Unconfirmed: the field or argument
  uint64_t value;         // Size: the struct size; else the bits gained
};
std::span<const VersionRow> versionTable();

// The Landlock ABI version of each release that raised it.
struct LandlockAbiRow {
  KernelVersion since;
  int abi;
};
std::span<const LandlockAbiRow> landlockAbiTable();
// The first release with this Landlock ABI (nullopt for an unknown ABI).
std::optional<KernelVersion> releaseOfLandlockAbi(int abi);

// What a mainline kernel of this version accepts. Versions newer than the
// table's last row get that row (the newest kernel extsys knows of). Every
// report says Table; notification features follow the versions they came in.
KernelFeatures featuresForVersion(KernelVersion v);

// Every bit extsys knows a meaning for, on a kernel of this version, per
// field and checked argument: probe results are intersected with these,
// because some kernels accept unknown bits silently
// (src/kernel/features/VERSIONS.md, 'Bits extsys knows'). All bits of every
// row, and the Unconfirmed rows from their version on.
struct KnownBits {
  std::array<SyscallFeatures, kSyscallCount> syscalls;  // only the masks are set
  uint64_t field(SyscallId id, std::string_view name) const;
  uint64_t arg(SyscallId id, std::string_view name) const;
};
KnownBits knownBits(KernelVersion v);

// The 32 legacy clone flags a release's clone3 accepts in the answer's
// sense (CSIGNAL and CLONE_DETACHED included, as the RFC reports them):
// all of them from 5.6 on; before, without CLONE_NEWTIME, which clone3
// rejected with EINVAL (src/kernel/features/VERSIONS.md, clone3).
uint64_t cloneLegacyFlags(KernelVersion v);

// The personas: one per release at which the version table changes what a
// kernel answers or accepts (every row's and every Landlock ABI row's
// release), oldest first, plus the release before the first row (no
// syscall of the table at all). `--policy kernel-X.Y` takes any known
// release; these are the ones with a behaviour of their own.
std::vector<KernelVersion> personaVersions();

}  // namespace extsys::kernel
