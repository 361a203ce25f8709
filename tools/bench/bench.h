// SPDX-License-Identifier: MIT
// tools/bench/bench.h - shared pieces of extsys-bench (issue #5).
//
// extsys-bench is one binary with several roles:
//   extsys-bench [--quick] [--json FILE] [--extsys PATH]   the orchestrator (main.cpp)
//   extsys-bench worker --mode M --tasks T ...             measures in-process (worker.cpp)
//   extsys-bench spawn -- PROG ARGS...                     a plain fork+exec+wait wrapper
// The orchestrator starts workers natively, under its own bare ping-pong
// supervisor (pingpong.cpp) or under `extsys run`, and reads their samples.
#pragma once

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

namespace bench {

inline constexpr uint64_t kCheckFields = 1ULL << 63;
inline constexpr int kProbeErrno = 134;  // EEXTSYS_NOOP (asm-generic), extsys's default

// The three extensible structs, as the kernel lays them out.
struct OpenHow {
  uint64_t flags, mode, resolve;
};
struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
      set_tid_size, cgroup;
};
struct MountAttr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};
static_assert(sizeof(OpenHow) == 24 && sizeof(CloneArgs) == 88 && sizeof(MountAttr) == 32);

// Raw calls: return the syscall's result, or -errno.
inline long rawOpenat2(int dfd, const char* path, OpenHow* how, uint64_t size) {
  long r = syscall(SYS_openat2, dfd, path, how, size);
  return r < 0 ? -errno : r;
}
inline long rawClone3(CloneArgs* a, uint64_t size) {
  long r = syscall(SYS_clone3, a, size);
  return r < 0 ? -errno : r;
}
inline long rawMountSetattr(int dfd, const char* path, unsigned flags, MountAttr* a,
                            uint64_t size) {
  long r = syscall(SYS_mount_setattr, dfd, path, flags, a, size);
  return r < 0 ? -errno : r;
}

// clone3 whose child never touches memory: it calls exit(0) straight from the
// syscall return (so CLONE_VM or CLONE_VFORK children cannot clobber the
// parent's stack). Returns the child's tid in the parent, or -errno.
long clone3ExitChild(CloneArgs* a, uint64_t size);

inline uint64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// Sorted-copy statistics over samples (nanoseconds or any unit).
double percentile(std::vector<double> v, double p);  // p in [0, 100]
inline double median(const std::vector<double>& v) { return percentile(v, 50); }

[[noreturn]] void die(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// ---- worker.cpp
int workerMain(int argc, char** argv);

// ---- wrappers.cpp: `spawn -- PROG ARGS` (fork + exec + wait, the plain
// wrapper of the start-up comparison) and `seccomp-allow -- PROG ARGS` (exec
// under a one-instruction RET_ALLOW filter: what any seccomp filter costs).
int spawnMain(int argc, char** argv);
int seccompAllowMain(int argc, char** argv);

// ---- pingpong.cpp: the bare ping-pong (mechanism floor).
// Forks a detached minimal supervisor (poll + RECV + SEND error -134, writes
// nothing), installs a seccomp filter of extsys's shape on the calling
// process, hands the listener over with SCM_RIGHTS and waits until the
// supervisor is ready. Returns whether SYNC_WAKE_UP could be enabled (when
// asked for); dies on failure.
// Extras, to decompose extsys's cost over the floor: each adds one thing
// extsys's supervisor does per probe (or drops the poll before RECV).
enum BareExtra : unsigned {
  kBareIdValid = 1,  // SECCOMP_IOCTL_NOTIF_ID_VALID before answering
  kBareWrite = 2,    // process_vm_writev of the answer into the probe's struct
  kBareNoPoll = 4,   // blocking RECV without poll() first
};
bool startBareSupervisor(bool syncWakeUp, unsigned extras);

// ---- oldway.cpp: the discovery a program does without CHECK_FIELDS.
// Each returns the time of one full discovery in ns and stores the mask found.
struct OldWayResult {
  uint64_t ns = 0;
  uint64_t mask = 0;   // flags found (openat2 flags / clone3 flags / mount attr_set)
  uint64_t mask2 = 0;  // resolve / - / propagation
  bool ok = true;
  std::string note;
};
OldWayResult oldOpenat2Scan();
OldWayResult oldClone3Fork();
OldWayResult oldClone3Nproc();
OldWayResult oldMountSetattrScan();

}  // namespace bench
