// SPDX-License-Identifier: MIT
// supervisor/reply.h - what the supervisor does with one notification (a
// Reply, with the decision the audit log records) and the per-worker
// counters of those decisions. Shared by the probe and call handlers.
#pragma once

#include <cstdint>

namespace extsys::supervisor {

struct Counters {
  uint64_t answered = 0;    // got the probe errno
  uint64_t rejected = 0;    // EINVAL / E2BIG / ENOSYS from the checks
  uint64_t faulted = 0;     // EFAULT while writing the image
  uint64_t gone = 0;        // target vanished before the answer
  uint64_t unwritable = 0;  // could not write (EPERM, pid not visible): native answer
  uint64_t allowed = 0;     // restricted calls that passed the check and continued
  uint64_t denied = 0;      // restricted calls answered deny_errno / E2BIG / EFAULT

  Counters& operator+=(const Counters& c) {
    answered += c.answered;
    rejected += c.rejected;
    faulted += c.faulted;
    gone += c.gone;
    unwritable += c.unwritable;
    allowed += c.allowed;
    denied += c.denied;
    return *this;
  }
};

// What to do with a notification, and what to audit about it.
struct Reply {
  enum class Kind : uint8_t { Send, Drop, Continue } kind = Kind::Send;
  int err = 0;                // errno to answer with (positive); 0: return `val`
  const char* decision = "";  // answered, rejected, faulted, gone, allowed, denied...
  int64_t val = 0;            // Send with err 0: the call's return value
};

}  // namespace extsys::supervisor
