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

RunResult run(const RunSpec& spec);

// Path of a built binary, from an environment variable meson sets.
std::string binary(const char* envName);

}  // namespace extsys::test
