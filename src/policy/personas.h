// SPDX-License-Identifier: MIT
// policy/personas.h - the built-in personas: `--policy kernel-X.Y` behaves
// like Linux X.Y (the version table, src/kernel/features/VERSIONS.md)
// without a policy file; `persona = "X.Y"` in a file is the same persona
// with more rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"

namespace extsys::policy {

// A mainline release from kOldestPersona to kNewestPersona ("5.99" is none).
bool knownPersonaRelease(kernel::KernelVersion v);
// "3.0-3.19, 4.0-4.20, ...": for error messages.
std::string knownPersonaReleases();

// "5.10" (major.minor: personas have no patch level).
std::string personaLabel(kernel::KernelVersion v);

// "kernel-5.10" -> 5.10 when it names a known release, else nullopt.
std::optional<kernel::KernelVersion> parsePersonaName(std::string_view name);
std::string personaName(kernel::KernelVersion v);  // "kernel-5.10"

// The policy `--policy kernel-X.Y` stands for: cooperative, persona X.Y,
// nothing else (the same as a file with only `persona = "X.Y"`).
Policy personaPolicy(kernel::KernelVersion v);

// The built-in personas `policy list` shows and `extsys matrix --all` runs:
// kernel::personaVersions(), each a release with a behaviour of its own.
std::vector<kernel::KernelVersion> listedPersonas();

}  // namespace extsys::policy
