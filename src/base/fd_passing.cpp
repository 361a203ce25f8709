// SPDX-License-Identifier: MIT
// base/fd_passing.cpp - SCM_RIGHTS.
#include "base/fd_passing.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace extsys {

Status sendWithFd(int sock, std::string_view payload, int fd) {
  iovec iov{const_cast<char*>(payload.data()), payload.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR)
      return Error::fromErrno(errno, "sendmsg");
  }
  return okStatus();
}

Result<Message> recvMessage(int sock, std::span<char> buf, size_t room, int flags,
                            const char* what) {
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFdsPerMessage * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(std::min(room, kMaxFdsPerMessage) * sizeof(int));
  ssize_t n;
  do {
    n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return Error::fromErrno(errno, what);
  Message out;
  out.size = static_cast<size_t>(n);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
      out.foreign = true;
      continue;
    }
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out.fds.emplace_back(fd);
    }
  }
  out.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
  out.fdsCut = (msg.msg_flags & MSG_CTRUNC) != 0;
  return out;
}

Result<Received> recvWithFd(int sock, size_t cap) {
  Received out;
  out.data.assign(cap, '\0');
  // Room for more fds than we accept, so that a peer sending several is
  // seen (and its fds closed) rather than silently truncated.
  constexpr size_t kRoom = 8;
  auto m = recvMessage(sock, out.data, kRoom, 0, "recvmsg");
  if (!m)
    return std::move(m).error();
  if (m->fdsCut)
    return Error(EPROTO, "recvmsg: control data truncated (the peer sent more than " +
                             std::to_string(kRoom) + " fds); closed what arrived");
  if (m->fds.size() > 1)
    return Error(EPROTO, "recvmsg: " + std::to_string(m->fds.size()) +
                             " fds in one message, expected at most one; closed them");
  if (m->foreign)
    return Error(EPROTO, "recvmsg: unexpected control message");
  if (m->truncated)
    return Error(EMSGSIZE, "recvmsg: message longer than " + std::to_string(cap) + " bytes");
  if (m->size == 0 && m->fds.empty())
    return Error(EPIPE, "peer closed the socket");
  out.data.resize(m->size);
  if (!m->fds.empty())
    out.fd = std::move(m->fds.front());
  return out;
}

}  // namespace extsys
