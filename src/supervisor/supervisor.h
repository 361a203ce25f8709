// SPDX-License-Identifier: MIT
// supervisor/supervisor.h - serves one seccomp listener until no task uses it.
//
// Threading: single-threaded; serve() blocks. Async-signal safety: none.
#pragma once

#include "base/result.h"
#include "base/unique_fd.h"
#include "kernel/answers.h"
#include "supervisor/probe_handler.h"

namespace extsys::supervisor {

enum class SyncWakeUp : uint8_t { Auto, On, Off };

struct SupervisorOptions {
  ProbeConfig probe;
  SyncWakeUp syncWakeUp = SyncWakeUp::Auto;
};

class Supervisor {
public:
  // Prebuilds everything the hot path needs; the listener comes later.
  [[nodiscard]] static Result<Supervisor> create(const kernel::ProbeAnswers& answers,
                                                 SupervisorOptions options);

  // Takes the listener and answers notifications until the listener reports
  // POLLHUP (no task left in the filter). EINTR and ENOENT are normal. Returns
  // an error only for a broken listener.
  [[nodiscard]] Status serve(UniqueFd listener);

  const Counters& counters() const { return counters_; }

private:
  Supervisor(const kernel::ProbeAnswers& answers, SupervisorOptions options)
      : handler_(answers, options.probe), options_(options) {}

  ProbeHandler handler_;
  SupervisorOptions options_;
  Counters counters_;
};

}  // namespace extsys::supervisor
