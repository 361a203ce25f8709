// SPDX-License-Identifier: MIT
// launcher/launcher.cpp - the exec-in-place process model.
#include "launcher/launcher.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/errno_name.h"
#include "base/fd_passing.h"
#include "base/log.h"
#include "base/sys.h"
#include "kernel/abi/uapi_compat.h"

namespace extsys::launcher {
namespace {

constexpr char kReady = 'R';
constexpr char kFailed = 'E';

void message(const std::string& text) { std::fprintf(stderr, "extsys: %s\n", text.c_str()); }

Result<UniqueFd> installListener(const filter::BpfProgram& program) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return Error::fromErrno(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  sock_fprog prog{static_cast<unsigned short>(program.insns.size()),
                  const_cast<sock_filter*>(program.insns.data())};
  unsigned int flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  int fd = sys::seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (fd < 0 && errno == EINVAL) {
    // WAIT_KILLABLE_RECV is 5.19+; without it a signal during a pending
    // probe restarts the call, which is still correct.
    flags &= ~static_cast<unsigned int>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    fd = sys::seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog);
  }
  if (fd < 0)
    return Error::fromErrno(errno, "seccomp(SECCOMP_SET_MODE_FILTER, NEW_LISTENER)");
  return UniqueFd(fd);
}

// The supervisor's answer: ready, or the reason it could not start.
Status awaitReady(int sock) {
  char buf[1024];
  ssize_t n;
  do {
    n = recv(sock, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return Error::fromErrno(errno, "waiting for the supervisor");
  if (n == 0)
    return Error(EPIPE, "the supervisor exited during start-up");
  if (buf[0] == kReady)
    return okStatus();
  return Error(EIO, std::string(buf + 1, static_cast<size_t>(n - 1)));
}

// The supervisor process: its own session, cwd "/", only the handshake
// socket and stdio open, default signal state.
[[noreturn]] void becomeSupervisor(UniqueFd sock, const SupervisorMain& main) {
  setsid();
  if (chdir("/") != 0) {
    // Keeping the old cwd only pins a directory; carry on.
  }
  int keep = sock.get();
  if (keep > 3)
    close_range(3, static_cast<unsigned>(keep) - 1, 0);
  close_range(static_cast<unsigned>(keep) + 1, ~0U, 0);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int sig : {SIGINT, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE})
    signal(sig, SIG_IGN);
  signal(SIGCHLD, SIG_DFL);
  prctl(PR_SET_NAME, "extsys-super", 0, 0, 0);
  Handshake h(std::move(sock));
  int rc = main(h);
  std::fflush(nullptr);
  _exit(rc);
}

// execvp, and on failure the message and status env(1) would give.
int execProgram(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(nullptr);
  execvp(argv[0], argv.data());
  int err = errno;
  if (err == ENOENT) {
    message(args.front() + ": command not found");
    return kExitNotFound;
  }
  message(args.front() + ": " + std::strerror(err));
  return kExitNotExecutable;
}

}  // namespace

Result<UniqueFd> Handshake::awaitListener() {
  auto msg = recvWithFd(sock_.get(), 16);
  if (!msg)
    return Error(EPIPE, "the launcher went away before sending the listener");
  if (!msg->fd.valid())
    return Error(EPROTO, "the launcher sent no listener");
  return std::move(msg->fd);
}

void Handshake::ready(const Status& status) {
  std::string msg(1, status.ok() ? kReady : kFailed);
  if (!status.ok())
    msg += status.error().message();
  if (send(sock_.get(), msg.data(), std::min<size_t>(msg.size(), 1000), MSG_NOSIGNAL) < 0) {
    // The launcher is gone; serving still makes sense if it execed.
  }
  sock_.reset();
}

void detachStdio(KeepStderr keep) {
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0)
    return;
  dup2(null, STDIN_FILENO);
  dup2(null, STDOUT_FILENO);
  if (keep == KeepStderr::No)
    dup2(null, STDERR_FILENO);
  if (null > STDERR_FILENO)
    close(null);
}

