// SPDX-License-Identifier: MIT
// agent/lxc_proxy.h - LXC's seccomp notification proxy protocol
// (lxc.seccomp.notify.proxy = unix:PATH), served by `extsys agent
// --lxc-socket PATH`.
//
// LXC's monitor keeps the container's listener and receives every
// notification itself; it forwards each one over one SOCK_SEQPACKET
// connection per container, as one message:
//   a 32-byte header: u64 reserved (0), s32 monitor pid, s32 init pid,
//     the three u16 sizes of SECCOMP_GET_NOTIF_SIZES (notif, resp, data),
//     2 bytes of padding, u64 cookie length;
//   the seccomp_notif (`notif` bytes), a seccomp_notif_resp template with
//   the id filled in (`resp` bytes), the cookie (lxc.seccomp.notify.cookie,
//   no NUL);
//   SCM_RIGHTS: /proc/PID, /proc/PID/mem and the listener.
// It waits for the reply - header, notif, resp (no cookie) - and sends the
// resp's val, error and flags to the kernel itself. One notification at a
// time per connection.
//
// extsys never RECVs on the listener (the monitor does) and never writes
// through the /proc/PID/mem fd (it writes with FOLL_FORCE, so read-only
// memory would take the bytes instead of the EFAULT a kernel answers): the
// answer goes through the same supervisor code as `extsys run`
// (Supervisor::decide), which re-checks NOTIF_ID_VALID on the listener and
// writes with process_vm_writev.
#pragma once

#include <linux/seccomp.h>
#include <sys/socket.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "kernel/listener/notify.h"
#include "supervisor/reply.h"

namespace extsys::agent::lxc {

struct ProxyHeader {
  uint64_t reserved = 0;
  int32_t monitorPid = 0;
  int32_t initPid = 0;
  uint16_t notifSize = 0;
  uint16_t respSize = 0;
  uint16_t dataSize = 0;
  uint16_t padding = 0;
  uint64_t cookieLen = 0;
};
static_assert(sizeof(ProxyHeader) == 32, "LXC's struct seccomp_notify_proxy_msg is 32 bytes");

// The longest cookie accepted; a longer one drops the connection. LXC puts
// no bound on it; `policy=NAME` needs a few dozen bytes.
inline constexpr size_t kMaxCookie = 4096;
// The file descriptors of every message: /proc/PID, /proc/PID/mem, listener.
inline constexpr size_t kProxyFds = 3;

struct ProxyRequest {
  ProxyHeader header;
  seccomp_notif notif{};  // the first sizeof(seccomp_notif) bytes
  std::string cookie;
};

// The most bytes a message may have with these sizes; a larger one is
// malformed (recvmsg reports MSG_TRUNC with a buffer of this size + 1).
size_t maxMessageSize(const kernel::NotifSizes& sizes);

// Checks one message exactly: the reserved field 0, the three sizes equal
// to this kernel's (LXC asks the same kernel, so anything else is not LXC on
// this host), at least the structs we know, the cookie no longer than
// kMaxCookie, the length exactly header + notif + resp + cookie, the
// template's id the notification's. An error says what is wrong in one line.
[[nodiscard]] Result<ProxyRequest> parseProxyMessage(std::span<const uint8_t> message,
                                                     const kernel::NotifSizes& sizes);

// The reply to `message` (already parsed): the header (cookie length 0, no
// cookie follows), the notification as received, then the resp - id of
// the request, val, error (-errno) and flags (CONTINUE) from `reply`, zero
// padded to the header's resp size. A Drop (the target is gone) is answered
// ENOSYS: the monitor still needs an answer, and its SEND then fails ENOENT.
std::vector<uint8_t> proxyReply(std::span<const uint8_t> message, const ProxyRequest& request,
                                const supervisor::Reply& reply);

// Serves one LXC connection until the monitor closes it; returns the exit
// status of the server process (0: closed by the monitor; 1: dropped for a
// malformed message, or the reply could not be sent). `peer` is the
// connecting process: when its pid is not the header's monitor pid, the
// agent does not share the monitor's pid namespace, and the notification's
// pid means nothing here: probes get the answer of an unwritable target.
int serveLxcConnection(UniqueFd conn, const ucred& peer, const AgentOptions& options);

}  // namespace extsys::agent::lxc
