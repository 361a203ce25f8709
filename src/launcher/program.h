// SPDX-License-Identifier: MIT
// launcher/program.h (internal) - the process that becomes PROGRAM: the
// filter, no_new_privs, the handover of the listener, and exec with the
// shell's messages. The same in both process models; only who runs it
// differs (extsys itself in place, the supervisor's child as an ancestor).
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "launcher/launcher.h"

namespace extsys::launcher::detail {

void message(const std::string& text);

// One line and the status for a PROGRAM that cannot be started, from its
// path search (before anything is forked).
[[nodiscard]] int reportNotStartable(const std::string& program, const Error& notFound);

// Installs the filter with a listener in the calling process: no_new_privs
// only where the kernel demands it (no CAP_SYS_ADMIN) or spec.noNewPrivs
// says Always. EBUSY: already under another listener; then, for
// --nested=passthrough, no_new_privs has not been set.
[[nodiscard]] Result<UniqueFd> installListener(const LaunchSpec& spec);

// The message of a nested listener (EBUSY) in --nested=fail mode.
std::string nestedMessage();

// Under a strict policy (spec.containment): no_new_privs, then the Landlock
// domain (launcher/containment.h), at least at the level planned. Nothing
// otherwise.
[[nodiscard]] Status confineProgramProcess(const LaunchSpec& spec);

// PROGRAM without a supervisor (spec.supervised false): contained, the
// filter without a listener, exec in this process. Returns only on failure.
[[nodiscard]] int runUnsupervised(const LaunchSpec& spec);

enum class Armed : uint8_t { Ready, Busy, Failed };
// Everything between "this process will become PROGRAM" and exec: the one
// place for further confinement, the filter, the listener sent over `sock`
// (SCM_RIGHTS), and (AwaitReady) the supervisor's answer. Busy: nested
// listener (nothing sent but "B"); Failed: a message has been printed.
[[nodiscard]] Armed armProgramProcess(const LaunchSpec& spec, int sock, Handover handover);

// execvp(PROGRAM); on failure one line as the shell would say it and 126 or
// 127 (a missing #! interpreter: "bad interpreter", 127).
[[nodiscard]] int execProgram(const std::vector<std::string>& args);

// The supervisor's answer to the listener: 'R' ready, 'E' + message.
inline constexpr char kReady = 'R';
inline constexpr char kFailed = 'E';
inline constexpr char kListener = 'L';
inline constexpr char kBusy = 'B';

}  // namespace extsys::launcher::detail
