// SPDX-License-Identifier: MIT
// base/fd_passing.h - file descriptors over a unix socket (SCM_RIGHTS): one
// message with at most one fd (the launcher/supervisor handshake,
// discovery's probe child, the benchmark's bare ping-pong), and the one
// recvmsg loop every receiver of fds uses (also the agent's, from container
// runtimes and LXC monitors).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace extsys {

// One message as recvmsg(2) gave it, with every fd that came.
struct Message {
  size_t size = 0;            // bytes written to the buffer; 0 and no fds: EOF
  std::vector<UniqueFd> fds;  // close-on-exec, owned here whatever happens next
  bool truncated = false;     // MSG_TRUNC: longer than the buffer
  bool fdsCut = false;        // MSG_CTRUNC: more fds than `room`
  bool foreign = false;       // a control message other than SCM_RIGHTS
};

// The most fds the kernel passes with one message (SCM_MAX_FD).
inline constexpr size_t kMaxFdsPerMessage = 253;

// One recvmsg(2) into `buf`, with room for `room` fds (at most
// kMaxFdsPerMessage). A caller gives room for more fds than it accepts, so
// that a peer sending a few too many is seen, and its fds closed by the
// caller's checks, rather than cut off unseen. Retries EINTR; any other
// failure (EAGAIN with MSG_DONTWAIT among them) is returned with its errno,
// named `what`. The caller judges every flag.
[[nodiscard]] Result<Message> recvMessage(int sock, std::span<char> buf, size_t room, int flags,
                                          const char* what);

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
