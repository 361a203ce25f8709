// SPDX-License-Identifier: MIT
// launcher/ancestor.h (internal) - the two process models' entry points, and
// the messages of the ancestor model.
//
// The ancestor model's channel to the front (extsys itself, pid P) is one
// SOCK_SEQPACKET socket; the supervisor S writes on it, and so does PROGRAM's
// process until it execs (its copy is close-on-exec):
//
//   'P' pid          S: PROGRAM's process exists (its pidfd attached)
//   'G'              PROGRAM's process: the filter is in, exec follows
//   'B'              PROGRAM's process: an outer listener (EBUSY); it exits
//   'T' signo        S: PROGRAM stopped (by signo)
//   'C'              S: PROGRAM continued
//   'X' code status  S: PROGRAM ended (CLD_EXITED/KILLED/DUMPED, as waitid)
#pragma once

#include <signal.h>

#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "launcher/launcher.h"

namespace extsys::launcher::detail {

[[nodiscard]] int runInPlace(const LaunchSpec& spec, const SupervisorMain& supervisorMain);
[[nodiscard]] int runAncestor(const LaunchSpec& spec, const SupervisorMain& supervisorMain);

// The signal state extsys was started with, for PROGRAM: the front changes
// its own (it blocks what it forwards, and takes SIGCHLD).
struct ProgramSignals {
  sigset_t mask;
  bool chldIgnored = false;
};

// The supervisor side of the ancestor model, in the child of the front:
// forks PROGRAM's process with the front's fds, process group, terminal and
// signal state, then becomes the supervisor. Never returns.
[[noreturn]] void runAncestorSupervisor(const LaunchSpec& spec,
                                        const SupervisorMain& supervisorMain, UniqueFd front,
                                        pid_t frontPid, const ProgramSignals& programSignals);

struct FrontMessage {
  char kind = 0;
  int32_t a = 0;
  int32_t b = 0;
};

// Sends one message (and an fd, when fd >= 0). Never raises SIGPIPE.
Status sendToFront(int sock, FrontMessage m, int fd = -1);

// Whether PID is in a stopped state ('T' or 't' in /proc/PID/stat); when
// that cannot be read, `unknown` is returned.
[[nodiscard]] bool isStopped(pid_t pid, bool unknown);

}  // namespace extsys::launcher::detail
