// SPDX-License-Identifier: MIT
// launcher/process_model.h - which process model `extsys run` uses, and why.
//
// The supervisor writes every probe answer with process_vm_writev(2), which
// the kernel allows like a ptrace attach. Yama's ptrace_scope narrows that:
//   0  classic rules (same user, dumpable target)
//   1  only into descendants of the writer, unless it has CAP_SYS_PTRACE in
//      the target's user namespace (PR_SET_PTRACER exceptions aside)
//   2  only with CAP_SYS_PTRACE
//   3  never, not even for root
// Exec in place keeps the supervisor out of PROGRAM's process tree, so under
// scope 1 an unprivileged supervisor can answer nothing; the ancestor model
// makes it the parent (and child subreaper) of PROGRAM and of every orphan
// below it. PR_SET_PTRACER is not used: it names one tracer for one process
// and is not inherited, so PROGRAM's children (and daemons) would stay
// unanswerable, and its ANY form would open PROGRAM to every process of the
// user.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace extsys::launcher {

enum class ProcessModel : uint8_t {
  InPlace,   // extsys becomes PROGRAM (same pid); the supervisor is detached
  Ancestor,  // extsys -> supervisor (subreaper) -> PROGRAM; extsys forwards
};

enum class ModelRequest : uint8_t { Auto, InPlace, Ancestor };

// "in-place" / "ancestor".
const char* name(ProcessModel m);
// Parses "auto", "in-place", "ancestor".
[[nodiscard]] Result<ModelRequest> parseModelRequest(std::string_view text);

// What decides whether a supervisor may write into the programs it serves.
struct PtraceAccess {
  std::optional<int> yamaScope;  // empty: no Yama (or unreadable, see note)
  bool yamaUnreadable = false;   // the file exists but could not be read
  bool capSysPtrace = false;     // CAP_SYS_PTRACE in our effective set
};

// Reads /proc/sys/kernel/yama/ptrace_scope and our effective capabilities.
// PROGRAM starts in our user namespace, where those capabilities count.
PtraceAccess currentPtraceAccess();

struct ModelChoice {
  std::optional<ProcessModel> model;  // empty: refused (reason is the error)
  std::string reason;                 // one line, for `features` and the log
  // Set when the chosen model cannot answer probes here (forced by the
  // user): what every probe will get and why.
  std::string warning;
};

// The decision table (pure; unit-tested):
//   no Yama, scope 0            -> in-place
//   scope 1 or 2, CAP_SYS_PTRACE -> in-place
//   scope 1 without it           -> ancestor
//   scope 2 without it, scope 3  -> refused (every probe would get E2BIG)
//   scope unreadable             -> ancestor (right for 0 and 1)
// A forced model is always used, with a warning where it cannot work.
ModelChoice chooseProcessModel(ModelRequest request, const PtraceAccess& access);

}  // namespace extsys::launcher
