// SPDX-License-Identifier: MIT
// launcher/in_place.cpp - the exec-in-place process model: extsys becomes
// PROGRAM; the supervisor is a detached grandchild.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "base/errno_name.h"
#include "base/log.h"
#include "launcher/ancestor.h"
#include "launcher/program.h"
#include "launcher/supervisor_process.h"

namespace extsys::launcher::detail {
namespace {

// The supervisor process: its own session, cwd "/", only the handshake
// socket and stdio open, default signal state.
[[noreturn]] void becomeSupervisor(UniqueFd sock, const SupervisorMain& main) {
  if (auto st = closeFdsExcept({sock.get()}); !st) {
    // Holding the caller's fds would keep pipelines open: refuse to start.
    Handshake(std::move(sock)).ready(st.error());
    _exit(1);
  }
  sigset_t none;
  sigemptyset(&none);
  becomeSupervisorProcess(none);
  Handshake h(std::move(sock));
  int rc = main(h);
  std::fflush(nullptr);
  _exit(rc);
}

struct Detached {
  UniqueFd sock;     // to the supervisor
  pid_t middle = -1;  // the intermediate child, reaped before exec
};

// Double fork: the supervisor must not be a child of PROGRAM, or PROGRAM's
// wait(-1) would see it.
Result<Detached> startDetachedSupervisor(const SupervisorMain& supervisorMain) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return Error(errno, "cannot create the supervisor socket: " + errnoDescribe(errno));
  UniqueFd mine(sv[0]), theirs(sv[1]);
  std::fflush(nullptr);
  pid_t child = fork();
  if (child < 0)
    return Error(errno, "cannot fork the supervisor: " + errnoDescribe(errno));
  if (child == 0) {
    mine.reset();
    pid_t grandchild = fork();
    if (grandchild != 0)
      _exit(grandchild < 0 ? 1 : 0);
    becomeSupervisor(std::move(theirs), supervisorMain);
  }
  return Detached{std::move(mine), child};
}

// PROGRAM must not inherit the intermediate child; reaping it also tells
// whether the supervisor was forked.
bool reapIntermediate(pid_t child) {
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  // ECHILD is fine: SIGCHLD ignored by our parent means auto-reaping.
  return !(WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

}  // namespace

int runInPlace(const LaunchSpec& spec, const SupervisorMain& supervisorMain) {
  auto sup = startDetachedSupervisor(supervisorMain);
  if (!sup) {
    message(sup.error().message());
    return kExitLauncherFailed;
  }
  // The filter goes in while the intermediate child forks.
  const Armed armed = armProgramProcess(spec, sup->sock.get());
  const bool forked = reapIntermediate(sup->middle);
  sup->sock.reset();  // the supervisor sees EOF unless it has the listener
  switch (armed) {
  case Armed::Busy:
    if (spec.nested == NestedMode::Passthrough) {
      log::launcher().warn("already under another seccomp listener (extsys or a container "
                           "agent); running {} without extsys (--nested=passthrough)",
                           spec.argv.front());
      return execProgram(spec.argv);
    }
    message(nestedMessage());
    return kExitLauncherFailed;
  case Armed::Failed:
    return kExitLauncherFailed;
  case Armed::Ready:
    break;
  }
  if (!forked) {
    message("cannot fork the supervisor");
    return kExitLauncherFailed;
  }
  return execProgram(spec.argv);
}

}  // namespace extsys::launcher::detail
