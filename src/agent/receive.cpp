// SPDX-License-Identifier: MIT
// agent/receive.cpp - a container process state and its fds, off a
// runtime's connection.
#include "agent/receive.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "base/fd_passing.h"

namespace extsys::agent {

bool isSeccompListener(int fd) {
  char link[64];
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(path.c_str(), link, sizeof link - 1);
  if (n < 0)
    return false;
  link[n] = '\0';
  return std::strcmp(link, "anon_inode:seccomp notify") == 0;
}

Result<ReceivedState> receiveContainerState(int conn, const ReceiveLimits& limits) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + limits.timeout;
  std::vector<UniqueFd> fds;
  std::string raw;
  JsonObjectScanner scanner;
  char buf[16384];

  while (scanner.state() == JsonObjectScanner::State::NeedMore) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0)
      return Error(ETIMEDOUT, "no complete container process state after " +
                                  std::to_string(limits.timeout.count()) + " ms (" +
                                  std::to_string(raw.size()) + " bytes received)");
    pollfd p{conn, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc < 0)
      return Error::fromErrno(errno, "poll(connection)");
    if (rc == 0)
      continue;

    // Room for every fd the kernel passes at once: more than the limit is
    // counted (and closed) rather than cut off unseen.
    auto m = recvMessage(conn, buf, kMaxFdsPerMessage, MSG_DONTWAIT, "recvmsg(connection)");
    if (!m && m.error().err() == EAGAIN)
      continue;
    if (!m)
      return std::move(m).error();
    for (UniqueFd& fd : m->fds)
      fds.push_back(std::move(fd));
    const size_t n = m->size;
    if (m->fdsCut || fds.size() > limits.maxFds)
      return Error(EMFILE, "the runtime passed " + std::to_string(fds.size()) +
                               (m->fdsCut ? " or more" : "") +
                               " file descriptors, more than the " +
                               std::to_string(limits.maxFds) +
                               " allowed (--max-fds); all closed, connection dropped");
    if (n == 0 && raw.empty() && fds.empty())
      return Error(ENODATA, "the connection closed without data");  // e.g. a liveness check
    if (n == 0)
      return Error(ECONNRESET, "the runtime closed the connection after " +
                                   std::to_string(raw.size()) +
                                   " bytes, before the container process state was complete");
    raw.append(buf, n);
    if (raw.size() > limits.maxBytes)
      return Error(EMSGSIZE, "container process state larger than " +
                                 std::to_string(limits.maxBytes) + " bytes");
    if (scanner.feed(std::string_view(buf, n)) == JsonObjectScanner::State::Malformed)
      return Error(EINVAL, "the runtime sent something that is not a JSON object");
  }

  raw.resize(scanner.end());  // a runtime sends one document; ignore anything after it
  auto state = parseContainerProcessState(raw);
  if (!state)
    return std::move(state).error();
  const size_t index = seccompFdIndex(*state);
  if (index >= fds.size())
    return Error(EINVAL, "\"fds\" names " + std::to_string(state->fds.size()) +
                             " descriptor(s) but " + std::to_string(fds.size()) + " arrived");
  if (!isSeccompListener(fds[index].get()))
    return Error(EINVAL, "the descriptor named \"seccompFd\" is not a seccomp listener");
  ReceivedState out{std::move(*state), std::move(fds[index]), std::move(raw)};
  return out;  // the other descriptors close here
}

}  // namespace extsys::agent
