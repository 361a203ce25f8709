// SPDX-License-Identifier: MIT
// integration/run_contract.h - what launcher_test.cpp and
// process_model_test.cpp share: the contract's parameter (the process
// model) and small helpers.
#pragma once

#include <gtest/gtest.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "subprocess.h"

namespace extsys::test {

// The run contract in each process model (`--process-model`); test names
// are InPlace/Contract.X and Ancestor/Contract.X.
class Contract : public ::testing::TestWithParam<std::string> {
protected:
  bool ancestor() const { return GetParam() == "ancestor"; }
  // extsys run --process-model MODEL [OPTIONS] -- PROGRAM...
  std::vector<std::string> extsys(const std::vector<std::string>& program,
                                  const std::vector<std::string>& options = {}) const {
    std::vector<std::string> argv{binary("EXTSYS"), "run", "--process-model", GetParam()};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back("--");
    argv.insert(argv.end(), program.begin(), program.end());
    return argv;
  }
};

inline std::string modelName(const ::testing::TestParamInfo<std::string>& p) {
  return p.param == "in-place" ? "InPlace" : "Ancestor";
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/extsys-it-XXXXXX";
    path = mkdtemp(tmpl);
    chmod(path.c_str(), 0777);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// Whether the test can run something as uid 65534 (root, or already it).
inline bool canBeNobody() { return geteuid() == 0 || geteuid() == 65534; }

inline void asNobody() {
  setgroups(0, nullptr);  // fails harmlessly when already unprivileged
  if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
    _exit(98);
}

// Yama's ptrace_scope, or -1 without Yama.
int yamaScope();

// Whether a supervisor that is not an ancestor of its program cannot write
// into it for this test's user (Yama scope >= 1 without CAP_SYS_PTRACE).
bool outsiderCannotWrite();

// /proc/PID/stat fields 4 (ppid), 5 (pgrp), 6 (session); 3 is the state.
struct ProcStat {
  char state = '?';
  long ppid = -1, pgrp = -1, session = -1;
};
ProcStat procStat(long pid);

// The first line of /proc/PID/comm.
std::string procComm(long pid);

}  // namespace extsys::test
