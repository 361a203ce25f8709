// SPDX-License-Identifier: MIT
// launcher/ancestor_front.cpp - the ancestor model's front: `extsys` itself,
// the process the shell started. It stays in the shell's job as PROGRAM's
// stand-in, as `timeout --foreground` does:
//
// - signals sent to it by a process (kill, sigqueue) are forwarded to
//   PROGRAM; those the kernel generates (terminal ^C ^Z ^\, hangup, window
//   size) are not, since PROGRAM, in the same foreground process group, got
//   them itself;
// - when PROGRAM stops, it stops with the same signal (so the shell sees the
//   job stopped), and it is continued when PROGRAM is;
// - it exits with PROGRAM's status as soon as PROGRAM has ended (daemons may
//   live on under the supervisor), dying of PROGRAM's signal if PROGRAM did;
// - it is a child subreaper too: if the supervisor dies, PROGRAM becomes its
//   child and its status still arrives.
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "base/errno_name.h"
#include "base/fd_passing.h"
#include "base/log.h"
#include "launcher/ancestor.h"
#include "launcher/program.h"
#include "launcher/supervisor_process.h"

namespace extsys::launcher::detail {
namespace {

// Every signal the front takes through its signalfd: all but SIGKILL and
// SIGSTOP (and glibc's internal ones, which sigfillset leaves out).
sigset_t handledSignals() {
  sigset_t s;
  sigfillset(&s);
  sigdelset(&s, SIGKILL);
  sigdelset(&s, SIGSTOP);
  return s;
}

struct Ended {
  int code = 0;    // CLD_EXITED, CLD_KILLED or CLD_DUMPED
  int status = 0;  // exit status or signal
};

class Front {
public:
  Front(const LaunchSpec& spec, UniqueFd sock, pid_t supervisor, const ProgramSignals& original)
      : spec_(spec), sock_(std::move(sock)), supervisor_(supervisor), original_(original) {}

  int run() {
    const sigset_t handled = handledSignals();
    sigFd_.reset(signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sigFd_.valid()) {
      message("cannot create a signalfd: " + errnoDescribe(errno));
      kill(supervisor_, SIGKILL);  // PROGRAM's process dies with it (EOF)
      return kExitLauncherFailed;
    }
    while (!ended_) {
      if (supervisorGone_ && busy_)
        return passThrough();
      if (supervisorGone_ && programPid_ < 0 && noChildren_) {
        message("the supervisor exited during start-up");
        return kExitLauncherFailed;
      }
      if (supervisorGone_ && programPid_ > 0 && noChildren_) {
        message("the supervisor died after " + spec_.argv.front() +
                " ended, before reporting its exit status");
        return kExitLauncherFailed;
      }
      pollfd fds[2] = {{sigFd_.get(), POLLIN, 0}, {sock_.get(), POLLIN, 0}};
      if (poll(fds, sock_.valid() ? 2 : 1, -1) < 0 && errno != EINTR) {
        message("poll: " + errnoDescribe(errno));
        return kExitLauncherFailed;
      }
      if (sock_.valid() && fds[1].revents != 0)
        readMessages();
      signalfd_siginfo si;
      while (!ended_ && read(sigFd_.get(), &si, sizeof si) == sizeof si)
        onSignal(si);
    }
    return finish(*ended_);
  }

private:
  // Every message queued. EOF: the supervisor and PROGRAM's process have
  // both let go of the channel.
  void readMessages() {
    while (sock_.valid()) {
      pollfd p{sock_.get(), POLLIN, 0};
      if (poll(&p, 1, 0) <= 0)
        return;
      auto msg = recvWithFd(sock_.get(), sizeof(FrontMessage));
      if (!msg || msg->data.size() != sizeof(FrontMessage)) {
        sock_.reset();
        return;
      }
      FrontMessage m;
      std::memcpy(&m, msg->data.data(), sizeof m);
      onMessage(m, std::move(msg->fd));
    }
  }

