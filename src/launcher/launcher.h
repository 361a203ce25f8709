// SPDX-License-Identifier: MIT
// launcher/launcher.h - exec in place: `extsys run -- PROGRAM` becomes PROGRAM
// (same pid, parent, terminal, process group, exit status) under a seccomp
// filter whose listener is served by a detached supervisor process.
//
//   launcher (pid P)                    supervisor S (grandchild, own session)
//   fork -> C -> fork S; C exits        awaitListener()
//   NO_NEW_PRIVS; seccomp(NEW_LISTENER)
//   send listener (SCM_RIGHTS)   ---->  gets the listener
//   wait for "ready"             <----  ready(status), then serves
//   execvp(PROGRAM)
//
// S is not a child of PROGRAM (so PROGRAM's wait(-1) never sees it) and holds
// none of PROGRAM's fds, cwd or terminal. The launcher's own fds are all
// close-on-exec, so nothing of extsys leaks into PROGRAM.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "filter/seccomp_filter.h"

namespace extsys::launcher {

// The exit statuses of env(1) and timeout(1).
inline constexpr int kExitLauncherFailed = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

enum class NestedMode : uint8_t {
  Fail,         // already under another seccomp listener: exit 125
  Passthrough,  // run PROGRAM without extsys's interposition
};

struct LaunchSpec {
  std::vector<std::string> argv;  // PROGRAM [ARGS...]
  filter::BpfProgram program;
  NestedMode nested = NestedMode::Fail;
};

// The supervisor's side of the start-up handshake.
class Handshake {
public:
  explicit Handshake(UniqueFd sock) : sock_(std::move(sock)) {}
  // Blocks until the launcher sends the listener. An error means the launcher
  // gave up (it has reported why); the supervisor should exit quietly.
  [[nodiscard]] Result<UniqueFd> awaitListener();
  // Tells the launcher to exec PROGRAM (ok) or to fail with this message.
  void ready(const Status& status);

private:
  UniqueFd sock_;
};

enum class KeepStderr : uint8_t { No, Yes };
// Points the supervisor's stdin/stdout (and stderr unless kept) at /dev/null,
// so that it does not hold a pipeline open while it outlives PROGRAM.
void detachStdio(KeepStderr keep);

// Runs in the supervisor process: prepare, handshake, serve; returns its exit
// status.
using SupervisorMain = std::function<int(Handshake&)>;

// Execs PROGRAM in place. Returns only on failure, after printing a one-line
// message: kExitLauncherFailed, kExitNotExecutable or kExitNotFound.
[[nodiscard]] int runInPlace(const LaunchSpec& spec, const SupervisorMain& supervisorMain);

// PATH search as execvp(3) does it (PATH unset: "/bin:/usr/bin"). ENOENT when
// nothing is found, EACCES when something was found but cannot be executed.
[[nodiscard]] Result<std::string> findProgram(const std::string& name);

}  // namespace extsys::launcher
