// SPDX-License-Identifier: MIT
// supervisor/probe_handler.h - answers one CHECK_FIELDS notification exactly
// as the RFC v3 kernel code would: checks in the kernel's order, then the
// prebuilt image written with copy_struct_to_user semantics.
#pragma once

#include <linux/seccomp.h>

#include <cstdint>

#include "kernel/abi/answers.h"
#include "kernel/listener/notify.h"
#include "supervisor/reply.h"

namespace extsys::supervisor {

struct ProbeConfig {
  int probeErrno = 134;   // the answer errno (EEXTSYS_NOOP by default)
  uint64_t pageSize = 4096;
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

}  // namespace extsys::supervisor
