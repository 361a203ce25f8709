// SPDX-License-Identifier: MIT
// agent/oci_profile.h - the `linux.seccomp` section of an OCI config.json
// that makes a container runtime install the filter `extsys run` would
// install, with the listener sent to the agent.
//
// A rendering of the rule table (filter/rules.h), rule for rule, in its
// order: NOTIFY -> SCMP_ACT_NOTIFY, ERRNO(e) -> SCMP_ACT_ERRNO with errnoRet
// e, each condition -> {index, op: SCMP_CMP_MASKED_EQ, value: mask,
// valueTwo: value}. defaultAction is the table's default (SCMP_ACT_ALLOW).
// The foreign-ABI action decides the architectures: the native one plus its
// compat ABIs (i386, x32 on x86_64) when foreign ABIs are allowed, the native
// one alone when a strict policy closes them; see src/agent/README.md for
// what each choice means for 32-bit programs.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "base/result.h"
#include "filter/rules.h"
#include "policy/policy.h"

namespace extsys::agent {

struct ProfileOptions {
  std::string listenerPath;      // absolute; empty: omitted
  std::string listenerMetadata;  // empty: omitted
};

struct Profile {
  nlohmann::json seccomp;             // the linux.seccomp object
  std::vector<std::string> warnings;  // e.g. names this host's libseccomp does not know
};

[[nodiscard]] Result<Profile> makeOciProfile(const policy::EffectivePolicy& p,
                                             const ProfileOptions& options);
// The same from a rule table; `policyName` is only for warnings.
[[nodiscard]] Result<Profile> makeOciProfile(const filter::RuleSet& rules,
                                             const std::string& policyName,
                                             const ProfileOptions& options);

// One rule of the table in OCI form ({names, action, args, errnoRet}).
nlohmann::json ociRule(const filter::Rule& rule);

// The same table as an LXC seccomp policy (lxc.seccomp.profile), version 2
// syntax: "2", "denylist" (calls no rule names are allowed), then one line
// per rule in the table's order - `NAME notify`, `NAME errno E` - with its
// conditions as LXC writes them: [INDEX,VALUE,SCMP_CMP_MASKED_EQ,MASK] (LXC
// hands libseccomp MASK then VALUE) or [INDEX,VALUE,SCMP_CMP_NE]. LXC applies
// the lines to the native ABI and its compat ABIs alike: its format has no
// way to close a whole ABI, so a policy that closes the foreign ABIs (strict
// mode) gets a warning and its rules on them too.
struct LxcProfile {
  std::string text;
  std::vector<std::string> warnings;
};
LxcProfile makeLxcProfile(const filter::RuleSet& rules, const std::string& policyName);

// "SCMP_ARCH_X86_64" etc. for the native ABI, then its compat ABIs.
std::vector<std::string> ociArchitectures(bool includeCompat);

}  // namespace extsys::agent
