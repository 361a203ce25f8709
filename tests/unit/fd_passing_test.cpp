// SPDX-License-Identifier: MIT
// fd_passing_test - one message, at most one fd: what arrives beyond that is
// refused and closed, never leaked.
#include <gtest/gtest.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "base/fd_passing.h"

namespace extsys {
namespace {

int openFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d))
    n += e->d_name[0] != '.';
  closedir(d);
  return n - 1;  // the directory's own fd
}

// Sends `count` fds (of /dev/null) with one message, by hand.
void sendFds(int sock, int count) {
  std::vector<int> fds;
  for (int i = 0; i < count; ++i)
    fds.push_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
  char byte = 'L';
  iovec iov{&byte, 1};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  ASSERT_EQ(sendmsg(sock, &msg, 0), 1);
  for (int fd : fds)
    close(fd);
}

struct Pair {
  int a, b;
  Pair() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    a = sv[0];
    b = sv[1];
  }
  ~Pair() {
    close(a);
    close(b);
  }
};

TEST(FdPassing, OneFdArrives) {
  Pair p;
  ASSERT_TRUE(sendWithFd(p.a, "L", 0).ok());
  auto got = recvWithFd(p.b, 16);
  ASSERT_TRUE(got.ok()) << got.error().message();
  EXPECT_EQ(got->data, "L");
  EXPECT_TRUE(got->fd.valid());
  EXPECT_EQ(fcntl(got->fd.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST(FdPassing, TwoFdsAreRefusedAndClosed) {
  Pair p;
  const int before = openFds();
  sendFds(p.a, 2);
  auto got = recvWithFd(p.b, 16);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().err(), EPROTO);
  EXPECT_NE(got.error().message().find("2 fds"), std::string::npos) << got.error().message();
  EXPECT_EQ(openFds(), before) << "an fd leaked";
}

TEST(FdPassing, TruncatedControlDataIsRefusedAndNothingLeaks) {
  Pair p;
  const int before = openFds();
  sendFds(p.a, 20);  // more than recvWithFd has room for: MSG_CTRUNC
  auto got = recvWithFd(p.b, 16);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().err(), EPROTO);
  EXPECT_NE(got.error().message().find("truncated"), std::string::npos) << got.error().message();
  EXPECT_EQ(openFds(), before) << "an fd leaked";
}

TEST(FdPassing, LongerMessageIsRefused) {
  Pair p;
  ASSERT_TRUE(sendWithFd(p.a, std::string(64, 'x'), -1).ok());
  auto got = recvWithFd(p.b, 16);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().err(), EMSGSIZE);
}

TEST(FdPassing, EofIsEpipe) {
  Pair p;
  shutdown(p.a, SHUT_WR);
  auto got = recvWithFd(p.b, 16);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().err(), EPIPE);
}

// recvMessage, which every receiver of fds uses (recvWithFd, the agent's
// runtime and LXC connections): every fd that came is owned, within the
// room given; beyond it MSG_CTRUNC is reported and nothing leaks.
// receiveFds: `count` fds sent, received with room for `room`, the message
// handed to `check`; once it is gone, no fd may be left open.
template <class Check>
void receiveFds(int count, size_t room, Check check) {
  Pair p;
  const int before = openFds();
  sendFds(p.a, count);
  {
    char buf[16];
    auto got = recvMessage(p.b, buf, room, 0, "recvmsg(test)");
    ASSERT_TRUE(got.ok()) << got.error().message();
    check(*got);
  }
  EXPECT_EQ(openFds(), before) << "an fd leaked";
}

TEST(FdPassing, RecvMessageReturnsEveryFdWithinItsRoom) {
  receiveFds(3, 16, [](const Message& m) {
    EXPECT_EQ(m.size, 1u);
    EXPECT_EQ(m.fds.size(), 3u);
    EXPECT_FALSE(m.fdsCut);
    EXPECT_FALSE(m.truncated);
    for (const UniqueFd& fd : m.fds)
      EXPECT_EQ(fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  });
}

TEST(FdPassing, RecvMessageBeyondItsRoomReportsTheCutAndLeaksNothing) {
  receiveFds(5, 2, [](const Message& m) {
    EXPECT_TRUE(m.fdsCut);
    EXPECT_LE(m.fds.size(), 2u);
  });
}

TEST(FdPassing, RecvMessageGivesEagainAsItIs) {
  Pair p;
  char buf[16];
  auto got = recvMessage(p.b, buf, 1, MSG_DONTWAIT, "recvmsg(test)");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().err(), EAGAIN);
  EXPECT_NE(got.error().message().find("recvmsg(test)"), std::string::npos)
      << got.error().message();
}

}  // namespace
}  // namespace extsys
