// SPDX-License-Identifier: MIT
// base/fd_passing.h - one message with at most one file descriptor over a
// unix socket (SCM_RIGHTS). Used by the launcher/supervisor handshake and by
// discovery's probe child, and the benchmark's bare ping-pong.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace extsys {

// Sends `payload` and, when fd >= 0, the fd. Never raises SIGPIPE.
[[nodiscard]] Status sendWithFd(int sock, std::string_view payload, int fd);

struct Received {
  std::string data;
  UniqueFd fd;  // invalid when none came
};

// Receives one message of at most `cap` bytes; the fd arrives close-on-exec.
// EOF is an error with EPIPE. Retries EINTR. More than one fd, truncated
// control data (MSG_CTRUNC) or a longer message (MSG_TRUNC) are errors
// (EPROTO, EMSGSIZE), and every fd that did arrive is closed.
[[nodiscard]] Result<Received> recvWithFd(int sock, size_t cap);

}  // namespace extsys
