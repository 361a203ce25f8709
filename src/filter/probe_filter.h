// SPDX-License-Identifier: MIT
// filter/probe_filter.h - turns the syscall descriptor table into the seccomp
// program extsys installs: USER_NOTIF for a native-arch call of a described
// syscall whose size argument has bit 63 (CHECK_FIELDS) set, ALLOW for
// everything else. Builds bytes only; loading is the launcher's job.
//
// i386 and x32 callers are allowed untouched: a 32-bit size argument cannot
// carry bit 63, so they can never make a CHECK_FIELDS probe.
#pragma once

#include <linux/filter.h>

#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "kernel/syscalls.h"

namespace extsys::filter {

struct BpfProgram {
  std::vector<sock_filter> insns;
};

[[nodiscard]] Result<BpfProgram> buildProbeFilter(std::span<const kernel::SyscallDesc> syscalls);

// libseccomp's pseudo-filter-code text of the same program (golden tests,
// `extsys filter --dump` style debugging).
[[nodiscard]] Result<std::string> probeFilterPfc(std::span<const kernel::SyscallDesc> syscalls);

// The native syscall number of a descriptor, resolved through libseccomp's
// table (never hand-coded); -1 if this libseccomp does not know it.
int nativeSyscallNr(const kernel::SyscallDesc& d);

// AUDIT_ARCH_* of the native ABI.
uint32_t nativeAuditArch();

}  // namespace extsys::filter
