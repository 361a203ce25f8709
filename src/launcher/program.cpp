// SPDX-License-Identifier: MIT
// launcher/program.cpp - the process that becomes PROGRAM.
#include "launcher/program.h"

#include <elf.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "base/errno_name.h"
#include "base/fd_passing.h"
#include "base/sys.h"
#include "kernel/abi/uapi_compat.h"
#include "launcher/containment.h"

namespace extsys::launcher::detail {
namespace {

Result<UniqueFd> newListener(const filter::BpfProgram& program) {
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

// A filter that notifies nothing needs no listener.
Status newFilter(const filter::BpfProgram& program) {
  sock_fprog prog{static_cast<unsigned short>(program.insns.size()),
                  const_cast<sock_filter*>(program.insns.data())};
  if (sys::seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
    return Error::fromErrno(errno, "seccomp(SECCOMP_SET_MODE_FILTER)");
  return okStatus();
}

bool noNewPrivsSet() { return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1; }

// "Seccomp: 2" in /proc/self/status: some filter is installed already.
bool underSeccompFilter() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Seccomp:", 0) == 0)
      return line.find('2') != std::string::npos;
  return true;  // cannot tell: assume so (costs one fork)
}

// Whether the kernel would refuse us a listener (EBUSY: an outer one
// exists), asked in a throw-away child so that this process never gets
// no_new_privs for nothing.
bool listenerWouldBeBusy() {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0)
    return false;
  UniqueFd rd(p[0]), wr(p[1]);
  pid_t child = fork();
  if (child < 0)
    return false;
  if (child == 0) {
    rd.reset();
    sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    filter::BpfProgram trivial;
    trivial.insns = {allow};
    char busy = '0';
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) {
      auto listener = newListener(trivial);
      if (!listener && listener.error().err() == EBUSY)
        busy = '1';
    }
    _exit(write(wr.get(), &busy, 1) == 1 ? 0 : 1);
  }
  wr.reset();
  char busy = '0';
  while (read(rd.get(), &busy, 1) < 0 && errno == EINTR) {
  }
  while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
  return busy == '1';
}

// The interpreter a script names on its #! line, or an ELF file's program
// interpreter (its dynamic loader); empty when there is none.
std::string interpreterOf(const std::string& path, bool& isElf) {
  isElf = false;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    return {};
  char head[512] = {};
  ssize_t n = pread(fd.get(), head, sizeof head - 1, 0);
  if (n >= 2 && head[0] == '#' && head[1] == '!') {
    const char* p = head + 2;
    while (*p == ' ' || *p == '\t')
      ++p;
    const char* end = p;
    while (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\n')
      ++end;
    return std::string(p, end);
  }
  Elf64_Ehdr eh{};
  if (n < static_cast<ssize_t>(sizeof eh) || std::memcmp(head, ELFMAG, SELFMAG) != 0 ||
      head[EI_CLASS] != ELFCLASS64)
    return {};
  isElf = true;
  std::memcpy(&eh, head, sizeof eh);
  for (unsigned i = 0; i < eh.e_phnum && i < 256; ++i) {
    Elf64_Phdr ph{};
    if (pread(fd.get(), &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * eh.e_phentsize)) !=
        static_cast<ssize_t>(sizeof ph))
      return {};
    if (ph.p_type != PT_INTERP)
      continue;
    std::string interp(std::min<size_t>(ph.p_filesz, 4096), '\0');
    if (pread(fd.get(), interp.data(), interp.size(), static_cast<off_t>(ph.p_offset)) !=
        static_cast<ssize_t>(interp.size()))
      return {};
    return interp.substr(0, interp.find('\0'));
  }
  return {};
}

}  // namespace

void message(const std::string& text) { std::fprintf(stderr, "extsys: %s\n", text.c_str()); }

int reportNotStartable(const std::string& program, const Error& notFound) {
  const int err = notFound.err();
  if (err == ENOENT) {
    // As the shell says it: a bare name was searched in PATH, a path was not.
    if (program.find('/') == std::string::npos)
      message(program + ": command not found");
    else
      message(program + ": No such file or directory");
    return kExitNotFound;
  }
  message(program + ": " + (err == EISDIR ? "is a directory" : std::strerror(err)));
  return kExitNotExecutable;
}

std::string nestedMessage() {
  return "cannot install the seccomp listener: EBUSY: this process is already supervised by "
         "another seccomp user-notification listener (extsys run inside extsys run, or a "
         "container's seccomp agent); use --nested=passthrough to run without extsys";
}

