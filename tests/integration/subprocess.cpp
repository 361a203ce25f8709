// SPDX-License-Identifier: MIT
// integration/subprocess.cpp - fork/exec with pipes and a deadline.
#include "subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace extsys::test {

bool RunResult::exited() const { return WIFEXITED(status); }
int RunResult::exitCode() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
int RunResult::signal() const { return WIFSIGNALED(status) ? WTERMSIG(status) : 0; }

std::string RunResult::describe() const {
  std::string s = timedOut ? "TIMED OUT, " : "";
  if (exited())
    s += "exit " + std::to_string(exitCode());
  else if (signal() != 0)
    s += std::string("signal ") + strsignal(signal());
  return s + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err;
}

static double monotonicNow() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double timeScale() {
  static const double scale = [] {
    const char* v = std::getenv("EXTSYS_TEST_TIME_SCALE");
    const double x = v != nullptr ? std::strtod(v, nullptr) : 1.0;
    return x >= 1.0 && x <= 100.0 ? x : 1.0;
  }();
  return scale;
}

namespace {

// fork + exec with stdout and stderr on pipes (returned), stdin /dev/null.
pid_t startChild(const RunSpec& spec, int fds[2]) {
  int outp[2], errp[2];
  if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe2");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(outp[1], 1);
    dup2(errp[1], 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    rlimit core{0, 0};
    setrlimit(RLIMIT_CORE, &core);
    for (const auto& e : spec.env)
      putenv(strdup(e.c_str()));
    if (spec.inChild)
      spec.inChild();
    std::vector<char*> argv;
    for (const auto& a : spec.argv)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(99);
  }
  close(outp[1]);
  close(errp[1]);
  fds[0] = outp[0];
  fds[1] = errp[0];
  return pid;
}

// One round of reading: false once both pipes are closed.
bool readSome(int fds[2], RunResult& r, int timeoutMs) {
  pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
  if (fds[0] < 0 && fds[1] < 0)
    return false;
  if (poll(p, 2, timeoutMs) < 0 && errno != EINTR)
    return false;
  for (int i = 0; i < 2; ++i) {
    if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
      continue;
    char buf[4096];
    ssize_t n = read(p[i].fd, buf, sizeof buf);
    if (n <= 0) {
      close(fds[i]);
      fds[i] = -1;
    } else {
      (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
    }
  }
  return fds[0] >= 0 || fds[1] >= 0;
}

}  // namespace

RunResult run(const RunSpec& spec) {
  RunResult r;
  int fds[2];
  r.pid = startChild(spec, fds);
  const double deadline = monotonicNow() + spec.timeoutSec * timeScale();
  for (;;) {
    int left = static_cast<int>((deadline - monotonicNow()) * 1000);
    if (left <= 0) {
      r.timedOut = true;
      kill(r.pid, SIGKILL);
      break;
    }
    if (!readSome(fds, r, left))
      break;
  }
  for (int fd : fds)
    if (fd >= 0)
      close(fd);
  waitpid(r.pid, &r.status, 0);
  return r;
}

Spawned::Spawned(const RunSpec& spec) : spec_(spec) { r_.pid = startChild(spec_, fds_); }

Spawned::~Spawned() {
  for (int fd : fds_)
    if (fd >= 0)
      close(fd);
  if (!reaped_) {
    kill(r_.pid, SIGKILL);
    waitpid(r_.pid, nullptr, 0);
  }
}

bool Spawned::pump(int timeoutMs) { return readSome(fds_, r_, timeoutMs); }

size_t Spawned::waitForOut(const std::string& text, double seconds, size_t from) {
  const double deadline = monotonicNow() + seconds * timeScale();
  for (;;) {
    if (size_t at = r_.out.find(text, from); at != std::string::npos)
      return at;
    int left = static_cast<int>((deadline - monotonicNow()) * 1000);
    if (left <= 0 || !pump(left))
      return r_.out.find(text, from);
  }
}

RunResult Spawned::finish() {
  const double deadline = monotonicNow() + spec_.timeoutSec * timeScale();
  for (;;) {
    int left = static_cast<int>((deadline - monotonicNow()) * 1000);
    if (left <= 0) {
      r_.timedOut = true;
      kill(r_.pid, SIGKILL);
      break;
    }
    if (!pump(left))
      break;
  }
  waitpid(r_.pid, &r_.status, 0);
  reaped_ = true;
  return r_;
}

int landlockAbi() {
  const long v = syscall(444 /* landlock_create_ruleset */, nullptr, 0, 1U /* VERSION */);
  return v > 0 ? static_cast<int>(v) : 0;
}

std::vector<std::string> strictOptIn() {
  const int abi = landlockAbi();
  if (abi >= 6)
    return {};
  return {"--containment", abi > 0 ? "ptrace-only" : "none"};
}

std::string binary(const char* envName) {
  const char* p = std::getenv(envName);
  if (p == nullptr)
    throw std::runtime_error(std::string(envName) + " is not set (run through meson test)");
  return p;
}

}  // namespace extsys::test
