// SPDX-License-Identifier: MIT
// tools/bench/wrappers.cpp - the two tiny wrappers the benchmark compares
// extsys with: `extsys-bench spawn` and `extsys-bench seccomp-allow`.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "bench.h"

namespace bench {

// `seccomp-allow -- PROG ARGS`: exec PROG under a one-instruction RET_ALLOW
// filter: what merely having a seccomp filter costs (no listener, no notify).
int seccompAllowMain(int argc, char** argv) {
  const char* what = "seccomp-allow";
  int i = 0;
  if (i < argc && std::strcmp(argv[i], "--") == 0)
    ++i;
  if (i >= argc)
    die("usage: extsys-bench %s -- PROG [ARGS...]", what);
  sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  sock_fprog prog{1, &allow};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
    die("seccomp(SET_MODE_FILTER): %s", strerror(errno));
  execvp(argv[i], argv + i);
  die("%s: %s", argv[i], strerror(errno));
}

// `spawn -- PROG ARGS`: fork, exec, wait, exit with the child's status.
int spawnMain(int argc, char** argv) {
  const char* what = "spawn";
  int i = 0;
  if (i < argc && std::strcmp(argv[i], "--") == 0)
    ++i;
  if (i >= argc)
    die("usage: extsys-bench %s -- PROG [ARGS...]", what);
  const pid_t pid = fork();
  if (pid < 0)
    die("fork: %s", strerror(errno));
  if (pid == 0) {
    execvp(argv[i], argv + i);
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

}  // namespace bench
