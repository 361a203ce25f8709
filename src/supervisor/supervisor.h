// SPDX-License-Identifier: MIT
// supervisor/supervisor.h - serves one seccomp listener until no task uses it.
//
// Threading: serve() blocks the calling thread, which only waits for the
// listener to hang up (no task left in the filter); worker threads answer
// the notifications. One worker starts with serve(); more start on demand -
// when notifications really queue up - up to SupervisorOptions::maxWorkers;
// each has its own buffers, call-handler scratch and counters, and the
// kernel hands every notification to exactly one of them. Once the listener
// hangs up serve() returns within about a second whatever a worker is
// blocked in (process_vm_writev into a FUSE or userfaultfd page nobody
// services, for one): such a worker is left behind, owning what it still
// uses, and ends by itself when its call returns. Async-signal safety: none.
// While it runs, serve() handles SIGUSR2 (stopping workers); it restores the
// disposition and its thread's signal mask before it returns, unless it
// left a worker behind (then the do-nothing handler stays installed).
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "policy/policy.h"
#include "supervisor/audit.h"
#include "supervisor/call_handler.h"
#include "supervisor/probe_handler.h"

namespace extsys::supervisor {

enum class SyncWakeUp : uint8_t { Auto, On, Off };

// The default for maxWorkers: one per two CPUs this process may run on, at
// least 1, at most 8. A probe's round trip keeps the probing thread's CPU
// and a worker's busy, so workers beyond half the CPUs only compete with
// the threads they serve (on 2 CPUs a second worker lowered both latency
// and throughput: issue 22).
unsigned defaultWorkers();

struct SupervisorOptions {
  uint64_t pageSize = 4096;
  SyncWakeUp syncWakeUp = SyncWakeUp::Auto;
  std::string auditPath;  // empty: no audit
  unsigned maxWorkers = 1;  // threads answering notifications (>= 1)
};

class Supervisor {
public:
  // Prebuilds everything the hot path needs; the listener comes later.
  [[nodiscard]] static Result<std::unique_ptr<Supervisor>> create(policy::EffectivePolicy policy,
                                                                  SupervisorOptions options);

  // Takes the listener and answers notifications until the listener reports
  // POLLHUP (no task left in the filter). EINTR and ENOENT are normal. Returns
  // an error only for a broken listener.
  [[nodiscard]] Status serve(UniqueFd listener);

  // One notification another process received (LXC's monitor forwards
  // them to `extsys agent --lxc-socket`): decided, and a probe's answer
  // written with process_vm_writev, exactly as serve() would; `listener` is
  // only used for NOTIF_ID_VALID. The caller sends the Reply. Counted in
  // counters(). Not thread-safe; not while serve() runs.
  [[nodiscard]] Reply decide(const seccomp_notif& n, const kernel::NotifyFd& listener);

  // Totals over all workers; complete once serve() has returned.
  const Counters& counters() const { return counters_; }
  // How many workers serve() started (1 until a second one was needed).
  unsigned workersStarted() const { return workersStarted_; }
  // How many workers serve() left behind, blocked in a system call after
  // the listener hung up (their counters are not in counters()).
  unsigned workersLeftBehind() const { return workersLeftBehind_; }

private:
  struct Core;  // what workers read; shared with any worker left behind
  struct Pool;
  explicit Supervisor(std::shared_ptr<const Core> core) : core_(std::move(core)) {}

  std::shared_ptr<const Core> core_;
  Counters counters_;
  unsigned workersStarted_ = 0;
  unsigned workersLeftBehind_ = 0;
  std::unique_ptr<CallHandler> decideCalls_;  // decide()'s, made on first use
};

}  // namespace extsys::supervisor
