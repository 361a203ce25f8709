// SPDX-License-Identifier: MIT
// launcher/containment.cpp - the Landlock containment domain (see the header).
#include "launcher/containment.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/errno_name.h"
#include "base/unique_fd.h"
#include "kernel/abi/uapi_landlock.h"

namespace extsys::launcher {
namespace {

using namespace uapi;  // the Landlock constants of kernel/abi/uapi_landlock.h

struct Probe {
  int abi = 0;  // 0: no Landlock
  std::string why;
};

Probe probeKernel() {
  const long v = syscall(kNrLandlockCreateRuleset, nullptr, 0, kLandlockCreateRulesetVersion);
  if (v > 0)
    return {static_cast<int>(v), ""};
  const int err = errno;
  switch (err) {
    case ENOSYS:
      return {0, "this kernel has no Landlock (built without CONFIG_SECURITY_LANDLOCK, or older "
                 "than 5.13): ENOSYS"};
    case EOPNOTSUPP:
      return {0, "Landlock is built into this kernel but not enabled at boot (EOPNOTSUPP): add "
                 "'landlock' to the lsm= kernel parameter"};
    default:
      return {0, std::string("landlock_create_ruleset(VERSION) failed: ") + errnoDescribe(err)};
  }
}

Containment plan(const ContainmentOptions& o) {
  Containment c;
  const Probe p = probeKernel();
  c.landlockAbi = p.abi;
  if (p.abi == 0) {
    c.reason = "no containment: " + p.why;
    return c;
  }
  c.usedAbi = std::min(p.abi, std::max(o.maxAbi, 0));
  if (c.usedAbi == 0) {
    c.reason = "no containment: Landlock use limited to ABI 0 by the caller (kernel has ABI " +
               std::to_string(p.abi) + ")";
    return c;
  }
  const std::string abi = "Landlock ABI " + std::to_string(c.usedAbi);
  if (c.usedAbi >= kLandlockFirstScopedAbi) {
    c.level = ContainmentLevel::PtraceSignalsAbstractUnix;
    c.reason = abi + ": ptrace-class access, signals and abstract unix sockets are scoped to "
                     "the program's own processes; no filesystem access is handled";
    return c;
  }
  c.level = ContainmentLevel::Ptrace;
  c.reason = abi + " (< 6): only ptrace-class access is scoped; signals and abstract unix "
                   "sockets to processes outside still work. Side effect of the filesystem "
                   "right such a domain must handle: mount topology changes (mount, umount2, "
                   "pivot_root, move_mount) get EPERM";
  if (c.usedAbi == 1)
    c.reason += ", and renaming or linking a file into another directory gets EXDEV";
  return c;
}

Result<UniqueFd> createRuleset(const Containment& c) {
  LandlockRulesetAttr attr{};
  size_t size = sizeof attr;
  if (c.level == ContainmentLevel::PtraceSignalsAbstractUnix) {
    attr.scoped = kLandlockScopeSignal | kLandlockScopeAbstractUnixSocket;
  } else {
    attr.handledAccessFs = kLandlockAccessFsMakeBlock;
    if (c.usedAbi >= 2)
      attr.handledAccessFs |= kLandlockAccessFsRefer;
    size = kLandlockRulesetAttrSizeAbi1;
  }
  const long fd = syscall(kNrLandlockCreateRuleset, &attr, size, 0U);
  if (fd < 0)
    return Error::fromErrno(errno, "landlock_create_ruleset");
  UniqueFd ruleset(static_cast<int>(fd));
  if (attr.handledAccessFs == 0)
    return ruleset;
  // Grant the handled rights beneath "/": every path resolves as before.
  UniqueFd root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid())
    return Error::fromErrno(errno, "open(\"/\", O_PATH)");
  LandlockPathBeneathAttr rule{attr.handledAccessFs, root.get()};
  if (syscall(kNrLandlockAddRule, ruleset.get(), kLandlockRulePathBeneath, &rule, 0U) != 0)
    return Error::fromErrno(errno, "landlock_add_rule(\"/\")");
  return ruleset;
}

}  // namespace

const char* containmentLevelName(ContainmentLevel level) {
  switch (level) {
    case ContainmentLevel::None:
      return "none";
    case ContainmentLevel::Ptrace:
      return "ptrace";
    case ContainmentLevel::PtraceSignalsAbstractUnix:
      return "ptrace+signals+abstract-unix";
  }
  return "?";
}

Containment probeContainment(const ContainmentOptions& o) { return plan(o); }

Result<Containment> containSelf(const ContainmentOptions& o) {
  Containment c = plan(o);
  if (c.level == ContainmentLevel::None)
    return c;
  auto ruleset = createRuleset(c);
  if (!ruleset)
    return std::move(ruleset).error().wrap("Landlock containment");
  if (syscall(kNrLandlockRestrictSelf, ruleset->get(), 0U) != 0) {
    const int err = errno;
    std::string what = "landlock_restrict_self";
    if (err == EPERM)
      what += " (no_new_privs is not set and the caller lacks CAP_SYS_ADMIN)";
    else if (err == E2BIG)
      what += " (16 Landlock domains are already stacked)";
    return Error::fromErrno(err, what).wrap("Landlock containment");
  }
  return c;
}

ContainmentLevel requiredLevel(policy::ContainmentFloor floor) {
  switch (floor) {
    case policy::ContainmentFloor::Full: return ContainmentLevel::PtraceSignalsAbstractUnix;
    case policy::ContainmentFloor::PtraceOnly: return ContainmentLevel::Ptrace;
    case policy::ContainmentFloor::None: return ContainmentLevel::None;
  }
  return ContainmentLevel::PtraceSignalsAbstractUnix;
}

ContainmentDecision decideContainment(policy::ContainmentFloor floor, const Containment& available,
                                      const std::string& policyName) {
  ContainmentDecision d;
  d.planned = available;
  const std::string who = "policy " + policyName + ": ";
  const std::string abi = "Landlock ABI " + std::to_string(available.usedAbi);
  std::string why = available.reason;  // "no containment: <cause>" when there is none
  if (const std::string none = "no containment: "; why.rfind(none, 0) == 0)
    why.erase(0, none.size());
  switch (available.level) {
    case ContainmentLevel::PtraceSignalsAbstractUnix:
      break;
    case ContainmentLevel::Ptrace:
      if (floor == policy::ContainmentFloor::Full)
        d.refusal = who + "this kernel's Landlock (ABI " + std::to_string(available.usedAbi) +
                    ") can keep the program from ptrace-class access to processes outside it, "
                    "but not from signalling them or connecting to their abstract unix sockets "
                    "(that needs ABI 6, Linux 6.12); to run with that weaker containment, use "
                    "--containment ptrace-only (or containment = \"ptrace-only\" in the policy)";
      else
        d.warning = who + "containment is ptrace-only (" + abi + " < 6, accepted by containment "
                    "= " + policy::name(floor) + "): the program can still signal processes of "
                    "its user outside it (SIGSTOP, SIGKILL) and connect to their abstract unix "
                    "sockets";
      break;
    case ContainmentLevel::None:
      if (floor != policy::ContainmentFloor::None)
        d.refusal = who + "strict policies contain the program with Landlock, but " + why +
                    "; to run without containment, use --containment none (or containment = "
                    "\"none\" in the policy)";
      else
        d.warning = who + "no containment (" + why + ", accepted by containment = none): the "
                    "program can ptrace, read and write the memory of, and signal the processes "
                    "of its user outside it";
      break;
  }
  return d;
}

}  // namespace extsys::launcher
