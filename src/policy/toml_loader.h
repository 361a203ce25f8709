// SPDX-License-Identifier: MIT
// policy/toml_loader.h - policy files (TOML, documented in policies/README.md).
// The only file that includes the TOML library.
#pragma once

#include <string>

#include "base/result.h"
#include "policy/policy.h"

namespace extsys::policy {

// Parses and validates a policy. Every error message is
// "FILE:LINE:COL: message"; unknown keys, unknown flag names and impossible
// combinations are errors.
[[nodiscard]] Result<Policy> parsePolicy(std::string_view text, const std::string& path);
// Reads PATH (a regular file of at most 1 MiB, base/files.h; a symbolic
// link to one is fine) and parses it. Errors before parsing are
// "PATH: message" ("PATH: Is a directory").
[[nodiscard]] Result<Policy> loadPolicyFile(const std::string& path);

}  // namespace extsys::policy
