// SPDX-License-Identifier: MIT
// policy/strict.h - strict mode, organised by what a policy keeps from the
// program (a "capability": making set-id files, joining a user namespace,
// changing mount attributes, ...) rather than by syscall.
//
// ONE table (strict.cpp, routes()) lists, per capability, every syscall that
// reaches it, the argument and condition that decide it, the errno and why.
// The table becomes EffectivePolicy::argRules and ::enosys, and from there
// the one rule table (filter/rules.h) that both the run filter and
// `extsys oci-profile` render: a route added here is in both, or in neither.
//
// Which capabilities a policy forbids follows from what it restricts:
//   [openat2] forbidden flags            -> OpenFlags
//   [openat2] forbidden mode bits        -> FileModes (S_ISUID|S_ISGID: set-id files)
//   [clone3] forbidden flags             -> CloneFlags (CLONE_NEWUSER: new user namespaces)
//     ... of them, namespace types       -> JoinNamespaces (setns into such a namespace)
//   [mount_setattr] any attribute or propagation forbidden -> MountAttributes
//   every strict policy                  -> IoUring, ForeignAbis, TerminalInput,
//                                           OtherProcessLimits
// Only register values decide (no race can change them); what lives in
// memory is hidden instead (ENOSYS), so libc falls back to a register form.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "kernel/abi/syscalls.h"
#include "policy/policy.h"

namespace extsys::policy::strict {

enum class Capability : uint8_t {
  OpenFlags,           // open flags openat2 may not use
  FileModes,           // file mode bits openat2 may not create (set-id files)
  CloneFlags,          // clone flags clone3 may not use (new namespaces)
  JoinNamespaces,      // entering an existing namespace of a forbidden type
  MountAttributes,     // changing a mount's attributes or propagation
  IoUring,             // io_uring: its operations bypass seccomp
  ForeignAbis,         // i386 and x32 calls (no routes: the filter's bad-arch action)
  TerminalInput,       // typing into the terminal (TIOCSTI, TIOCLINUX)
  OtherProcessLimits,  // setting another process's resource limits
  XattrSet,            // setxattrat's flags and AT_* forms, on the legacy calls
};
inline constexpr size_t kCapabilityCount = 10;

const char* name(Capability c);

enum class Shape : uint8_t {
  Bits,       // arg: one rule per forbidden bit the argument carries (within)
  FixedBit,   // arg: (arg & value) == value, when the capability is forbidden
  Whole,      // every call, when a forbidden bit is in `within`
  Hide,       // ENOSYS, every call, when the capability is forbidden
  Low32Eq,    // (arg & 0xffffffff) == value, when a forbidden bit is in `within`
  OtherPid,   // arg != 0 (another process) and arg `arg2` != 0 (a new value)
};

enum class ErrnoFrom : uint8_t {
  Policy,  // the restricted syscall's deny_errno
  Eperm,   // always EPERM (capabilities every strict policy forbids)
};

enum class Arches : uint8_t {
  All,
  // x86_64's old calls (open, creat, chmod, mknod): the asm-generic
  // architectures (arm64, riscv64) never had them. The rule table drops
  // them there (filter::buildRules(p, arch), RuleSet::absent), not an error.
  LegacyOnly,
};

struct Route {
  Capability capability;
  std::string_view syscall;
  Shape shape;
  uint8_t arg = 0;
  uint64_t within = ~0ULL;  // the forbidden bits this route concerns
  uint64_t value = 0;       // FixedBit, Low32Eq: the value; OtherPid: arg2
  ErrnoFrom err = ErrnoFrom::Policy;
  Arches arches = Arches::All;
  std::string_view why;
};

// The table, grouped by capability.
std::span<const Route> routes();

// What a policy forbids of one capability: the bits (in the terms of the
// routes' arguments: MS_* for MountAttributes) and the errno.
struct Forbidden {
  bool on = false;
  uint64_t bits = 0;
  int err = 0;
};

// The capabilities a restricted syscall's decided allow masks forbid.
[[nodiscard]] std::array<Forbidden, kCapabilityCount> forbiddenBy(kernel::SyscallId id,
                                                                   const EffectiveSyscall& decided);

// Strict mode for one restricted syscall: it is hidden (its flags live in
// memory) and the routes of what it forbids become register rules.
void translate(kernel::SyscallId id, EffectiveSyscall& decided, EffectivePolicy& e);

// What every strict policy closes: io_uring, the foreign ABIs, typing into
// the terminal, other processes' resource limits.
void closeSideDoors(EffectivePolicy& e);

}  // namespace extsys::policy::strict
