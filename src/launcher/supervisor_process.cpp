// SPDX-License-Identifier: MIT
// launcher/supervisor_process.cpp - the supervisor's process state, its side
// of the handshake, and stdio.
#include "launcher/supervisor_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "base/errno_name.h"
#include "base/fd_passing.h"
#include "base/log.h"
#include "base/sys.h"
#include "launcher/launcher.h"
#include "launcher/program.h"

namespace extsys::launcher {
namespace detail {
namespace {

bool kept(int fd, std::initializer_list<int> keep) {
  return std::find(keep.begin(), keep.end(), fd) != keep.end();
}

// The fallback for kernels (or seccomp policies) without close_range.
bool closeListed(std::initializer_list<int> keep) {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr)
    return false;
  std::vector<int> fds;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (*end == '\0' && end != e->d_name && fd >= 3 && fd != dirfd(d) && !kept(static_cast<int>(fd), keep))
      fds.push_back(static_cast<int>(fd));
  }
  closedir(d);
  for (int fd : fds)
    close(fd);
  return true;
}

}  // namespace

Status closeFdsExcept(std::initializer_list<int> keep) {
  std::vector<unsigned> sorted;
  for (int fd : keep)
    if (fd >= 3)
      sorted.push_back(static_cast<unsigned>(fd));
  std::sort(sorted.begin(), sorted.end());
  unsigned from = 3;
  bool ok = true;
  for (unsigned k : sorted) {
    if (k > from && close_range(from, k - 1, 0) != 0)
      ok = false;
    from = std::max(from, k + 1);
  }
  if (ok && close_range(from, ~0U, 0) == 0)
    return okStatus();
  const int err = errno;
  log::launcher().debug("close_range: {}; closing the fds /proc/self/fd lists", errnoName(err));
  if (closeListed(keep))
    return okStatus();
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return Error::fromErrno(errno, "close_range failed and RLIMIT_NOFILE is unknown");
  const rlim_t top = std::min<rlim_t>(std::max<rlim_t>(lim.rlim_cur, 1024), 1 << 20);
  for (rlim_t fd = 3; fd < top; ++fd)
    if (!kept(static_cast<int>(fd), keep))
      close(static_cast<int>(fd));
  return okStatus();
}

void becomeSupervisorProcess(const sigset_t& blocked) {
  setsid();
  if (chdir("/") != 0) {
    // Keeping the old cwd only pins a directory; carry on.
  }
  for (int sig : kTerminalSignals)
    signal(sig, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_DFL);
  sigprocmask(SIG_SETMASK, &blocked, nullptr);
  prctl(PR_SET_NAME, "extsys-super", 0, 0, 0);
}

void occupyClosedStdio() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
      continue;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0)
      return;
    if (null != fd) {  // cannot happen: the lower ones are taken already
      dup3(null, fd, O_CLOEXEC);
      close(null);
    }
  }
}

}  // namespace detail

Result<UniqueFd> Handshake::awaitListener() {
  auto msg = recvWithFd(sock_.get(), 16);
  if (!msg)
    return Error(EPIPE, "the launcher went away before sending the listener");
  if (!msg->data.empty() && msg->data[0] == detail::kBusy) {
    outerListener_ = true;
    return Error(EBUSY, "PROGRAM is already under another listener");
  }
  if (!msg->fd.valid())
    return Error(EPROTO, "the launcher sent no listener");
  return std::move(msg->fd);
}

void Handshake::ready(const Status& status) {
  if (handover_ == Handover::ExecAtOnce) {
    if (!status.ok())
      std::fprintf(stderr,
                   "extsys: the supervisor could not start: %s (the program runs on; every "
                   "call its filter hands to the supervisor fails with ENOSYS)\n",
                   status.error().message().c_str());
    sock_.reset();
    return;
  }
  std::string msg(1, status.ok() ? detail::kReady : detail::kFailed);
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

}  // namespace extsys::launcher
