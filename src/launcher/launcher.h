// SPDX-License-Identifier: MIT
// launcher/launcher.h - runs PROGRAM under a seccomp filter whose listener a
// supervisor process serves, in one of two process models
// (launcher/process_model.h says which and why):
//
// In place (launcher/in_place.cpp): `extsys run -- PROGRAM` becomes PROGRAM
// (same pid, parent, terminal, process group, exit status); the supervisor is
// a detached grandchild in its own session, not an ancestor of PROGRAM.
//
//   launcher (pid P, made non-dumpable)  supervisor S (grandchild, own session)
//   vfork -> C -> fork S; C exits        awaitListener()
//   seccomp(NEW_LISTENER)
//   send listener (SCM_RIGHTS)   ---->   gets the listener, serves
//   execvp(PROGRAM)
//
// P does not wait for S: what can fail was checked before the fork, and a
// probe PROGRAM makes before S serves waits in the kernel (in_place.cpp says
// why each step is safe, and what it saves).
//
// Ancestor (launcher/ancestor_front.cpp, ancestor_supervisor.cpp): for Yama
// ptrace_scope=1, where only an ancestor may write into a process.
//
//   extsys (pid P: the front, stays in the shell's job, forwards signals,
//    |      mirrors PROGRAM's stops, exits with PROGRAM's status)
//   supervisor S (child subreaper, then its own session)
//    |      reaps PROGRAM and every orphan below it, reports to P
//   PROGRAM (S's child; P's process group, session and terminal)
//
// In both, the process that execs PROGRAM installs the filter itself
// (launcher/program.h, the one place for further confinement: a strict
// policy's Landlock containment) and hands the listener to S over a
// socketpair (the ancestor model then waits for S's "ready"). Every fd
// extsys opens is close-on-exec, so nothing of extsys leaks into PROGRAM.
//
// Without a supervisor (a filter that notifies nothing, as a strict policy
// that restricts every described syscall has): no listener, no fork at all;
// extsys contains itself, installs the filter and becomes PROGRAM, whatever
// the model says.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "filter/seccomp_filter.h"
#include "launcher/containment.h"
#include "launcher/process_model.h"

namespace extsys::launcher {

// The exit statuses of env(1) and timeout(1).
inline constexpr int kExitLauncherFailed = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

enum class NestedMode : uint8_t {
  Fail,         // already under another seccomp listener: exit 125
  Passthrough,  // run PROGRAM without extsys (no filter, no no_new_privs)
};

enum class NoNewPrivs : uint8_t {
  WhenRequired,  // only where the kernel demands it (no CAP_SYS_ADMIN)
  Always,        // strict policies: set-id programs gain nothing
};

struct LaunchSpec {
  std::vector<std::string> argv;  // PROGRAM [ARGS...]
  filter::BpfProgram program;
  NestedMode nested = NestedMode::Fail;
  NoNewPrivs noNewPrivs = NoNewPrivs::WhenRequired;
  ProcessModel model = ProcessModel::InPlace;
  // Strict policies: PROGRAM's process sets no_new_privs and enters a
  // Landlock domain (launcher/containment.h) before the filter, and the
  // launch fails (125) should it get less than this level.
  std::optional<ContainmentLevel> containment;
  // False when the filter notifies nothing: no listener, no supervisor.
  bool supervised = true;
  // Ancestor model: where the front logs once PROGRAM runs ("" nowhere,
  // "-" stderr, else a file). Its stdio is let go then, as the supervisor's.
  std::string frontLog;
};

// Whether PROGRAM waits for the supervisor's 'R' before exec, one choice
// of the process model that both ends follow (armProgramProcess, Handshake).
// The ancestor model's PROGRAM waits. In place it does not: the listener is
// in flight in the socket (a probe made before the supervisor takes it just
// waits in the kernel; should the supervisor die first, the socket and
// listener go and the kernel answers ENOSYS), everything that can fail was
// checked before the fork, and a failure after it is printed on the stderr
// the supervisor still shares with PROGRAM.
enum class Handover : uint8_t { AwaitReady, ExecAtOnce };

// The supervisor's side of the start-up handshake.
class Handshake {
public:
  explicit Handshake(UniqueFd sock, Handover handover = Handover::AwaitReady)
      : sock_(std::move(sock)), handover_(handover) {}
  // Blocks until the launcher sends the listener. An error means the launcher
  // gave up (it has reported why, or PROGRAM runs without extsys because of
  // an outer listener); the supervisor should exit quietly.
  [[nodiscard]] Result<UniqueFd> awaitListener();
  // Tells the launcher to exec PROGRAM (ok) or to fail with this message
  // (Handover::ExecAtOnce: PROGRAM runs already; the message goes to stderr).
  void ready(const Status& status);
  // awaitListener() failed because PROGRAM is under another listener.
  [[nodiscard]] bool outerListener() const { return outerListener_; }

private:
  UniqueFd sock_;
  Handover handover_;
  bool outerListener_ = false;
};

enum class KeepStderr : uint8_t { No, Yes };
// Points the calling process's stdin/stdout (and stderr unless kept) at
// /dev/null, so that it does not hold a pipeline open while it outlives
// PROGRAM.
void detachStdio(KeepStderr keep);

// Runs in the supervisor process: prepare, handshake, serve; returns its exit
// status.
using SupervisorMain = std::function<int(Handshake&)>;

// Runs PROGRAM in spec.model. In place: returns only on failure, after
// printing a one-line message (kExitLauncherFailed, kExitNotExecutable or
// kExitNotFound). Ancestor: returns PROGRAM's exit status, or dies of the
// signal PROGRAM died of.
[[nodiscard]] int launch(const LaunchSpec& spec, const SupervisorMain& supervisorMain);

// PATH search as execvp(3) does it (PATH unset: "/bin:/usr/bin"). ENOENT when
// nothing is found, EACCES when something was found but cannot be executed.
[[nodiscard]] Result<std::string> findProgram(const std::string& name);

}  // namespace extsys::launcher
