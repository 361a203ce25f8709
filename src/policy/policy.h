// SPDX-License-Identifier: MIT
// policy/policy.h - what probes advertise and what real calls may use.
//
// A Policy is what a file says (or the built-in default). An
// EffectivePolicy is that policy applied to the running kernel: personas
// expanded, strict mode translated into BPF-decidable rules, and the exact
// answer image every probe receives. What a program is told and what it is
// allowed always agree: the loader rejects policies where they would not.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "kernel/abi/answers.h"
#include "kernel/features/feature_set.h"

namespace extsys::policy {

enum class ProbeMode : uint8_t {
  Emulate,      // answered as the RFC v3 kernel would (masked by advertise)
  Passthrough,  // the kernel answers (no CHECK_FIELDS: E2BIG)
  Hide,         // ENOSYS, as if the syscall did not exist
};
enum class CallMode : uint8_t {
  Allow,     // decided in BPF: the supervisor never sees the call
  Hide,      // ENOSYS in BPF (never EPERM: libc falls back only on ENOSYS)
  Restrict,  // only the allowed bits; violations get deny_errno
};
enum class EnforceMode : uint8_t {
  Cooperative,  // may check the struct and continue: NOT a security boundary
  Strict,       // never continues a call whose decision read target memory
};

const char* name(ProbeMode m);
const char* name(CallMode m);
const char* name(EnforceMode m);

inline constexpr size_t kMaxFields = 11;
// One optional mask per struct field, indexed like SyscallDesc::fields.
using FieldMasks = std::array<std::optional<uint64_t>, kMaxFields>;

struct SyscallPolicy {
  std::optional<ProbeMode> probe;
  std::optional<CallMode> call;
  FieldMasks advertise;
  FieldMasks allow;
  std::optional<int> denyErrno;  // EINVAL or EPERM
  std::string reason;
};

struct Policy {
  std::string name = "default";  // file stem, or "default"
  std::string path;              // empty for the built-in default
  std::string description;
  EnforceMode mode = EnforceMode::Cooperative;
  std::optional<kernel::KernelVersion> persona;
  std::optional<int> probeErrno;
  std::vector<std::string> hide;  // more syscalls to answer ENOSYS in BPF
  std::array<SyscallPolicy, kernel::kSyscallCount> syscalls;
};

// A register-level rule for strict mode: calls of `syscall` with any of the
// `forbidden` bits set in argument `arg` fail with `err` in BPF.
struct ArgRule {
  std::string syscall;
  uint8_t arg = 0;
  uint64_t forbidden = 0;
  int err = 0;
  std::string why;
};

struct EffectiveSyscall {
  ProbeMode probe = ProbeMode::Emulate;
  CallMode call = CallMode::Allow;
  std::array<uint64_t, kMaxFields> allow{};  // Restrict: allowed bits per field
  uint32_t maxStructSize = 0;  // Restrict: bytes past it must be zero (E2BIG)
  int denyErrno = 0;
};

struct EffectivePolicy {
  std::string name;
  EnforceMode mode = EnforceMode::Cooperative;
  int probeErrno = 134;
  std::optional<kernel::KernelVersion> persona;
  std::array<EffectiveSyscall, kernel::kSyscallCount> syscalls;
  kernel::ProbeAnswers answers;      // what an emulated probe receives
  std::vector<ArgRule> argRules;     // strict: legacy fallbacks checked in BPF
  std::vector<std::string> enosys;   // more syscalls answered ENOSYS in BPF
  bool foreignAbisEnosys = false;    // strict: i386 and x32 (AArch32...) calls get ENOSYS
  std::vector<std::string> notes;    // how strict mode translated the policy

  const EffectiveSyscall& of(kernel::SyscallId id) const {
    return syscalls[static_cast<size_t>(id)];
  }
};

// The built-in default: advertise everything the kernel supports, restrict
// nothing.
Policy defaultPolicy();

// Applies `p` to a kernel. Fails only for what depends on the kernel (a
// persona newer than the kernel for a syscall it lacks is not an error: the
// syscall is simply hidden).
[[nodiscard]] Result<EffectivePolicy> makeEffective(const Policy& p, const kernel::KernelFeatures& k);

// The known range of personas.
inline constexpr kernel::KernelVersion kOldestPersona{3, 0, 0};
inline constexpr kernel::KernelVersion kNewestPersona{7, 2, 0};

}  // namespace extsys::policy
