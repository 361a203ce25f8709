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

// A directory `--policy NAME` searches, and why it is on the list.
struct PolicyDir {
  std::string path;
  std::string origin;  // "$EXTSYS_POLICY_DIR", "source tree of this build", ...
};

// In this order: $EXTSYS_POLICY_DIR (when set), the source tree's policies/
// (only for a binary run from the build tree it was built in, and only in a
// -Dbuild_tree_policies=true build), the user's
// $XDG_CONFIG_HOME/extsys/policies (default $HOME/.config/extsys/policies),
// /etc/extsys/policies, the installed <datadir>/extsys/policies. Directories
// that do not exist are listed too (policy list shows them).
std::vector<PolicyDir> policySearchDirs();

// Loads PATH, found by name in DIR (one of those directories): both must be
// owned by root or by us and writable by no one else (the file is checked
// as opened), or the error names the path and says why.
[[nodiscard]] Result<policy::Policy> loadFoundPolicy(const std::string& dir,
                                                     const std::string& path);

// A path (contains '/' or ends in .toml), a built-in persona kernel-X.Y
// (policy/personas.h), or a NAME searched in those directories; empty: the
// built-in default. Errors: "PATH: message" for a
// file that is no regular file, too large or refused, "FILE:LINE:COL: ..."
// for one that does not parse.
[[nodiscard]] Result<policy::Policy> loadPolicyArg(const std::string& arg);

}  // namespace extsys::app
