// SPDX-License-Identifier: MIT
// supervisor/call_handler.h - real calls of a syscall a cooperative policy
// restricts: read the struct, check it against the allowed bits, then let
// the kernel run the call or answer what an older kernel would.
//
// A struct the supervisor may not read (process_vm_readv: EPERM, as for a
// non-dumpable program or under Yama) is not checked: the call gets EPERM
// (decision "unchecked") and a warning is logged. Memory that is really
// unreadable gets EFAULT, as from the kernel.
//
// NOT a security boundary: another thread can change the struct between
// this check and the kernel's own read (SECCOMP_USER_NOTIF_FLAG_CONTINUE is
// inherently racy). Strict policies never get here: they hide such
// syscalls and check the legacy calls' register flags in BPF instead.
#pragma once

#include <linux/seccomp.h>

#include <vector>

#include "kernel/listener/notify.h"
#include "policy/policy.h"
#include "supervisor/reply.h"

namespace extsys::supervisor {

class CallHandler {
public:
  CallHandler(const policy::EffectivePolicy& p, uint64_t pageSize);
  Reply handle(const seccomp_notif& n, const kernel::SyscallDesc& d,
               const kernel::NotifyFd& listener, Counters& counters);

private:
  // One CallHandler per supervisor thread: buf_ is its scratch space.
  const policy::EffectivePolicy& policy_;
  uint64_t pageSize_;
  std::vector<uint8_t> buf_;  // one page: the largest struct a kernel reads
};

}  // namespace extsys::supervisor
