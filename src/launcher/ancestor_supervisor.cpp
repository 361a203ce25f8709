// SPDX-License-Identifier: MIT
// launcher/ancestor_supervisor.cpp - the ancestor model's supervisor: the
// parent and child subreaper of PROGRAM, so that PROGRAM, its children and
// every orphan below it (daemons included) stay its descendants, which Yama
// ptrace_scope=1 requires of a process that writes into them.
//
// Its "family" thread reaps every child (PROGRAM's status goes to the front;
// orphans are only reaped, which is also what lets the listener report that
// no task is left), reports PROGRAM's stops and continues, and kills PROGRAM
// if the front dies before PROGRAM (what SIGKILL to extsys does in place).
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
// glibc 2.36 (Debian 12) declares pidfd_open without extern "C".
extern "C" {
#include <sys/pidfd.h>
}
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "base/errno_name.h"
#include "base/fd_passing.h"
#include "base/log.h"
#include "base/sys.h"
#include "launcher/ancestor.h"
#include "launcher/program.h"
#include "launcher/supervisor_process.h"

namespace extsys::launcher::detail {
namespace {

int sendSignal(int pidfd, pid_t pid, int sig) {
  if (pidfd >= 0)
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
  return ::kill(pid, sig);
}

// systemd socket activation names the pid the fds are for; that is PROGRAM
// now, not the front.
void moveListenPid(pid_t frontPid) {
  const char* lp = std::getenv("LISTEN_PID");
  if (lp == nullptr || std::to_string(frontPid) != lp)
    return;
  setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
  unsetenv("LISTEN_PIDFDID");  // it described the front's pidfd
}

// PROGRAM's process, between fork and exec.
[[noreturn]] void becomeProgram(const LaunchSpec& spec, int front, UniqueFd sock, pid_t frontPid,
                                const ProgramSignals& programSignals) {
  moveListenPid(frontPid);
  if (programSignals.chldIgnored)
    signal(SIGCHLD, SIG_IGN);
  sigprocmask(SIG_SETMASK, &programSignals.mask, nullptr);
  switch (armProgramProcess(spec, sock.get(), Handover::AwaitReady)) {
  case Armed::Busy:
    // The front decides: run PROGRAM in place without extsys, or fail.
    (void)sendToFront(front, {kBusy, 0, 0});
    _exit(0);
  case Armed::Failed:
    _exit(kExitLauncherFailed);
  case Armed::Ready:
    break;
  }
  sock.reset();
  (void)sendToFront(front, {'G', 0, 0});
  _exit(execProgram(spec.argv));
}

class Family {
public:
  Family(int front, pid_t program, UniqueFd programFd, pid_t frontPid, UniqueFd frontFd,
         bool frontGone, UniqueFd sigFd)
      : front_(front),
        program_(program),
        frontPid_(frontPid),
        programFd_(std::move(programFd)),
        frontFd_(std::move(frontFd)),
        sigFd_(std::move(sigFd)),
        wake_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
        frontAlive_(!frontGone) {}

