// SPDX-License-Identifier: MIT
// oci_limits_test - the agent's limits: connections served at once
// (--max-connections) and file descriptors a connection may pass
// (--max-fds). Beyond either the connection is closed (its container's
// notified calls get ENOSYS), its fds too, and one log line says why.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>

#include "oci_support.h"

namespace extsys::test {
namespace {

namespace fs = std::filesystem;

// What the fake runtime's raw probe exits with (oci_support.h).
constexpr int kEnosys = 20 + ENOSYS;
constexpr int kAnswered = (20 + 134) & 0xff;

struct Dir {
  std::string path = fs::temp_directory_path() / ("extsys-oci-limits-" + std::to_string(getpid()));
  Dir() { fs::create_directories(path); }
  ~Dir() { fs::remove_all(path); }
};

TEST(AgentLimits, TooManyFdsDropTheConnectionAndCloseThemAll) {
  Dir dir;
  Agent agent = Agent::start(dir.path, "fds", {"--max-fds", "1", "--log-level", "debug"});
  ASSERT_TRUE(agent.ready()) << agent.text();
  const size_t before = fdCount(agent.proc.pid);
  FakeSend two{payload("fake-twofds", "", false, true), {}, true, {}};
  EXPECT_EQ(fakeRuntime(agent.socket, two), kEnosys) << agent.text();
  EXPECT_TRUE(waitFor(
      [&] {
        return agent.text().find("passed 2 file descriptors, more than the 1 allowed (--max-fds); "
                                 "all closed, connection dropped") != std::string::npos;
      },
      5))
      << agent.text();
  EXPECT_TRUE(waitFor([&] { return childrenOf(agent.proc.pid).empty(); }, 10));
  EXPECT_EQ(fdCount(agent.proc.pid), before);
  // One fd is within the limit: served.
  FakeSend one{payload("fake-onefd", "", false), {}, false, {}};
  EXPECT_EQ(fakeRuntime(agent.socket, one), kAnswered) << agent.text();
}

TEST(AgentLimits, ConnectionsBeyondTheMostAreClosedWithALogLine) {
  Dir dir;
  Agent agent = Agent::start(dir.path, "conns", {"--max-connections", "1"});
  ASSERT_TRUE(agent.ready()) << agent.text();
  // A connection that sends nothing yet keeps its server waiting.
  int idle = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, agent.socket.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(connect(idle, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_TRUE(waitFor([&] { return childrenOf(agent.proc.pid).size() == 1; }, 10));
  FakeSend s{payload("fake-over", "", false), {}, false, {}};
  // Closed unread: the runtime's send fails (13: sendmsg, 141: SIGPIPE) if
  // the close came first, else its container's probes get ENOSYS.
  const int refused = fakeRuntime(agent.socket, s);
  EXPECT_TRUE(refused == kEnosys || refused == 13 || refused == 128 + SIGPIPE)
      << refused << "\n" << agent.text();
  EXPECT_TRUE(waitFor(
      [&] {
        return agent.text().find("refused: 1 connections are being served, the most allowed "
                                 "(--max-connections)") != std::string::npos;
      },
      5))
      << agent.text();
  // Once that server is gone, the next container is served again.
  close(idle);
  ASSERT_TRUE(waitFor([&] { return childrenOf(agent.proc.pid).empty(); }, 10));
  EXPECT_EQ(fakeRuntime(agent.socket, s), kAnswered) << agent.text();
}

}  // namespace
}  // namespace extsys::test