  void onMessage(const FrontMessage& m, UniqueFd fd) {
    switch (m.kind) {
    case 'P':
      programPid_ = m.a;
      programFd_ = std::move(fd);
      for (const auto& si : early_)
        forward(si);
      early_.clear();
      break;
    case 'G':
      letGoOfStdio();
      break;
    case kBusy:
      busy_ = true;
      break;
    case 'T':
      if (stopping_)
        stopCancelled_ = false;  // stopped again while we were about to stop
      else
        stopLike(m.a);
      break;
    case 'C':
      stopCancelled_ = true;
      break;
    case 'X':
      if (!busy_)
        ended_ = Ended{m.a, m.b};
      break;
    default:
      break;
    }
  }

  void onSignal(const signalfd_siginfo& si) {
    if (si.ssi_signo == SIGCHLD) {
      reap();
      return;
    }
    // Only what a process sent to us; the kernel's signals (from the
    // terminal, or about ourselves) reached PROGRAM directly or are ours.
    const int code = si.ssi_code;
    if (code != SI_USER && code != SI_QUEUE && code != SI_TKILL)
      return;
    const auto from = static_cast<pid_t>(si.ssi_pid);
    if (from == getpid() || from == supervisor_)
      return;
    if (programPid_ < 0) {
      if (early_.size() < 64)
        early_.push_back(si);
      return;
    }
    forward(si);
  }

  void forward(const signalfd_siginfo& si) {
    const int sig = static_cast<int>(si.ssi_signo);
    siginfo_t info{};
    siginfo_t* with = nullptr;
    if (si.ssi_code == SI_QUEUE) {
      // sigqueue(3): PROGRAM gets the sender and the value, as if sent to it.
      info.si_signo = sig;
      info.si_code = SI_QUEUE;
      info.si_pid = static_cast<pid_t>(si.ssi_pid);
      info.si_uid = si.ssi_uid;
      info.si_value.sival_ptr = reinterpret_cast<void*>(si.ssi_ptr);
      with = &info;
    }
    long rc = programFd_.valid()
                  ? ::syscall(SYS_pidfd_send_signal, programFd_.get(), sig, with, 0)
                  : ::kill(programPid_, sig);
    if (rc != 0 && with != nullptr && programFd_.valid())
      ::syscall(SYS_pidfd_send_signal, programFd_.get(), sig, nullptr, 0);
  }

  // PROGRAM stopped: so do we, with the same signal, so that the shell sees
  // the job stopped as it would in place. A "continued" already queued, or
  // PROGRAM no longer stopped, cancels it; the supervisor sends us SIGCONT
  // when PROGRAM continues and we are stopped. Left open: PROGRAM continuing
  // in the few instructions between our look at it and our stop (we then
  // stay stopped until the shell's fg, as a job whose leader is stopped).
  void stopLike(int sig) {
    if (programPid_ > 0 && !isStopped(programPid_, true))
      return;
    if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU) {
      kill(getpid(), SIGSTOP);
      return;
    }
    struct sigaction dfl {}, old{};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, &old);
    raise(sig);  // pending: it is blocked
    stopCancelled_ = false;
    stopping_ = true;
    readMessages();
    stopping_ = false;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    // PROGRAM continued between its stop and now, by a SIGCONT to it alone
    // (the supervisor's SIGCONT to us only comes once we are stopped).
    if (!stopCancelled_ && !ended_ && programPid_ > 0 && !isStopped(programPid_, true))
      stopCancelled_ = true;
    if (!stopCancelled_ && !ended_) {
      sigprocmask(SIG_UNBLOCK, &one, nullptr);  // we stop here until SIGCONT
      sigprocmask(SIG_BLOCK, &one, nullptr);
    }
    sigaction(sig, &old, nullptr);
  }

