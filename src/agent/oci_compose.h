// SPDX-License-Identifier: MIT
// agent/oci_compose.h - extsys's rule table composed into an existing
// seccomp profile (podman's /usr/share/containers/seccomp.json, Docker's
// default, containerd's RuntimeDefault, any file), and the check of a
// profile or config.json made by any tool.
//
// The composition's contract: a call gets what the base profile gives it
// unless the base ALLOWS it, in which case it gets what extsys's table gives
// it (probes: the agent; hidden syscalls: ENOSYS; anything else: allowed).
// So every non-probe call of an allowed syscall is still allowed, every call
// the base denies is still denied with the base's errno (a probe included),
// and the base's defaultAction, defaultErrnoRet, architectures, archMap,
// includes/excludes (capabilities, arches, minKernel) and comments stay.
//
// How, given libseccomp's rule merging (src/agent/README.md, "Composing
// with a base profile"): libseccomp keeps one decision tree per syscall; an
// unconditional rule swallows every conditional rule of the same syscall,
// whatever their actions. So a base ALLOW rule for a syscall extsys
// conditions on bit 63 cannot stay unconditional: the syscall is taken out
// of that rule's names and re-added as two rules with the same gates and
// arguments, ALLOW with bit 63 clear and NOTIFY with bit 63 set - disjoint
// conditions on one argument, so no precedence question arises.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "agent/oci_profile.h"
#include "base/result.h"
#include "filter/rules.h"

namespace extsys::agent {

using ordered_json = nlohmann::ordered_json;

// `base` (a seccomp profile object, in Docker/podman form or in the OCI
// runtime form) with `rules` composed in, and listenerPath/listenerMetadata
// set when a rule notifies. Notes (syscalls the base denies, whose probes
// therefore get the base's answer) go to `warnings`. Fails for tables this
// cannot compose exactly (a syscall with several extsys rules inside a base
// ALLOW rule, strict policies' closed foreign ABIs) and malformed bases.
[[nodiscard]] Result<ordered_json> composeWithBase(const ordered_json& base,
                                                   const filter::RuleSet& rules,
                                                   const ProfileOptions& options,
                                                   std::vector<std::string>& warnings);

// A Docker/podman-form profile resolved for one container, as engines do
// before handing it to runc or crun: `archMap` -> the native architecture
// and its sub-architectures, rules whose includes/excludes (caps, arches,
// minKernel) do not hold dropped, includes/excludes/comment removed.
// `caps`: the container's bounding set (config.json's
// process.capabilities.bounding). A profile already in runtime form is
// returned unchanged.
[[nodiscard]] Result<ordered_json> resolveForContainer(const ordered_json& profile,
                                                       const std::vector<std::string>& caps);

// One finding of `checkProfile`.
struct Finding {
  std::string where;  // "syscalls[3] (openat2)", "listenerPath", ...
  std::string what;
};

// Checks a seccomp profile (or the linux.seccomp of a config.json) the way
// the agent needs it: every bit-63 condition exact (2^63 as an integer, not
// a rounded double) on the right argument of its syscall, a listenerPath
// when something notifies, no unconditional rule swallowing a probe rule,
// probes notified at all; and, given `base` (not null), every rule of the
// base still in force for the calls that are not probes. No findings: fine.
std::vector<Finding> checkProfile(const ordered_json& seccomp, const ordered_json* base);

}  // namespace extsys::agent
