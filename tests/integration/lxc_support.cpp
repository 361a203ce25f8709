// SPDX-License-Identifier: MIT
// integration/lxc_support.cpp - the fake LXC monitor and helpers.
#include "lxc_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "agent/lxc_proxy.h"
#include "filter/seccomp_filter.h"
#include "kernel/discovery/current_features.h"
#include "kernel/listener/notify.h"
#include "lxc_support.h"
#include "oci_support.h"
#include "subprocess.h"

namespace extsys::test {

namespace fs = std::filesystem;
using agent::lxc::ProxyHeader;

std::string makeDir(const char* name) {
  std::string templ = (fs::temp_directory_path() / (std::string(name) + "-XXXXXX")).string();
  EXPECT_NE(mkdtemp(templ.data()), nullptr);
  return templ;
}

RunResult runCmd(std::vector<std::string> argv, int timeoutSec) {
  RunSpec spec;
  spec.argv = std::move(argv);
  spec.timeoutSec = timeoutSec;
  return run(spec);
}

int connectSeqpacket(const std::string& path) {
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    return -1;
  }
  timeval tv{10, 0};  // never hang a test
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

ssize_t sendWithFds(int s, const std::vector<uint8_t>& bytes, const std::vector<int>& fds) {
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)] = {};
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  return sendmsg(s, &msg, MSG_NOSIGNAL);
}

// A message as LXC builds it.
std::vector<uint8_t> lxcMessage(const agent::lxc::ProxyHeader& h, const seccomp_notif& n,
                                const std::string& cookie, size_t notifSize, size_t respSize) {
  std::vector<uint8_t> m(sizeof h + notifSize + respSize, 0);
  std::memcpy(m.data(), &h, sizeof h);
  std::memcpy(m.data() + sizeof h, &n, std::min(sizeof n, notifSize));
  seccomp_notif_resp tmpl{};
  tmpl.id = n.id;
  std::memcpy(m.data() + sizeof h + notifSize, &tmpl, std::min(sizeof tmpl, respSize));
  m.insert(m.end(), cookie.begin(), cookie.end());
  return m;
}

kernel::NotifSizes kernelSizes() {
  auto s = kernel::notifSizes();
  EXPECT_TRUE(s) << s.error().message();
  return s ? *s : kernel::NotifSizes{};
}



// Forks `argv` under extsys's default filter and plays LXC's monitor for it:
// every notification is forwarded to the agent at `socket` with `cookie`.
// `monitorPid` 0: our own pid, as LXC sends it.
MonitorResult fakeMonitor(const std::string& socket, const std::string& cookie,
                          const std::vector<std::string>& argv,
                          const std::vector<std::string>& env, pid_t monitorPid) {
  MonitorResult out;
  auto features = kernel::currentKernelFeatures(kernel::CacheMode::Use, "lxc-test");
  auto eff = policy::makeEffective(policy::defaultPolicy(), features->features);
  auto prog = filter::buildFilter(*eff);
  if (!prog) {
    out.error = prog.error().message();
    return out;
  }
  int pair[2];
  socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    close(pair[0]);
    for (const auto& e : env)
      putenv(const_cast<char*>(e.c_str()));
    sock_fprog fp{static_cast<unsigned short>(prog->insns.size()), prog->insns.data()};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
      _exit(10);
    int l = static_cast<int>(
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fp));
    if (l < 0 || sendWithFds(pair[1], {1}, {l}) != 1)
      _exit(11);
    close(l);
    execv(args[0], args.data());
    _exit(12);
  }
  close(pair[1]);
  char b;
  iovec iov{&b, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  int listener = -1;
  if (recvmsg(pair[0], &msg, MSG_CMSG_CLOEXEC) == 1 && CMSG_FIRSTHDR(&msg) != nullptr)
    std::memcpy(&listener, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof listener);
  close(pair[0]);
  const int conn = connectSeqpacket(socket);
  const kernel::NotifSizes sizes = kernelSizes();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (listener >= 0 && conn >= 0 && out.error.empty()) {
    if (waitpid(child, &out.childStatus, WNOHANG) == child)
      break;
    if (std::chrono::steady_clock::now() > deadline) {
      out.error = "timed out";
      break;
    }
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0 || !(p.revents & POLLIN))
      continue;
    std::vector<uint8_t> req(sizes.notif, 0);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req.data()) != 0)
      continue;
    seccomp_notif n{};
    std::memcpy(&n, req.data(), sizeof n);
    const int procFd = open(("/proc/" + std::to_string(n.pid)).c_str(), O_RDONLY | O_DIRECTORY);
    const int memFd = open(("/proc/" + std::to_string(n.pid) + "/mem").c_str(), O_RDWR);
    ProxyHeader h{};
    h.monitorPid = monitorPid != 0 ? monitorPid : getpid();
    h.initPid = child;
    h.notifSize = sizes.notif;
    h.respSize = sizes.resp;
    h.dataSize = sizes.data;
    h.cookieLen = cookie.size();
    auto m = lxcMessage(h, n, cookie, sizes.notif, sizes.resp);
    std::memcpy(m.data() + sizeof h, req.data(), sizes.notif);  // every byte as received
    const ssize_t sent = sendWithFds(conn, m, {procFd, memFd, listener});
    close(procFd);
    close(memFd);
    if (sent != static_cast<ssize_t>(m.size())) {
      out.error = std::string("send: ") + std::strerror(errno);
      break;
    }
    std::vector<uint8_t> reply(m.size() + 64);
    const ssize_t got = recv(conn, reply.data(), reply.size(), 0);
    if (got != static_cast<ssize_t>(sizeof h + sizes.notif + sizes.resp)) {
      out.error = "reply of " + std::to_string(got) + " bytes";
      break;
    }
    ProxyHeader rh{};
    std::memcpy(&rh, reply.data(), sizeof rh);
    if (rh.reserved != 0 || std::memcmp(reply.data() + sizeof h, req.data(), sizes.notif) != 0) {
      out.error = "reply header or notification changed";
      break;
    }
    seccomp_notif_resp resp{};
    std::memcpy(&resp, reply.data() + sizeof h + sizes.notif, sizeof resp);
    if (resp.id != n.id) {
      out.error = "reply for another id";
      break;
    }
    ++out.forwarded;
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);  // ENOENT if the target is gone
  }
  if (out.childStatus == -1 || !WIFEXITED(out.childStatus)) {
    if (waitpid(child, &out.childStatus, WNOHANG) == 0) {
      kill(child, SIGKILL);
      waitpid(child, &out.childStatus, 0);
    }
  }
  if (listener >= 0)
    close(listener);
  if (conn >= 0)
    close(conn);
  else
    out.error = "cannot connect to " + socket;
  return out;
}

std::string statusText(const MonitorResult& r) {
  return exitText(r.childStatus) + ", " + std::to_string(r.forwarded) + " forwarded" +
         (r.error.empty() ? "" : ", monitor: " + r.error);
}

}  // namespace extsys::test
