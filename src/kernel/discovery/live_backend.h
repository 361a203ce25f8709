// SPDX-License-Identifier: MIT
// kernel/discovery/live_backend.h - ProbeBackend on the running kernel: the
// raw probe syscalls, made with arguments the kernel rejects before it acts
// (NULL paths, fd -1), and the one throw-away probe child that tests the
// seccomp listener, the clone3 flags under RLIMIT_NPROC = 0 and, without
// CAP_SYS_ADMIN, mount_setattr in a new user and mount namespace.
#pragma once

#include "kernel/discovery/probe_backend.h"

namespace extsys::kernel {

class LiveBackend final : public ProbeBackend {
public:
  int call(SyscallId id, ProbeCall& c) override;
  // Forks the one throw-away probe child, waits for it, and tests the
  // listener it hands back.
  ChildResult runChild(const ChildRequest& r) override;
};

// Whether this process may mount in its mount namespace (CAP_SYS_ADMIN in
// the owning user namespace): effective capability bit, checked cheaply.
bool mayMount();

}  // namespace extsys::kernel
