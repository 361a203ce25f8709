// SPDX-License-Identifier: MIT
// agent/oci_profile.h - the `linux.seccomp` section of an OCI config.json
// that makes a container runtime install the filter `extsys run` would
// install, with the listener sent to the agent.
//
// The rules are those of filter/seccomp_filter.cpp, in the same order, in
// OCI form:
//   probes (bit 63 of the size argument): SCMP_ACT_NOTIFY with
//     {index: sizeArg, op: SCMP_CMP_MASKED_EQ, value: 1<<63, valueTwo: 1<<63};
//   restricted real calls (cooperative): SCMP_ACT_NOTIFY (valueTwo 0 when
//     probes are not emulated, no condition when both are notified);
//   hidden syscalls: SCMP_ACT_ERRNO, errnoRet 38 (ENOSYS);
//   strict register rules: SCMP_ACT_ERRNO with errnoRet, one rule per
//     forbidden bit (MASKED_EQ bit, bit).
// defaultAction is SCMP_ACT_ALLOW. Architectures: the native one, plus the
// compat ABIs (i386, x32 on x86_64) unless the policy is strict; see
// src/agent/README.md for what each choice means for 32-bit programs.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "base/result.h"
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

// "SCMP_ARCH_X86_64" etc. for the native ABI, then its compat ABIs.
std::vector<std::string> ociArchitectures(bool includeCompat);

}  // namespace extsys::agent
