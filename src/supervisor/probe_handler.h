// SPDX-License-Identifier: MIT
// supervisor/probe_handler.h - answers one CHECK_FIELDS notification exactly
// as the RFC v3 kernel code would: checks in the kernel's order, then the
// prebuilt image written with copy_struct_to_user semantics.
#pragma once

#include <linux/seccomp.h>

#include <array>
#include <cstdint>
#include <optional>

#include "kernel/abi/answers.h"
#include "kernel/listener/notify.h"

namespace extsys::supervisor {

struct ProbeConfig {
  int probeErrno = 134;   // the answer errno (EEXTSYS_NOOP by default)
  uint64_t pageSize = 4096;
};

struct Counters {
  uint64_t answered = 0;    // got the probe errno
  uint64_t rejected = 0;    // EINVAL / E2BIG / ENOSYS from the checks
  uint64_t faulted = 0;     // EFAULT while writing the image
  uint64_t gone = 0;        // target vanished before the answer
  uint64_t unwritable = 0;  // could not write (EPERM, pid not visible): native answer
  uint64_t allowed = 0;     // restricted calls that passed the check and continued
  uint64_t denied = 0;      // restricted calls answered deny_errno / E2BIG / EFAULT
};

// What to do with a notification, and what to audit about it.
struct Reply {
  enum class Kind : uint8_t { Send, Drop, Continue } kind = Kind::Send;
  int err = 0;                   // errno to answer with (positive)
  const char* decision = "";     // answered, rejected, faulted, gone, allowed, denied...
};

class ProbeHandler {
public:
  ProbeHandler(const kernel::ProbeAnswers& answers, ProbeConfig config);

  // Decides and, where the checks pass, writes the answer image into the
  // target. `listener` is used for NOTIF_ID_VALID right before the write, so
  // a recycled pid never receives our bytes.
  // `d` is the notification's descriptor; the size argument has CHECK_FIELDS.
  Reply handle(const seccomp_notif& n, const kernel::SyscallDesc& d,
               const kernel::NotifyFd& listener, Counters& counters) const;

private:
  kernel::ProbeAnswers answers_;
  ProbeConfig config_;
};

// nr -> descriptor for notifications of the native ABI, resolved once.
class SyscallLookup {
public:
  SyscallLookup();
  const kernel::SyscallDesc* find(uint32_t arch, int nr) const;

private:
  uint32_t arch_;
  struct NrEntry {
    int nr;
    kernel::SyscallId id;
  };
  std::array<NrEntry, kernel::kSyscallCount> nrs_{};
};

}  // namespace extsys::supervisor