Result<std::string> findProgram(const std::string& name) {
  auto check = [](const std::string& path) -> int {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0)
      return errno == ENOTDIR || errno == ENAMETOOLONG || errno == ELOOP ? ENOENT : errno;
    if (S_ISDIR(st.st_mode))
      return EISDIR;
    if (access(path.c_str(), X_OK) != 0)
      return EACCES;
    return 0;
  };
  if (name.empty())
    return Error(ENOENT, "empty program name");
  if (name.find('/') != std::string::npos) {
    if (int err = check(name))
      return Error(err, name);
    return name;
  }
  const char* env = std::getenv("PATH");
  std::string path = env ? env : "/bin:/usr/bin";
  int found = ENOENT;
  size_t start = 0;
  for (;;) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos
                                                                    : colon - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    int err = check(candidate);
    if (err == 0)
      return candidate;
    if (err == EACCES || err == EISDIR)
      found = EACCES;
    if (colon == std::string::npos)
      break;
    start = colon + 1;
  }
  return Error(found, name);
}

int runInPlace(const LaunchSpec& spec, const SupervisorMain& supervisorMain) {
  if (spec.argv.empty()) {
    message("no program given");
    return kExitLauncherFailed;
  }
  const std::string& program = spec.argv.front();
  if (auto found = findProgram(program); !found) {
    int err = found.error().err();
    if (err == ENOENT) {
      message(program + ": command not found");
      return kExitNotFound;
    }
    message(program + ": " + (err == EISDIR ? "is a directory" : std::strerror(err)));
    return kExitNotExecutable;
  }

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    message("cannot create the supervisor socket: " + errnoDescribe(errno));
    return kExitLauncherFailed;
  }
  UniqueFd mine(sv[0]), theirs(sv[1]);

  std::fflush(nullptr);
  pid_t child = fork();
  if (child < 0) {
    message("cannot fork the supervisor: " + errnoDescribe(errno));
    return kExitLauncherFailed;
  }
  if (child == 0) {
    mine.reset();
    pid_t grandchild = fork();
    if (grandchild != 0)
      _exit(grandchild < 0 ? 1 : 0);
    becomeSupervisor(std::move(theirs), supervisorMain);
  }
  theirs.reset();
  // The intermediate child is reaped just before exec (PROGRAM must not
  // inherit it); meanwhile the filter is installed, overlapping its fork.
  auto reapIntermediate = [child]() {
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    // ECHILD is fine: SIGCHLD ignored by our parent means auto-reaping.
    return !(WIFEXITED(status) && WEXITSTATUS(status) != 0);
  };

  auto listener = installListener(spec.program);
  if (!listener) {
    if (listener.error().err() == EBUSY) {
      if (spec.nested == NestedMode::Passthrough) {
        log::launcher().warn("already under another seccomp listener (extsys or a container "
                             "agent); running {} without extsys (--nested=passthrough)",
                             program);
        mine.reset();  // the supervisor sees EOF and exits quietly
        reapIntermediate();
        return execProgram(spec.argv);
      }
      message("cannot install the seccomp listener: EBUSY: this process is already supervised "
              "by another seccomp user-notification listener (extsys run inside extsys run, or "
              "a container's seccomp agent); use --nested=passthrough to run without extsys");
      return kExitLauncherFailed;
    }
    message("cannot install the seccomp filter: " + listener.error().message());
    return kExitLauncherFailed;
  }
  {
    Status sent = sendWithFd(mine.get(), "L", listener->get());
    listener->reset();  // only the supervisor holds it now
    Status ready = awaitReady(mine.get());
    if (!reapIntermediate()) {
      message("cannot fork the supervisor");
      return kExitLauncherFailed;
    }
    if (!ready) {
      message("supervisor failed to start: " + ready.error().message());
      return kExitLauncherFailed;
    }
    if (!sent) {
      message(sent.error().message());
      return kExitLauncherFailed;
    }
    mine.reset();
  }

  return execProgram(spec.argv);
}

}  // namespace extsys::launcher