Result<UniqueFd> installListener(const LaunchSpec& spec) {
  if (spec.noNewPrivs == NoNewPrivs::WhenRequired) {
    // With CAP_SYS_ADMIN the kernel takes the filter as it is, and set-id
    // programs keep working as without extsys.
    auto fd = newListener(spec.program);
    if (fd || fd.error().err() != EACCES)
      return fd;
  }
  // The kernel demands no_new_privs (or the policy wants it). A nested run
  // that will pass through must not keep it: find out first (unless it is
  // set already: containment did, after the same check).
  if (spec.nested == NestedMode::Passthrough && !noNewPrivsSet() && underSeccompFilter() &&
      listenerWouldBeBusy())
    return Error(EBUSY, "already under a seccomp listener");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return Error::fromErrno(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  return newListener(spec.program);
}

namespace {

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

}  // namespace

Status confineProgramProcess(const LaunchSpec& spec) {
  if (!spec.containment)
    return okStatus();
  // Landlock requires no_new_privs (or CAP_SYS_ADMIN); strict sets it anyway.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return Error::fromErrno(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  auto got = containSelf();
  if (!got)
    return std::move(got).error();
  if (got->level < *spec.containment)  // the kernel changed since the plan: never weaker
    return Error(EPERM, std::string("Landlock containment is ") + containmentLevelName(got->level) +
                            ", not " + containmentLevelName(*spec.containment) + ": " +
                            got->reason);
  return okStatus();
}

Armed armProgramProcess(const LaunchSpec& spec, int sock, Handover handover) {
  // >>> Further confinement of PROGRAM goes here, and only here: this runs
  // in the process that execs PROGRAM, in both process models, just before
  // the filter is installed (so that it applies to the filter's own set-up
  // as little as possible, and to everything PROGRAM does). The supervisor
  // (and, in the ancestor model, the front) exist already: outside the
  // domain, out of PROGRAM's reach.
  if (spec.containment) {
    // A nested run that will pass through must run without extsys: no
    // no_new_privs, no domain. Find out before either is set.
    if (spec.nested == NestedMode::Passthrough && underSeccompFilter() && listenerWouldBeBusy()) {
      (void)sendWithFd(sock, std::string(1, kBusy), -1);
      return Armed::Busy;
    }
    if (auto st = confineProgramProcess(spec); !st) {
      message("cannot contain the program: " + st.error().message());
      return Armed::Failed;
    }
  }

  auto listener = installListener(spec);
  if (!listener) {
    if (listener.error().err() == EBUSY) {
      (void)sendWithFd(sock, std::string(1, kBusy), -1);
      return Armed::Busy;
    }
    message("cannot install the seccomp filter: " + listener.error().message());
    return Armed::Failed;
  }
  Status sent = sendWithFd(sock, std::string(1, kListener), listener->get());
  listener->reset();  // only the supervisor holds it now
  Status ready = handover == Handover::AwaitReady ? awaitReady(sock) : okStatus();
  if (!ready) {
    message("supervisor failed to start: " + ready.error().message());
    return Armed::Failed;
  }
  if (!sent) {
    message(sent.error().message());
    return Armed::Failed;
  }
  return Armed::Ready;
}

int runUnsupervised(const LaunchSpec& spec) {
  if (auto st = confineProgramProcess(spec); !st) {
    message("cannot contain the program: " + st.error().message());
    return kExitLauncherFailed;
  }
  Status installed = spec.noNewPrivs == NoNewPrivs::WhenRequired
                         ? newFilter(spec.program)
                         : Error(EACCES, "no_new_privs wanted");
  if (!installed && installed.error().err() == EACCES) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
      installed = Error::fromErrno(errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    else
      installed = newFilter(spec.program);
  }
  if (!installed) {
    message("cannot install the seccomp filter: " + installed.error().message());
    return kExitLauncherFailed;
  }
  return execProgram(spec.argv);
}

int execProgram(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(nullptr);
  execvp(argv[0], argv.data());
  const int err = errno;
  const std::string& program = args.front();
  auto found = findProgram(program);
  if (!found)
    return reportNotStartable(program, found.error());
  // It exists: what failed may be its interpreter (execvp reports a missing
  // one as ENOENT, a non-executable one as EACCES).
  bool elf = false;
  const std::string interp = interpreterOf(*found, elf);
  if ((err == ENOENT || err == EACCES) && !interp.empty()) {
    struct stat st {};
    int ierr = 0;
    if (stat(interp.c_str(), &st) != 0)
      ierr = errno;
    else if (!S_ISREG(st.st_mode) || access(interp.c_str(), X_OK) != 0)
      ierr = EACCES;  // what execve says of a directory or a non-executable
    if (ierr != 0) {
      message(program + ": " + interp + ": bad " + (elf ? "ELF " : "") +
              "interpreter: " + std::strerror(ierr));
      return ierr == ENOENT ? kExitNotFound : kExitNotExecutable;
    }
  }
  if (err == ENOENT) {
    message(program + ": cannot execute: required file not found");
    return kExitNotFound;
  }
  message(program + ": " + std::strerror(err));
  return kExitNotExecutable;
}

}  // namespace extsys::launcher::detail
