// SPDX-License-Identifier: MIT
// launcher/supervisor_process.h (internal) - what turns a forked copy of
// extsys into a supervisor process, in either model: its own session, cwd
// "/", none of the caller's fds, signals from terminals and shells ignored.
#pragma once

#include <signal.h>

#include <initializer_list>

#include "base/result.h"

namespace extsys::launcher::detail {

// Closes every fd >= 3 except `keep`: close_range(2) (Linux 5.9+), else the
// fds /proc/self/fd lists, else every number below RLIMIT_NOFILE. Fails
// only if none of these could be used.
[[nodiscard]] Status closeFdsExcept(std::initializer_list<int> keep);

// The signals a terminal sends to its foreground job (^C, ^\, hang-up and
// job control). The supervisor ignores them: it leaves the job's process
// group with setsid, but one sent to the group before may be pending. The
// in-place launcher keeps them blocked across the fork until it has.
inline constexpr int kTerminalSignals[] = {SIGINT, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU};

// setsid, chdir("/"), the supervisor's signal dispositions (kTerminalSignals
// and SIGPIPE ignored, SIGCHLD default) and mask (`blocked`, nothing else),
// and its name "extsys-super".
void becomeSupervisorProcess(const sigset_t& blocked);

// Opens /dev/null (close-on-exec) on each of fds 0, 1 and 2 that is closed,
// so that nothing extsys opens lands there; PROGRAM still finds them closed,
// since exec closes these copies.
void occupyClosedStdio();

}  // namespace extsys::launcher::detail
