// SPDX-License-Identifier: MIT
// launcher/containment.h - a Landlock domain around PROGRAM, so that a
// program under a strict policy cannot reach processes outside its own tree.
//
// A seccomp filter binds only the processes under it. A same-uid program
// that can ptrace, process_vm_writev, open /proc/PID/mem of, or signal a
// process outside (the supervisor, the user's shell) has left the sandbox.
// Landlock scopes exactly these interactions to the domain's own processes:
//
//   Landlock ABI   kernel   what containSelf() achieves
//   none           -        nothing (ContainmentLevel::None, with the reason)
//   1 .. 5         5.13+    ptrace-class access to processes outside refused:
//                           ptrace attach, process_vm_readv/writev,
//                           /proc/PID/{mem,environ,maps,fd,ns/*,...},
//                           pidfd_getfd, setns(pidfd), kcmp, ...
//   6 and later    6.12+    also signals (kill, tkill, tgkill, rt_sigqueueinfo,
//                           pidfd_send_signal, F_SETOWN/SIGIO) and abstract
//                           unix sockets (connect, sendto) to the outside
//
// Files behave as before: from ABI 6 the domain handles no filesystem access
// at all. Below ABI 6 a domain must handle some filesystem right; it handles
// LANDLOCK_ACCESS_FS_MAKE_BLOCK (and REFER from ABI 2) with one rule granting
// both beneath "/", so paths resolve as before, but Landlock then also refuses
// every mount topology change (mount, umount2, pivot_root, move_mount: EPERM,
// also for root) and, on ABI 1 only, every cross-directory rename or link
// (EXDEV). Containment reports these side effects in its reason.
#pragma once

#include <climits>
#include <cstdint>
#include <string>

#include "base/result.h"
#include "policy/policy.h"

namespace extsys::launcher {

enum class ContainmentLevel : uint8_t {
  None,                       // no Landlock domain
  Ptrace,                     // ptrace-class access scoped (Landlock ABI 1-5)
  PtraceSignalsAbstractUnix,  // + signals and abstract unix sockets (ABI >= 6)
};

// "none", "ptrace", "ptrace+signals+abstract-unix".
const char* containmentLevelName(ContainmentLevel level);

struct Containment {
  ContainmentLevel level = ContainmentLevel::None;
  int landlockAbi = 0;  // the kernel's Landlock ABI; 0 when it has none
  int usedAbi = 0;      // the ABI the domain was built for (<= landlockAbi)
  std::string reason;   // one line: why this level and not more, and side effects
};

struct ContainmentOptions {
  // Use at most this Landlock ABI: tests use it to exercise the weaker levels
  // an older kernel gives (5: ptrace only, as on Debian 12's 6.1 with ABI 2;
  // 0: no domain at all).
  int maxAbi = INT_MAX;
};

// What containSelf() would achieve on this kernel; enforces nothing.
[[nodiscard]] Containment probeContainment(const ContainmentOptions& o = {});

// Creates and enforces the containment domain on the calling thread - a
// one-way step. Call it in the process about to exec PROGRAM, after
// PR_SET_NO_NEW_PRIVS (Landlock requires it, or CAP_SYS_ADMIN) and before the
// seccomp filter; execve keeps the domain, and only the calling thread
// carries it (the others die at execve). Processes forked before the call
// (the supervisor) stay outside the domain: PROGRAM cannot reach them.
//
// A kernel without Landlock, or with Landlock disabled at boot, is not an
// error: the result says ContainmentLevel::None and why. An Error means
// Landlock is there but refused the domain (no_new_privs missing: EPERM; 16
// stacked domains: E2BIG; ...), and nothing was enforced.
[[nodiscard]] Result<Containment> containSelf(const ContainmentOptions& o = {});

// What `extsys run` does about containment under a strict policy, decided
// before anything is forked (pure; unit-tested):
//   the kernel's level >= the floor  -> run, containment `planned`
//     and below full (an opt-in)     -> also `warning`: exactly what is weaker
//   below the floor                  -> refused: `refusal` names the cause and
//                                       the opt-in (exit 125, nothing started)
struct ContainmentDecision {
  Containment planned;
  std::string refusal;  // non-empty: do not start
  std::string warning;  // non-empty: say it (warn level: never silently weaker)
};
[[nodiscard]] ContainmentDecision decideContainment(policy::ContainmentFloor floor,
                                                    const Containment& available,
                                                    const std::string& policyName);

// The level a floor demands.
ContainmentLevel requiredLevel(policy::ContainmentFloor floor);

}  // namespace extsys::launcher
