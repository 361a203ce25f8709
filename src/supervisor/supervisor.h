// SPDX-License-Identifier: MIT
// supervisor/supervisor.h - serves one seccomp listener until no task uses it.
//
// Threading: single-threaded; serve() blocks. Async-signal safety: none.
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

struct SupervisorOptions {
  uint64_t pageSize = 4096;
  SyncWakeUp syncWakeUp = SyncWakeUp::Auto;
  std::string auditPath;  // empty: no audit
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

  const Counters& counters() const { return counters_; }

private:
  Supervisor(policy::EffectivePolicy policy, SupervisorOptions options, AuditLog audit);
  Reply dispatch(const seccomp_notif& n, const kernel::NotifyFd& listener);

  policy::EffectivePolicy policy_;
  SupervisorOptions options_;
  SyscallLookup lookup_;
  ProbeHandler probes_;
  CallHandler calls_;
  AuditLog audit_;
  Counters counters_;
};

}  // namespace extsys::supervisor
