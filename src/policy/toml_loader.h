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
[[nodiscard]] Result<Policy> loadPolicyFile(const std::string& path);

}  // namespace extsys::policy
