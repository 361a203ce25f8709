// SPDX-License-Identifier: MIT
// launcher/in_place.cpp - the exec-in-place process model: extsys becomes
// PROGRAM; the supervisor is a detached grandchild.
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
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
    Handshake(std::move(sock), Handover::ExecAtOnce).ready(st.error());
    _exit(1);
  }
  sigset_t none;
  sigemptyset(&none);
  becomeSupervisorProcess(none);
  Handshake h(std::move(sock), Handover::ExecAtOnce);
  int rc = main(h);
  std::fflush(nullptr);
  _exit(rc);
}

struct Detached {
  UniqueFd sock;     // to the supervisor
  pid_t middle = -1;  // the intermediate child, reaped before exec
};

// Double fork: the supervisor must not be a child of PROGRAM, or PROGRAM's
// wait(-1) would see it. The intermediate child is vfork'ed: it shares our
// memory while we wait, so no page tables are copied for it and none torn
// down when it exits (on machines where page-table work is dear, a VM with
// paravirtual paging, that is ~0.7 ms of the ~1 ms a fork+exit costs). It
// makes one call, fork(), and _exits: it writes nothing of ours (not even
// the UniqueFds: it has its own fd table, which dies with it), and fork()
// with us suspended and single-threaded finds no lock held. The supervisor
// is a real fork, a copy of our memory as before.
// > 0 in the caller (the intermediate's pid), 0 in the supervisor, < 0 when
// vfork failed. No C++ object lives across the vfork.
[[gnu::noinline]] pid_t forkDetached() {
  const pid_t middle = vfork();
  if (middle != 0)
    return middle;
  if (const pid_t supervisor = fork(); supervisor != 0)
    _exit(supervisor < 0 ? 1 : 0);
  return 0;  // the supervisor returns in its own copy of the memory
}

Result<Detached> startDetachedSupervisor(const SupervisorMain& supervisorMain) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return Error(errno, "cannot create the supervisor socket: " + errnoDescribe(errno));
  UniqueFd mine(sv[0]), theirs(sv[1]);
  std::fflush(nullptr);
  // PROGRAM may run before the supervisor has left our process group: a ^C
  // then must not kill the supervisor and leave PROGRAM (should it catch
  // SIGINT) unserved. The supervisor is born with the terminal's signals
  // blocked; it ignores them (which drops any pending) and unblocks them
  // once in its own session. Ours are restored at once: one that came in
  // between is delivered to us now, as it would have been.
  sigset_t terminal, old;
  sigemptyset(&terminal);
  for (int sig : kTerminalSignals)
    sigaddset(&terminal, sig);
  sigprocmask(SIG_BLOCK, &terminal, &old);
  const pid_t child = forkDetached();
  if (child == 0) {
    mine.reset();
    becomeSupervisor(std::move(theirs), supervisorMain);
  }
  const int err = errno;
  sigprocmask(SIG_SETMASK, &old, nullptr);
  if (child < 0)
    return Error(err, "cannot fork the supervisor: " + errnoDescribe(err));
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
  // Not dumpable, so the supervisor is born so (dumpability is the mm's, and
  // fork copies it): PROGRAM, exec'd without waiting for the supervisor, must
  // never find it ptrace-able, nor its memory or fds reachable through
  // process_vm_*, /proc/PID/mem or pidfd_getfd, not even in its first
  // instants. exec makes PROGRAM itself dumpable again, as it would be.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    message("prctl(PR_SET_DUMPABLE, 0): " + errnoDescribe(errno));
    return kExitLauncherFailed;
  }
  auto sup = startDetachedSupervisor(supervisorMain);
  if (!sup) {
    message(sup.error().message());
    return kExitLauncherFailed;
  }
  // vfork has returned: the intermediate has forked the supervisor and is
  // exiting; it is reaped once the filter is in.
  const Armed armed = armProgramProcess(spec, sup->sock.get(), Handover::ExecAtOnce);
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
