// SPDX-License-Identifier: MIT
// filter/rules.h - the filter as data: one ordered rule table per effective
// policy. Every form extsys hands a kernel or a container runtime is a
// rendering of this table and nothing else: the seccomp program `extsys run`
// loads (filter/seccomp_filter.cpp) and the OCI linux.seccomp section
// (agent/oci_profile.cpp). A rule that is not here is in no filter.
//
// The table, in order:
//   1. per described syscall (kernel/abi/syscalls.cpp), from the policy:
//      hidden: ERRNO(ENOSYS), whatever the arguments;
//      probes (bit 63 of the size argument) emulated and real calls
//        restricted: NOTIFY, whatever the arguments;
//      probes only: NOTIFY when (size & bit 63) == bit 63;
//      restricted real calls only: NOTIFY when (size & bit 63) == 0;
//      otherwise no rule (the default action allows it);
//   2. the extra hidden syscalls (policy `hide`, strict mode's hidden routes:
//      io_uring, the new mount API): ERRNO(ENOSYS);
//   3. strict mode's register rules (policy/strict.h, one per route):
//      ERRNO(errno) for every call, or when its checks hold - one rule per
//      forbidden bit ((arg & bit) == bit), a 32-bit equality
//      ((arg & 0xffffffff) == value), or arg != 0.
//      A syscall already denied whatever its arguments gets no other rules.
// So a syscall either has one rule without conditions, or rules that all
// share one action: no two rules of a syscall ever disagree (the routes of
// one syscall come from one restricted syscall, or are all EPERM).
//
// A rule for a syscall the architecture does not have (open, creat, mknod...
// on aarch64 and riscv64: kernel/abi/arch.h) is dropped, not an error: no
// program can make that call there, and the call it makes instead (openat)
// has its own rule. The dropped names are kept in RuleSet::absent, so that
// `extsys policy check` can say so. A name no architecture knows is still an
// error when the filter is built.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel/abi/arch.h"
#include "policy/policy.h"

namespace extsys::filter {

enum class ActionKind : uint8_t {
  Allow,   // the kernel runs the call
  Notify,  // the supervisor decides (seccomp user notification)
  Errno,   // the call fails with `err`, in BPF
};

struct Action {
  ActionKind kind = ActionKind::Allow;
  int err = 0;  // Errno only: a positive errno

  static constexpr Action allow() { return {ActionKind::Allow, 0}; }
  static constexpr Action notify() { return {ActionKind::Notify, 0}; }
  static constexpr Action fail(int e) { return {ActionKind::Errno, e}; }
  bool operator==(const Action&) const = default;
};

// How an argument is compared. Only those extsys needs; each renderer maps
// them to its own names (SCMP_CMP_MASKED_EQ, SCMP_CMP_NE).
enum class CmpOp : uint8_t {
  MaskedEq,  // (arg & mask) == value, on all 64 bits
  Ne,        // arg != value, on all 64 bits (mask unused: all ones)
};

struct ArgCondition {
  uint8_t arg = 0;  // argument index, 0-5
  CmpOp op = CmpOp::MaskedEq;
  uint64_t mask = 0;
  uint64_t value = 0;
  bool operator==(const ArgCondition&) const = default;
  // Whether a call with these arguments meets it: the table's own meaning.
  bool holds(const uint64_t (&args)[6]) const;
};

struct Rule {
  std::string syscall;  // by name: each renderer resolves it its own way
  Action action;
  std::vector<ArgCondition> conditions;  // all must hold; empty: every call
  bool operator==(const Rule&) const = default;
};

struct RuleSet {
  // Native-ABI calls no rule matches.
  Action defaultAction = Action::allow();
  // Calls of the foreign ABIs (i386 and x32 on x86_64, AArch32 on aarch64:
  // kernel::ArchDesc::compatAbis): they cannot carry
  // bit 63 in a 32-bit size argument, so they are allowed untouched, unless
  // a strict policy closes them (ENOSYS).
  Action foreignAbi = Action::allow();
  std::vector<Rule> rules;  // in this order
  // Syscalls the policy has rules for that this architecture lacks (sorted,
  // each once): their rules were dropped.
  std::vector<std::string> absent;

  // Whether any rule notifies: if none, nothing needs a supervisor.
  bool notifies() const;
};

// The complete table for a policy on an architecture (the native one unless
// a test asks for another). Pure: no system call, no libseccomp.
[[nodiscard]] RuleSet buildRules(const policy::EffectivePolicy& p,
                                 const kernel::ArchDesc& arch = kernel::nativeArch());

// `extsys run --audit-hidden` (cooperative policies only; a strict one is
// left as it is): the described syscalls the policy hides are notified
// instead of failed in BPF. The supervisor answers them ENOSYS all the
// same, and its audit log records them.
void notifyHidden(RuleSet& rules, const policy::EffectivePolicy& p);

}  // namespace extsys::filter
