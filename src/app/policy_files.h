// SPDX-License-Identifier: MIT
// app/policy_files.h - `--policy NAME|FILE`: where policies are found, and
// the effective policy for the running kernel.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "kernel/discovery/current_features.h"
#include "policy/policy.h"

namespace extsys::app {

// $EXTSYS_POLICY_DIR, the source tree's policies/ (when run from a build
// tree, and only in a -Dbuild_tree_policies=true build), then the installed
// data directory.
std::vector<std::string> policySearchDirs();

// A path (contains '/' or ends in .toml) or a NAME searched in those
// directories; empty: the built-in default. Errors are "file:line:col: ...".
[[nodiscard]] Result<policy::Policy> loadPolicyArg(const std::string& arg);

}  // namespace extsys::app
