// SPDX-License-Identifier: MIT
// app/oci_files.h - the file side of `extsys oci-profile`: --base (compose
// into an existing profile), --into (merge into a config.json in place) and
// --check (validate a profile or config made by any tool).
#pragma once

#include <string>

#include "agent/oci_compose.h"
#include "agent/oci_profile.h"
#include "base/result.h"
#include "filter/rules.h"

namespace extsys::app {

// A JSON file, numbers exact (2^63 stays an integer), keys in file order.
[[nodiscard]] Result<agent::ordered_json> readJsonFile(const std::string& path);

// The linux.seccomp object to print or merge: the table alone (`basePath`
// empty) or composed into the base; for a config (`forConfig` not null) a
// Docker/podman-form base is resolved for that container first (its
// bounding capabilities, this machine's architecture and kernel).
[[nodiscard]] Result<agent::ordered_json> seccompSection(const filter::RuleSet& rules,
                                                         const std::string& policyName,
                                                         const agent::ProfileOptions& options,
                                                         const std::string& basePath,
                                                         const agent::ordered_json* forConfig);

// Replaces config.json's linux.seccomp with `seccomp`, in place: everything
// else byte for byte, the file replaced atomically (rename) with its mode
// and owner; a symbolic link's target is what is replaced.
[[nodiscard]] Status mergeIntoConfig(const std::string& configPath,
                                     const agent::ordered_json& seccomp);

// `extsys oci-profile --check FILE [--base BASE]`: prints findings; 0 if
// none, 1 if any, 2 if a file cannot be read.
int checkCommand(const std::string& path, const std::string& basePath);

}  // namespace extsys::app
