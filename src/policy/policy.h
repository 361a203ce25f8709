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
#include <string_view>
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

// Strict policies contain PROGRAM (launcher/containment.h): the weakest
// containment a run accepts. The strongest the kernel offers is always used;
// below this, `extsys run` refuses to start.
enum class ContainmentFloor : uint8_t {
  Full,        // ptrace-class access, signals and abstract unix sockets (Landlock ABI >= 6)
  PtraceOnly,  // ptrace-class access only (Landlock ABI 1-5): an explicit opt-in
  None,        // no containment (no Landlock): an explicit opt-in
};

const char* name(ProbeMode m);
const char* name(CallMode m);
const char* name(EnforceMode m);
const char* name(ContainmentFloor f);  // "full", "ptrace-only", "none"
[[nodiscard]] Result<ContainmentFloor> parseContainmentFloor(std::string_view text);

inline constexpr size_t kMaxFields = kernel::kMaxFields;
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
  std::optional<ContainmentFloor> containment;  // strict only; default Full
  std::array<SyscallPolicy, kernel::kSyscallCount> syscalls;
};

// How a strict rule tests one argument register (policy/strict.h).
enum class ArgTest : uint8_t {
  AnyBitOf,  // (arg & bit) == bit for a bit of `value`: one filter rule per bit
  Low32Eq,   // (arg & 0xffffffff) == value: the kernel reads an int there
  NonZero,   // arg != 0, on all 64 bits
};

struct ArgCheck {
  uint8_t arg = 0;
  ArgTest test = ArgTest::AnyBitOf;
  uint64_t value = 0;
  bool operator==(const ArgCheck&) const = default;
};

// A register-level rule for strict mode: calls of `syscall` for which every
// check holds (no checks: every call) fail with `err` in BPF. At most one
// check of a rule is AnyBitOf.
struct ArgRule {
  std::string syscall;
  std::vector<ArgCheck> checks;
  int err = 0;
  std::string capability;  // what it keeps from the program (policy/strict.h)
  std::string why;
};

struct EffectiveSyscall {
  ProbeMode probe = ProbeMode::Emulate;
  CallMode call = CallMode::Allow;
  std::array<uint64_t, kMaxFields> allow{};  // Restrict: allowed bits per field
  // Restrict: allowed bits per checked argument (SyscallDesc::args): a
  // persona's kernel rejects newer flags there with EINVAL.
  std::array<uint64_t, kernel::kMaxArgChecks> argAllow{};
  uint32_t maxStructSize = 0;  // Restrict: bytes past it must be zero (E2BIG)
  int denyErrno = 0;
  // Restrict with a persona: the answer to the syscall's ABI version query
  // (SyscallDesc::abiQuery; Landlock), 0 to let the kernel answer.
  int abiVersion = 0;
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
  bool foreignAbisEnosys = false;    // strict: the compat ABIs (i386, x32, AArch32...) get ENOSYS
  ContainmentFloor containment = ContainmentFloor::Full;  // strict: see ContainmentFloor
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
