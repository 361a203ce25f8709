// SPDX-License-Identifier: MIT
// integration/subprocess.h - runs a program with captured output, a time
// limit and optional extra environment or credentials.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace extsys::test {

struct RunResult {
  int status = -1;  // raw wait status
  std::string out;
  std::string err;
  pid_t pid = -1;
  bool timedOut = false;

  bool exited() const;
  int exitCode() const;  // -1 unless exited
  int signal() const;    // 0 unless killed by a signal
  std::string describe() const;
};

struct RunSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // extra NAME=VALUE entries
  int timeoutSec = 60;
  std::function<void()> inChild;  // runs after fork, before exec
};

// Runs argv; kills it (timedOut) after timeoutSec x timeScale().
RunResult run(const RunSpec& spec);

// A child that runs while the test talks to it: its stdout and stderr are
// read as they come. The destructor kills (SIGKILL) and reaps it if needed.
class Spawned {
public:
  explicit Spawned(const RunSpec& spec);
  ~Spawned();
  Spawned(const Spawned&) = delete;
  Spawned& operator=(const Spawned&) = delete;

  pid_t pid() const { return r_.pid; }
  const std::string& out() const { return r_.out; }
  const std::string& err() const { return r_.err; }
  // Reads until stdout contains `text` at or after `from` (seconds x
  // timeScale()); returns where it starts, or npos.
  size_t waitForOut(const std::string& text, double seconds, size_t from = 0);
  // Reads the rest until EOF and waits for the child (spec.timeoutSec).
  RunResult finish();

private:
  bool pump(int timeoutMs);
  RunSpec spec_;
  RunResult r_;
  int fds_[2] = {-1, -1};
  bool reaped_ = false;
};

// EXTSYS_TEST_TIME_SCALE (1 to 100, default 1): how much slower than a
// normal host this machine is - e.g. 4 under qemu's TCG. It stretches the
// time limits that guard against hangs, never a limit that is itself the
// property under test (such as "within a second of the supervisor's death").
double timeScale();

// The kernel's Landlock ABI (0: none), asked of the kernel itself.
int landlockAbi();

// What `extsys run` needs under a strict policy to start on this kernel:
// nothing where Landlock contains fully (ABI >= 6), else the documented
// opt-in: {"--containment", "ptrace-only"} (ABI 1-5) or "none" (no Landlock).
std::vector<std::string> strictOptIn();

// Path of a built binary, from an environment variable meson sets.
std::string binary(const char* envName);

}  // namespace extsys::test
