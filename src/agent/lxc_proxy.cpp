// SPDX-License-Identifier: MIT
// agent/lxc_proxy.cpp - LXC proxy messages: checked, decided, answered.
#include "agent/lxc_proxy.h"

#include <poll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "agent/container_state.h"
#include "agent/receive.h"
#include "base/errno_name.h"
#include "base/fd_passing.h"
#include "base/log.h"
#include "supervisor/supervisor.h"

namespace extsys::agent::lxc {
namespace {

spdlog::logger& logger() {
  return log::app();
}

// Room for more descriptors than a message may carry, so that extra ones
// are received (and closed) rather than cut off unseen.
constexpr size_t kMaxFdsReceived = 16;

std::string sizesText(uint16_t notif, uint16_t resp, uint16_t data) {
  return "{" + std::to_string(notif) + ", " + std::to_string(resp) + ", " + std::to_string(data) +
         "}";
}

}  // namespace

size_t maxMessageSize(const kernel::NotifSizes& sizes) {
  return sizeof(ProxyHeader) + sizes.notif + sizes.resp + kMaxCookie;
}

Result<ProxyRequest> parseProxyMessage(std::span<const uint8_t> m,
                                       const kernel::NotifSizes& sizes) {
  ProxyRequest r;
  if (m.size() < sizeof r.header)
    return Error(EBADMSG, "message of " + std::to_string(m.size()) +
                              " bytes, shorter than the 32-byte header");
  std::memcpy(&r.header, m.data(), sizeof r.header);
  const ProxyHeader& h = r.header;
  if (h.reserved != 0)
    return Error(EBADMSG, "reserved header field is not 0");
  if (h.notifSize != sizes.notif || h.respSize != sizes.resp || h.dataSize != sizes.data)
    return Error(EBADMSG, "struct sizes " + sizesText(h.notifSize, h.respSize, h.dataSize) +
                              " are not this kernel's " +
                              sizesText(sizes.notif, sizes.resp, sizes.data));
  if (h.notifSize < sizeof(seccomp_notif) || h.respSize < sizeof(seccomp_notif_resp) ||
      h.dataSize < sizeof(seccomp_data))
    return Error(EBADMSG, "struct sizes " + sizesText(h.notifSize, h.respSize, h.dataSize) +
                              " smaller than the structs extsys knows");
  if (h.cookieLen > kMaxCookie)
    return Error(EMSGSIZE, "cookie of " + std::to_string(h.cookieLen) + " bytes, more than " +
                               std::to_string(kMaxCookie));
  const size_t expected = sizeof h + h.notifSize + h.respSize + h.cookieLen;
  if (m.size() != expected)
    return Error(EBADMSG, "message of " + std::to_string(m.size()) + " bytes, the header says " +
                              std::to_string(expected));
  std::memcpy(&r.notif, m.data() + sizeof h, sizeof r.notif);
  uint64_t templateId = 0;
  std::memcpy(&templateId, m.data() + sizeof h + h.notifSize, sizeof templateId);
  if (templateId != r.notif.id)
    return Error(EBADMSG, "the response template's id is not the notification's");
  r.cookie.assign(reinterpret_cast<const char*>(m.data() + sizeof h + h.notifSize + h.respSize),
                  h.cookieLen);
  return r;
}

std::vector<uint8_t> proxyReply(std::span<const uint8_t> message, const ProxyRequest& request,
                                const supervisor::Reply& reply) {
  const ProxyHeader& h = request.header;
  std::vector<uint8_t> out(sizeof h + h.notifSize + h.respSize, 0);
  ProxyHeader header = h;
  header.reserved = 0;
  header.cookieLen = 0;
  std::memcpy(out.data(), &header, sizeof header);
  std::memcpy(out.data() + sizeof h, message.data() + sizeof h, h.notifSize);
  seccomp_notif_resp resp{};
  resp.id = request.notif.id;
  switch (reply.kind) {
    case supervisor::Reply::Kind::Continue:
      resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      break;
    case supervisor::Reply::Kind::Drop:
      resp.error = -ENOSYS;
      break;
    case supervisor::Reply::Kind::Send:
      if (reply.err != 0)
        resp.error = -reply.err;
      else
        resp.val = reply.val;
      break;
  }
  std::memcpy(out.data() + sizeof h + h.notifSize, &resp, sizeof resp);
  return out;
}

int serveLxcConnection(UniqueFd conn, const ucred& peer, const AgentOptions& o) {
  const std::string who = "LXC container (monitor pid " + std::to_string(peer.pid) + ")";
  prctl(PR_SET_NAME, ("extsys:lxc:" + std::to_string(peer.pid)).substr(0, 15).c_str(), 0, 0, 0);
  // LXC's protocol has the peer say which process a notification came from
  // (the pid in the forwarded seccomp_notif): the agent cannot check it
  // against the kernel, since the monitor has already received it. So the
  // peer must be one that may write any process's memory anyway: root, or
  // the agent's own user. An unprivileged LXC monitor is refused, whatever
  // the socket's mode says.
  if (peer.uid != 0 && peer.uid != geteuid()) {
    logger().error(
        "{}: refused: its uid {} is neither root nor the agent's; the LXC proxy protocol lets "
        "the peer name the process the agent writes to",
        who, peer.uid);
    return 1;
  }
  auto sizes = kernel::notifSizes();
  if (!sizes) {
    logger().error("{}: {}", who, sizes.error().message());
    return 1;
  }
  auto drop = [&](const std::string& why) {
    logger().error("{}: {}; connection dropped (LXC answers ENOSYS and reconnects)", who, why);
    return 1;
  };

  std::unique_ptr<supervisor::Supervisor> sup;
  std::optional<std::string> servedCookie;  // the cookie `sup` was made for
  std::string policyError;                  // why that cookie has no supervisor
  bool warnedPidNamespace = false;
  // One byte more than a message may have, so that a longer one shows as
  // MSG_TRUNC.
  std::vector<uint8_t> buf(maxMessageSize(*sizes) + 1);
  for (uint64_t messages = 0;; ++messages) {
    // Blocks until a message or the end of the connection. A container may
    // go for days without a probe: no timeout.
    auto got = recvMessage(conn.get(), {reinterpret_cast<char*>(buf.data()), buf.size()},
                           kMaxFdsReceived, 0, "recvmsg(LXC connection)");
    if (!got)
      return drop(got.error().message());
    const std::span<const uint8_t> bytes(buf.data(), got->size);
    if (bytes.empty() && got->fds.empty()) {
      const auto c = sup ? sup->counters() : supervisor::Counters{};
      logger().info(
          "{}: the monitor closed the connection after {} notification(s); probes answered "
          "{}, rejected {}, faulted {}, gone {}, unwritable {}; calls allowed {}, denied {}",
          who, messages, c.answered, c.rejected, c.faulted, c.gone, c.unwritable, c.allowed,
          c.denied);
      return 0;
    }
    // Every descriptor closes at the end of this iteration, whatever happens.
    if (got->truncated)
      return drop("message longer than " + std::to_string(maxMessageSize(*sizes)) + " bytes");
    if (got->fdsCut || got->fds.size() != kProxyFds)
      return drop("message with " + std::to_string(got->fds.size()) +
                  (got->fdsCut ? " or more" : "") + " file descriptors, not 3");
    auto req = parseProxyMessage(bytes, *sizes);
    if (!req)
      return drop(req.error().message());
    if (!isSeccompListener(got->fds[2].get()))
      return drop("the third file descriptor is not a seccomp listener");
    if (req->header.monitorPid != peer.pid && !warnedPidNamespace) {
      warnedPidNamespace = true;
      logger().warn(
          "{}: the header's monitor pid {} is not the connecting pid: the agent is not in the "
          "monitor's pid namespace, so it cannot write probe answers (they get E2BIG)",
          who, req->header.monitorPid);
    }

    if (!servedCookie || *servedCookie != req->cookie) {
      servedCookie = req->cookie;
      sup.reset();
      policyError.clear();
      auto md = parseAgentMetadata(req->cookie);
      auto effective = md ? o.resolvePolicy(md->policy)
                          : Result<policy::EffectivePolicy>(md.error());
      if (effective) {
        const std::string name = effective->name;
        auto made = supervisor::Supervisor::create(std::move(*effective), o.supervisor);
        if (made) {
          sup = std::move(*made);
          logger().info("{}: serving with policy {} (init pid {}, cookie '{}')", who, name,
                        req->header.initPid, req->cookie);
        } else {
          policyError = made.error().message();
        }
      } else {
        policyError = effective.error().message();
      }
      if (!sup)
        logger().error("{}: cookie '{}': {}; its notified calls are answered ENOSYS", who,
                       req->cookie, policyError);
    }

    supervisor::Reply reply{supervisor::Reply::Kind::Send, ENOSYS, "rejected"};
    if (sup) {
      seccomp_notif n = req->notif;
      if (req->header.monitorPid != peer.pid)
        n.pid = 0;  // not a pid of our namespace
      auto listener = kernel::NotifyFd::create(std::move(got->fds[2]));
      if (!listener)
        return drop(listener.error().message());
      reply = sup->decide(n, *listener);
    }
    const auto replyBytes = proxyReply(bytes, *req, reply);
    ssize_t sent;
    do
      sent = send(conn.get(), replyBytes.data(), replyBytes.size(), MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent != static_cast<ssize_t>(replyBytes.size()))
      return drop("sending the reply: " +
                  (sent < 0 ? errnoDescribe(errno) : std::string("short write")));
  }
}

}  // namespace extsys::agent::lxc
