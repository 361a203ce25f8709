// SPDX-License-Identifier: MIT
// supervisor/supervisor.h - serves one seccomp listener until no task uses it.
//
// Threading: serve() blocks the calling thread, which is the first worker.
// More workers start on demand - when a notification was already queued
// before any worker asked for it - up to SupervisorOptions::maxWorkers; each has its
// own buffers, call-handler scratch and counters, and the kernel hands every
// notification to exactly one of them. Async-signal safety: none. While it
// runs, serve() handles SIGALRM (a watchdog timer aimed at its own thread)
// and SIGUSR2 (stopping workers); it restores both dispositions, and its
// thread's signal mask, before it returns.
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

// The default for maxWorkers: one per CPU this process may run on, at most 8.
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

private:
  struct Pool;
  Supervisor(policy::EffectivePolicy policy, SupervisorOptions options, AuditLog audit);
  Reply dispatch(const seccomp_notif& n, const kernel::NotifyFd& listener, CallHandler& calls,
                 Counters& counters) const;

  policy::EffectivePolicy policy_;
  SupervisorOptions options_;
  kernel::SyscallLookup lookup_;
  ProbeHandler probes_;
  AuditLog audit_;
  Counters counters_;
  unsigned workersStarted_ = 0;
  std::unique_ptr<CallHandler> decideCalls_;  // decide()'s, made on first use
};

}  // namespace extsys::supervisor
