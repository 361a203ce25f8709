// SPDX-License-Identifier: MIT
// filter/seccomp_filter.h - renders a rule table (filter/rules.h) as the
// seccomp program extsys installs, through libseccomp. Builds bytes only;
// loading is the launcher's job.
//
// The foreign-ABI action becomes libseccomp's bad-architecture action: the
// program names only the native architecture, so i386 and x32 calls (AArch32
// on aarch64) get it (allowed untouched, or ENOSYS under a strict policy).
// The program does not set no_new_privs itself: the launcher does, before
// loading it.
//
// `arch` renders the program of another architecture in the table (its
// numbers, its audit arch) as far as libseccomp can: it translates rules by
// name through the native table, so a syscall that table lacks (newer than
// libseccomp) is an error there, and it refuses an architecture of the other
// byte order (s390x on x86_64). Only the native program is ever loaded, and
// the golden dumps are each made natively (tests/unit/filter_test.cpp).
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "filter/rules.h"
#include "policy/policy.h"

namespace extsys::filter {

struct BpfProgram {
  std::vector<sock_filter> insns;
};

// A program longer than BPF_MAXINSNS (4096) is an error (E2BIG).
// `rules` must have been built for `arch` (buildRules(p, arch)).
[[nodiscard]] Result<BpfProgram> buildFilter(const RuleSet& rules,
                                             const kernel::ArchDesc& arch = kernel::nativeArch());
[[nodiscard]] Result<BpfProgram> buildFilter(const policy::EffectivePolicy& p,
                                             const kernel::ArchDesc& arch = kernel::nativeArch());

// libseccomp's pseudo-filter-code text of the same program (golden tests).
[[nodiscard]] Result<std::string> filterPfc(const RuleSet& rules,
                                            const kernel::ArchDesc& arch = kernel::nativeArch());
[[nodiscard]] Result<std::string> filterPfc(const policy::EffectivePolicy& p,
                                            const kernel::ArchDesc& arch = kernel::nativeArch());

}  // namespace extsys::filter
