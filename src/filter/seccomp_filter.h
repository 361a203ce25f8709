// SPDX-License-Identifier: MIT
// filter/seccomp_filter.h - renders a rule table (filter/rules.h) as the
// seccomp program extsys installs, through libseccomp. Builds bytes only;
// loading is the launcher's job.
//
// The foreign-ABI action becomes libseccomp's bad-architecture action: the
// program names only the native architecture, so i386 and x32 calls get it
// (allowed untouched, or ENOSYS under a strict policy). The program does not
// set no_new_privs itself: the launcher does, before loading it.
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

[[nodiscard]] Result<BpfProgram> buildFilter(const RuleSet& rules);
[[nodiscard]] Result<BpfProgram> buildFilter(const policy::EffectivePolicy& p);

// libseccomp's pseudo-filter-code text of the same program (golden tests).
[[nodiscard]] Result<std::string> filterPfc(const RuleSet& rules);
[[nodiscard]] Result<std::string> filterPfc(const policy::EffectivePolicy& p);

}  // namespace extsys::filter
