// SPDX-License-Identifier: MIT
// agent/receive.h - reads one container process state and its listener from
// a runtime's connection.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "agent/container_state.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace extsys::agent {

struct ReceivedState {
  ContainerProcessState state;
  UniqueFd listener;  // the fd named "seccompFd"
  std::string raw;    // the JSON as received (for debug logs)
};

struct ReceiveLimits {
  std::chrono::milliseconds timeout{10000};  // for the whole message
  size_t maxBytes = 1 << 20;
  size_t maxFds = 16;  // over the whole connection; SCM_MAX_FD (253) at most
};

// Whether `fd` is a seccomp listener ("anon_inode:seccomp notify" is how
// the kernel names one).
bool isSeccompListener(int fd);

// recvmsg() until the JSON object is complete - never until EOF: runc and
// crun keep the connection open for the life of the runtime process. File
// descriptors may arrive with any of the messages (the spec allows several
// sendmsg calls, fds in the first); all are collected, the one named
// "seccompFd" is kept and checked to be a seccomp listener, the rest closed.
// More than limits.maxFds descriptors (or more than fit the control buffer,
// MSG_CTRUNC) is an error (EMFILE): every one that arrived is closed.
// ENODATA: the peer closed without sending anything (another agent checking
// whether this one is alive does that).
[[nodiscard]] Result<ReceivedState> receiveContainerState(int conn, const ReceiveLimits& limits);

}  // namespace extsys::agent
