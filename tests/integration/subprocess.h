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

// EXTSYS_TEST_TIME_SCALE (1 to 100, default 1): how much slower than a
// normal host this machine is - e.g. 4 under qemu's TCG. It stretches the
// time limits that guard against hangs, never a limit that is itself the
// property under test (such as "within a second of the supervisor's death").
double timeScale();

// Path of a built binary, from an environment variable meson sets.
std::string binary(const char* envName);

}  // namespace extsys::test