  // The thread takes no signal: SIGCHLD comes through the signalfd, and the
  // supervisor's own signals go to its threads.
  void start() {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    thread_ = std::thread([this] { loop(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }

  // After the supervisor has stopped serving: waits until PROGRAM has been
  // reaped and its status reported.
  void finish() {
    stop_ = true;
    uint64_t one = 1;
    if (write(wake_.get(), &one, sizeof one) < 0) {
      // The thread still ends once PROGRAM is reaped.
    }
    thread_.join();
  }

private:
  void report(FrontMessage m) {
    if (!sendToFront(front_, m)) {
      // The front is gone: it no longer needs to know.
    }
  }

  // Only when the front is stopped (or cannot be seen): a SIGCONT it does
  // not need would discard a stop signal someone just sent it to forward
  // (kill -TSTP EXTSYS_PID right after fg). The front stopping an instant
  // later is the front's to notice (stopLike checks PROGRAM's state).
  void continueFront() {
    if (frontAlive_ && isStopped(frontPid_, true))
      sendSignal(frontFd_.get(), frontPid_, SIGCONT);
  }

  void reportStops() {
    for (;;) {
      siginfo_t si{};
      if (waitid(P_PID, static_cast<id_t>(program_), &si, WSTOPPED | WCONTINUED | WNOHANG) != 0 ||
          si.si_pid == 0)
        return;
      if (si.si_code == CLD_CONTINUED) {
        report({'C', 0, 0});
        // The front may be stopped, mirroring PROGRAM: PROGRAM runs again.
        continueFront();
      } else {
        report({'T', si.si_status, 0});
      }
    }
  }

  void reapAll() {
    for (;;) {
      siginfo_t si{};
      if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) != 0 || si.si_pid == 0)
        return;
      if (si.si_pid != program_)
        continue;  // an orphan that ended under us
      programReaped_ = true;
      report({'X', si.si_code, si.si_status});
      continueFront();  // in case it is stopped, mirroring PROGRAM
    }
  }

  void loop() {
    bool killed = false;
    for (;;) {
      if (!programReaped_)
        reportStops();
      reapAll();
      if (!programReaped_ && !frontAlive_ && !killed) {
        // The front died first (SIGKILL to extsys): so does PROGRAM, as in
        // place. Its children live on, as they would.
        sendSignal(programFd_.get(), program_, SIGKILL);
        killed = true;
      }
      if (programReaped_ && stop_)
        return;
      // Without a pidfd for the front (a seccomp profile refusing
      // pidfd_open), look at our parent once a second.
      const bool watchFd = frontAlive_ && frontFd_.valid();
      pollfd fds[3] = {{sigFd_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0},
                       {frontFd_.get(), POLLIN, 0}};
      const int timeout = frontAlive_ && !watchFd ? 1000 : -1;
      if (poll(fds, watchFd ? 3 : 2, timeout) < 0 && errno != EINTR)
        return;
      signalfd_siginfo info;
      while (read(sigFd_.get(), &info, sizeof info) == sizeof info) {
      }
      uint64_t n;
      if (read(wake_.get(), &n, sizeof n) < 0) {
        // Nothing to drain.
      }
      if (watchFd && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
        frontAlive_ = false;
      if (frontAlive_ && !watchFd && getppid() != frontPid_)
        frontAlive_ = false;
    }
  }

  int front_;
  pid_t program_, frontPid_;
  UniqueFd programFd_, frontFd_, sigFd_, wake_;
  std::atomic<bool> stop_{false};
  bool frontAlive_;
  bool programReaped_ = false;
  std::thread thread_;
};

}  // namespace

Status sendToFront(int sock, FrontMessage m, int fd) {
  return sendWithFd(sock, std::string_view(reinterpret_cast<const char*>(&m), sizeof m), fd);
}

bool isStopped(pid_t pid, bool unknown) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  char buf[512];
  const ssize_t n = fd.valid() ? ::read(fd.get(), buf, sizeof buf - 1) : -1;
  if (n <= 0)
    return unknown;
  buf[n] = 0;
  const char* paren = std::strrchr(buf, ')');  // comm may hold anything but ends there
  if (paren == nullptr || paren[1] != ' ')
    return unknown;
  return paren[2] == 'T' || paren[2] == 't';
}

void runAncestorSupervisor(const LaunchSpec& spec, const SupervisorMain& supervisorMain,
                           UniqueFd front, pid_t frontPid, const ProgramSignals& programSignals) {
  // Orphans below PROGRAM come to us, not to init: they stay descendants.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    message("cannot become a child subreaper: " + errnoDescribe(errno));
    _exit(kExitLauncherFailed);
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    message("cannot create the supervisor socket: " + errnoDescribe(errno));
    _exit(kExitLauncherFailed);
  }
  UniqueFd mine(sv[0]), theirs(sv[1]);
  // PROGRAM's process first, while this one still has the front's fds,
  // process group, session and terminal: PROGRAM inherits exactly those.
  std::fflush(nullptr);
  const pid_t program = fork();
  if (program == 0) {
    mine.reset();
    becomeProgram(spec, front.get(), std::move(theirs), frontPid, programSignals);
  }
  theirs.reset();
  if (program < 0) {
    message("cannot fork PROGRAM's process: " + errnoDescribe(errno));
    _exit(kExitLauncherFailed);
  }
  UniqueFd programFd(pidfd_open(program, 0));
  (void)sendToFront(front.get(), {'P', program, 0}, programFd.get());
  UniqueFd frontFd(pidfd_open(frontPid, 0));
  const bool frontGone = frontFd.valid() ? getppid() != frontPid : errno == ESRCH;

  // Now the supervisor's own state: nothing of the front's but the channel.
  Status closed = closeFdsExcept({front.get(), mine.get(), programFd.get(), frontFd.get()});
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  becomeSupervisorProcess(chld);
  UniqueFd sigFd(signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK));
  Family family(front.get(), program, std::move(programFd), frontPid, std::move(frontFd),
                frontGone, std::move(sigFd));
  family.start();

  Handshake h(std::move(mine));
  int rc = 1;
  if (closed)
    rc = supervisorMain(h);
  else
    h.ready(std::move(closed).error());  // holding the front's fds would keep pipelines open
  family.finish();
  std::fflush(nullptr);
  _exit(rc);
}

}  // namespace extsys::launcher::detail
