// SPDX-License-Identifier: MIT
// filter/seccomp_filter.h - turns an effective policy into the seccomp
// program extsys installs. Builds bytes only; loading is the launcher's job.
//
// Per described syscall (kernel/syscalls.cpp), from the policy:
//   probes (bit 63 of the size argument set): USER_NOTIF when emulated;
//   real calls: ALLOW, or USER_NOTIF when restricted (cooperative mode);
//   hidden: ERRNO(ENOSYS) for everything.
// Strict mode adds register rules (ERRNO when a forbidden flag bit is set)
// on the legacy fallbacks, ENOSYS for io_uring and the extra hidden
// syscalls, and ENOSYS for the i386 and x32 ABIs. Otherwise i386 and x32
// callers are allowed untouched: a 32-bit size argument cannot carry bit 63,
// so they can never make a CHECK_FIELDS probe.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "policy/policy.h"

namespace extsys::filter {

struct BpfProgram {
  std::vector<sock_filter> insns;
};

[[nodiscard]] Result<BpfProgram> buildFilter(const policy::EffectivePolicy& p);

// libseccomp's pseudo-filter-code text of the same program (golden tests).
[[nodiscard]] Result<std::string> filterPfc(const policy::EffectivePolicy& p);

// The native syscall number of a descriptor; -1 if unknown.
int nativeSyscallNr(const kernel::SyscallDesc& d);

// AUDIT_ARCH_* of the native ABI.
uint32_t nativeAuditArch();

}  // namespace extsys::filter