  void reap() {
    for (;;) {
      siginfo_t si{};
      if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) != 0) {
        noChildren_ = errno == ECHILD;
        return;
      }
      if (si.si_pid == 0)
        return;
      if (si.si_pid == supervisor_) {
        supervisorGone_ = true;
        readMessages();  // whatever it said before it went
        if (programPid_ > 0 && !ended_ && !busy_)
          warnSupervisorDied(si);
      } else if (si.si_pid == programPid_ && !busy_) {
        // Ours since the supervisor died: PROGRAM's own status.
        ended_ = Ended{si.si_code, si.si_status};
      }
      // Anything else: an orphan adopted after the supervisor died.
    }
  }

  void warnSupervisorDied(const siginfo_t& si) {
    log::launcher().warn(
        "the supervisor (pid {}) {} {}; {} runs on without it: its probes now get ENOSYS",
        supervisor_, si.si_code == CLD_EXITED ? "exited with status" : "was killed by signal",
        si.si_status, spec_.argv.front());
  }

  // After PROGRAM's exec: hold none of the terminal's or the pipelines' fds,
  // so that PROGRAM closing one is seen (EOF, EPIPE) as it would be in place.
  void letGoOfStdio() {
    detachStdio(spec_.frontLog == "-" ? KeepStderr::Yes : KeepStderr::No);
    (void)closeFdsExcept({sock_.get(), programFd_.get(), sigFd_.get()});
    if (spec_.frontLog.empty())
      log::toNowhere();
    else if (spec_.frontLog == "-")
      (void)log::toStderr("run");
    else
      (void)log::toFile(spec_.frontLog, "run");
  }

  int passThrough() {
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    if (original_.chldIgnored)
      signal(SIGCHLD, SIG_IGN);
    sigprocmask(SIG_SETMASK, &original_.mask, nullptr);
    if (spec_.nested == NestedMode::Passthrough) {
      log::launcher().warn("already under another seccomp listener (extsys or a container "
                           "agent); running {} without extsys (--nested=passthrough)",
                           spec_.argv.front());
      return execProgram(spec_.argv);
    }
    message(nestedMessage());
    return kExitLauncherFailed;
  }

  // PROGRAM's status as ours: death by a signal is reproduced (without a
  // core dump of extsys: PROGRAM dumped its own, if any).
  int finish(const Ended& e) {
    if (e.code == CLD_EXITED)
      return e.status;
    const int sig = e.status;
    std::fflush(nullptr);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    rlimit none{0, 0};
    setrlimit(RLIMIT_CORE, &none);
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    raise(sig);
    sigprocmask(SIG_UNBLOCK, &one, nullptr);
    return 128 + sig;  // a signal that does not terminate (cannot happen)
  }

  const LaunchSpec& spec_;
  UniqueFd sock_;
  const pid_t supervisor_;
  const ProgramSignals original_;
  pid_t programPid_ = -1;
  UniqueFd programFd_, sigFd_;
  std::vector<signalfd_siginfo> early_;
  std::optional<Ended> ended_;
  bool busy_ = false, supervisorGone_ = false, noChildren_ = false;
  bool stopping_ = false, stopCancelled_ = false;
};

}  // namespace

int runAncestor(const LaunchSpec& spec, const SupervisorMain& supervisorMain) {
  ProgramSignals original{};
  const sigset_t handled = handledSignals();
  sigprocmask(SIG_BLOCK, &handled, &original.mask);
  struct sigaction dfl {}, old{};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGCHLD, &dfl, &old);  // children's statuses must not be discarded
  original.chldIgnored = old.sa_handler == SIG_IGN;
  auto restore = [&] {
    sigaction(SIGCHLD, &old, nullptr);
    sigprocmask(SIG_SETMASK, &original.mask, nullptr);
  };
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    restore();
    message("cannot create the supervisor socket: " + errnoDescribe(errno));
    return kExitLauncherFailed;
  }
  UniqueFd mine(sv[0]), theirs(sv[1]);
  // Should the supervisor die, PROGRAM (and what it left) comes to us.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    restore();
    message("cannot become a child subreaper: " + errnoDescribe(errno));
    return kExitLauncherFailed;
  }
  std::fflush(nullptr);
  const pid_t frontPid = getpid();
  const pid_t supervisor = fork();
  if (supervisor < 0) {
    restore();
    message("cannot fork the supervisor: " + errnoDescribe(errno));
    return kExitLauncherFailed;
  }
  if (supervisor == 0) {
    mine.reset();
    runAncestorSupervisor(spec, supervisorMain, std::move(theirs), frontPid, original);
  }
  theirs.reset();
  return Front(spec, std::move(mine), supervisor, original).run();
}

}  // namespace extsys::launcher::detail
