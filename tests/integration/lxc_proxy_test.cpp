// SPDX-License-Identifier: MIT
// lxc_proxy_test (integration, issue 21) - `extsys agent --lxc-socket`, LXC's
// seccomp notification proxy, without LXC: a fake monitor in this process
// (lxc_support.h) forwards a child's notifications exactly as LXC 5.0 does.
// The probes run by probe_cases must be answered byte-exact; the cookie picks
// the policy; malformed messages (bad header, wrong sizes, missing fds,
// oversized, not a listener) drop only their own connection, with a log
// line, and the agent keeps serving. Also the CLI's usage errors and socket
// activation with both sockets. lxc_execute_test.cpp runs real LXC.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
namespace {

namespace fs = std::filesystem;
using agent::lxc::ProxyHeader;

// ---------------------------------------------------------------------------
// The protocol, with a fake monitor.

class LxcProxy : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(makeDir("extsys-lxc"));
    agent_ = new Agent(Agent::start(*dir_, "agent", {"--lxc-socket", *dir_ + "/lxc.sock"}));
    ASSERT_TRUE(waitFor([] { return agent_->text().find("(LXC)") != std::string::npos; }, 20))
        << agent_->text();
  }
  static void TearDownTestSuite() {
    delete agent_;
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string lxcSocket() { return *dir_ + "/lxc.sock"; }

  static std::string* dir_;
  static Agent* agent_;
};
std::string* LxcProxy::dir_ = nullptr;
Agent* LxcProxy::agent_ = nullptr;

std::vector<std::string> probes(std::vector<std::string> cases) {
  cases.insert(cases.begin(), {binary("PROBE_CASES_STATIC"), "run"});
  return cases;
}

TEST_F(LxcProxy, ProbesForwardedLikeLxcAreAnsweredByteExact) {
  const auto r = fakeMonitor(lxcSocket(), "policy=default",
                             probes({"clone3_cf_v2", "openat2_cf_misalign_3",
                                     "mount_setattr_cf_56"}),
                             {"EXTSYS_EXPECT=emulated"});
  EXPECT_TRUE(r.error.empty()) << statusText(r);
  EXPECT_EQ(r.childStatus, 0) << statusText(r) << agent_->text();
  EXPECT_GE(r.forwarded, 3);
  EXPECT_TRUE(hasLine(agent_->text(), {"LXC container (monitor pid " + std::to_string(getpid()),
                                       "serving with policy default"}))
      << agent_->text();
}

TEST_F(LxcProxy, TheCookieChoosesThePolicy) {
  // kernel-5.10 has no RESOLVE_CACHED: the resolve mask is 0x1f, not 0x3f.
  const auto old = fakeMonitor(lxcSocket(), "policy=kernel-5.10", probes({"openat2_cf_misalign_3"}),
                               {"EXTSYS_EXPECT=emulated", "EXTSYS_EXPECT_RESOLVE=0x1f"});
  EXPECT_EQ(old.childStatus, 0) << statusText(old) << agent_->text();
  const auto wrong = fakeMonitor(lxcSocket(), "", probes({"openat2_cf_misalign_3"}),
                                 {"EXTSYS_EXPECT=emulated", "EXTSYS_EXPECT_RESOLVE=0x1f"});
  EXPECT_NE(wrong.childStatus, 0) << "the default policy advertises RESOLVE_CACHED";
  // A cookie naming no policy: logged; its calls get ENOSYS, no answer.
  const auto unknown = fakeMonitor(lxcSocket(), "policy=no-such-policy",
                                   probes({"clone3_cf_v2"}), {"EXTSYS_EXPECT=native"});
  EXPECT_TRUE(unknown.error.empty()) << statusText(unknown);
  EXPECT_TRUE(hasLine(agent_->text(), {"cookie 'policy=no-such-policy'", "ENOSYS"}))
      << agent_->text();
}

// A header whose monitor pid is not the connecting process: the agent is
// not in the monitor's pid namespace, so the notification's pid is not one
// of its own and must not be written to - probes get the kernel's answer
// without CHECK_FIELDS (E2BIG), which probe_cases checks as "native".
TEST_F(LxcProxy, AMonitorInAnotherPidNamespaceGetsNoWrites) {
  const auto r = fakeMonitor(lxcSocket(), "", probes({"clone3_cf_v2"}), {"EXTSYS_EXPECT=native"},
                             getpid() + 100000);
  EXPECT_TRUE(r.error.empty()) << statusText(r);
  EXPECT_EQ(r.childStatus, 0) << statusText(r) << agent_->text();
  EXPECT_TRUE(hasLine(agent_->text(), {"is not the connecting pid", "E2BIG"})) << agent_->text();
}

// LXC's peer names the process the agent writes to, so only root (or the
// agent's user) may be one: a peer of another uid is refused before its
// message is read, even where the socket's mode let it connect.
TEST_F(LxcProxy, APeerOfAnotherUidIsRefused) {
  const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(null, 0);
  const kernel::NotifSizes sizes = kernelSizes();
  seccomp_notif n{};
  n.id = 7;
  n.pid = 1;  // what an attacker would aim at
  ProxyHeader h{};
  h.monitorPid = getpid();
  h.initPid = 1;
  h.notifSize = sizes.notif;
  h.respSize = sizes.resp;
  h.dataSize = sizes.data;
  const auto bytes = lxcMessage(h, n, "", sizes.notif, sizes.resp);
  ASSERT_EQ(chmod(dir_->c_str(), 0711), 0);  // mkdtemp's 0700 would stop nobody first
  ASSERT_EQ(chmod(lxcSocket().c_str(), 0666), 0);
  const size_t before = agent_->text().size();
  const pid_t child = fork();
  if (child == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)
      _exit(2);
    const int s = connectSeqpacket(lxcSocket());
    if (s < 0)
      _exit(3);
    sendWithFds(s, bytes, {null, null, null});
    char buf[512];
    // Closed, nothing answered (ECONNRESET: closed with our message unread).
    const ssize_t got = recv(s, buf, sizeof buf, 0);
    _exit(got == 0 || (got < 0 && errno == ECONNRESET) ? 0 : 4);
  }
  int status = 0;
  waitpid(child, &status, 0);
  chmod(lxcSocket().c_str(), 0600);
  chmod(dir_->c_str(), 0700);
  close(null);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_TRUE(waitFor([&] { return agent_->text().size() > before; }, 10));
  EXPECT_TRUE(hasLine(agent_->text().substr(before), {"refused: its uid 65534"}))
      << agent_->text().substr(before);
}

// Each bad message on a connection of its own: the agent drops that
// connection (the peer sees EOF), logs one line, and serves the next.
TEST_F(LxcProxy, MalformedMessagesDropOnlyTheirConnection) {
  const kernel::NotifSizes sizes = kernelSizes();
  const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(null, 0);
  seccomp_notif n{};
  n.id = 42;
  n.pid = static_cast<uint32_t>(getpid());
  ProxyHeader good{};
  good.monitorPid = getpid();
  good.initPid = getpid();
  good.notifSize = sizes.notif;
  good.respSize = sizes.resp;
  good.dataSize = sizes.data;
  good.cookieLen = 14;
  struct Bad {
    const char* what;
    std::vector<uint8_t> bytes;
    std::vector<int> fds;
    const char* logged;
  };
  std::vector<Bad> cases;
  auto msg = [&](ProxyHeader h, std::string cookie = "policy=default") {
    return lxcMessage(h, n, cookie, h.notifSize, h.respSize);
  };
  {
    ProxyHeader h = good;
    h.reserved = 1;
    cases.push_back({"reserved not 0", msg(h), {null, null, null}, "reserved header field"});
  }
  {
    ProxyHeader h = good;
    h.notifSize = static_cast<uint16_t>(sizes.notif + 8);
    cases.push_back({"wrong notif size", msg(h), {null, null, null}, "are not this kernel's"});
  }
  {
    ProxyHeader h = good;
    h.respSize = 16;
    cases.push_back({"short resp size", msg(h), {null, null, null}, "are not this kernel's"});
  }
  cases.push_back({"two fds", msg(good), {null, null}, "file descriptors, not 3"});
  cases.push_back({"no fds", msg(good), {}, "file descriptors, not 3"});
  cases.push_back({"four fds", msg(good), {null, null, null, null}, "file descriptors, not 3"});
  {
    ProxyHeader h = good;
    h.cookieLen = 20000;
    cases.push_back({"oversized", msg(h, std::string(20000, 'x')), {null, null, null},
                     "message longer than"});
  }
  {
    ProxyHeader h = good;
    h.cookieLen = agent::lxc::kMaxCookie + 1;  // fits the buffer: the header is checked
    cases.push_back({"cookie too long", msg(h, std::string(h.cookieLen, 'x')),
                     {null, null, null}, "more than 4096"});
  }
  {
    auto m = msg(good);
    m.pop_back();  // one byte short of what the header says
    cases.push_back({"length mismatch", m, {null, null, null}, "the header says"});
  }
  cases.push_back({"shorter than a header", std::vector<uint8_t>(10, 0), {null, null, null},
                   "shorter than the 32-byte header"});
  {
    auto m = msg(good);
    seccomp_notif_resp other{};
    other.id = 43;
    std::memcpy(m.data() + sizeof good + sizes.notif, &other, sizeof other);
    cases.push_back({"template id", m, {null, null, null}, "template's id"});
  }
  cases.push_back({"not a listener", msg(good), {null, null, null}, "not a seccomp listener"});

  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const size_t before = agent_->text().size();
    const int s = connectSeqpacket(lxcSocket());
    ASSERT_GE(s, 0);
    sendWithFds(s, c.bytes, c.fds);
    char buf[512];
    const ssize_t got = recv(s, buf, sizeof buf, 0);
    EXPECT_EQ(got, 0) << "the agent answers nothing and closes";
    close(s);
    ASSERT_TRUE(waitFor([&] { return agent_->text().size() > before; }, 10));
    const std::string added = agent_->text().substr(before);
    EXPECT_TRUE(hasLine(added, {c.logged, "connection dropped"})) << added;
  }
  close(null);
  // And the agent still serves.
  const auto r = fakeMonitor(lxcSocket(), "", probes({"clone3_cf_v2"}), {"EXTSYS_EXPECT=emulated"});
  EXPECT_EQ(r.childStatus, 0) << statusText(r) << agent_->text();
  EXPECT_EQ(kill(agent_->proc.pid, 0), 0) << "the agent is alive";
}

TEST_F(LxcProxy, ParsesAndAnswersInProcess) {
  const kernel::NotifSizes sizes = kernelSizes();
  seccomp_notif n{};
  n.id = 0x1234567890ULL;
  n.pid = 77;
  n.data.nr = 435;
  ProxyHeader h{};
  h.monitorPid = 1;
  h.initPid = 2;
  h.notifSize = sizes.notif;
  h.respSize = sizes.resp;
  h.dataSize = sizes.data;
  h.cookieLen = 18;
  const auto m = lxcMessage(h, n, "policy=kernel-5.10", sizes.notif, sizes.resp);
  auto req = agent::lxc::parseProxyMessage(m, sizes);
  ASSERT_TRUE(req) << req.error().message();
  EXPECT_EQ(req->cookie, "policy=kernel-5.10");
  EXPECT_EQ(req->notif.id, n.id);
  EXPECT_EQ(req->notif.pid, 77u);
  auto check = [&](supervisor::Reply r, int64_t val, int32_t error, uint32_t flags) {
    const auto out = agent::lxc::proxyReply(m, *req, r);
    ASSERT_EQ(out.size(), sizeof h + sizes.notif + sizes.resp);
    ProxyHeader rh{};
    std::memcpy(&rh, out.data(), sizeof rh);
    EXPECT_EQ(rh.reserved, 0u);
    EXPECT_EQ(rh.cookieLen, 0u);
    EXPECT_EQ(std::memcmp(out.data() + sizeof h, m.data() + sizeof h, sizes.notif), 0);
    seccomp_notif_resp resp{};
    std::memcpy(&resp, out.data() + sizeof h + sizes.notif, sizeof resp);
    EXPECT_EQ(resp.id, n.id);
    EXPECT_EQ(resp.val, val);
    EXPECT_EQ(resp.error, error);
    EXPECT_EQ(resp.flags, flags);
  };
  check({supervisor::Reply::Kind::Send, 134, "answered"}, 0, -134, 0);
  check({supervisor::Reply::Kind::Send, 0, "allowed", 5}, 5, 0, 0);
  check({supervisor::Reply::Kind::Continue, 0, "allowed"}, 0, 0,
        SECCOMP_USER_NOTIF_FLAG_CONTINUE);
  check({supervisor::Reply::Kind::Drop, 0, "gone"}, 0, -ENOSYS, 0);
}

TEST(LxcCli, UsageErrorsAndTheProfileText) {
  RunResult r = runCmd({binary("EXTSYS"), "oci-profile", "--format", "lxc", "--check", "/dev/null"});
  EXPECT_EQ(r.exitCode(), 2) << r.describe() << r.err;
  EXPECT_NE(r.err.find("--format lxc takes no"), std::string::npos) << r.err;
  r = runCmd({binary("EXTSYS"), "oci-profile", "--format", "yaml"});
  EXPECT_EQ(r.exitCode(), 2) << r.describe();
  r = runCmd({binary("EXTSYS"), "agent", "--socket", "/tmp/x.sock", "--lxc-socket", "/tmp/x.sock"});
  EXPECT_EQ(r.exitCode(), 2) << r.describe();
  EXPECT_NE(r.err.find("must differ"), std::string::npos) << r.err;
  r = runCmd({binary("EXTSYS"), "agent", "--lxc-socket", "/tmp/" + std::string(120, 'l')});
  EXPECT_EQ(r.exitCode(), 2) << r.describe();
  EXPECT_NE(r.err.find("--lxc-socket"), std::string::npos) << r.err;
  // The policy text itself: LXC's header, then the probe rules.
  r = runCmd({binary("EXTSYS"), "oci-profile", "--format", "lxc", "--policy", "kernel-5.10"});
  ASSERT_EQ(r.exitCode(), 0) << r.describe() << r.err;
  EXPECT_EQ(r.out.rfind("2\ndenylist\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nclone3 notify [1,0x8000000000000000,SCMP_CMP_MASKED_EQ,"
                       "0x8000000000000000]\n"),
            std::string::npos)
      << r.out;
}

// The socket unit of tools/systemd passes both sockets (ListenStream= and
// ListenSequentialPacket=): the agent tells them apart by type, in either
// order, and serves LXC on the seqpacket one.
TEST(LxcSocket, SocketActivationWithBothSockets) {
  const std::string dir = makeDir("extsys-lxc-sd");
  const int lxc = listeningUnixSocket(SOCK_SEQPACKET, dir + "/lxc.sock");
  const int oci = listeningUnixSocket(SOCK_STREAM, dir + "/oci.sock");
  ASSERT_GE(lxc, 0);
  ASSERT_GE(oci, 0);
  Background agentProc =
      Background::spawn({binary("EXTSYS"), "agent"}, dir + "/agent.log", [lxc, oci] {
        const int a = dup(lxc), b = dup(oci);  // LXC's first: the order is not the meaning
        dup2(a, 3);
        dup2(b, 4);
        setenv("LISTEN_FDS", "2", 1);
        setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
      });
  close(lxc);
  close(oci);
  ASSERT_TRUE(waitFor(
      [&] {
        return readFile(dir + "/agent.log").find("systemd passed (LXC)") != std::string::npos;
      },
      20))
      << readFile(dir + "/agent.log");
  EXPECT_NE(readFile(dir + "/agent.log").find("systemd passed (OCI runtimes)"), std::string::npos);
  const auto r = fakeMonitor(dir + "/lxc.sock", "", probes({"clone3_cf_v2"}),
                             {"EXTSYS_EXPECT=emulated"});
  EXPECT_EQ(r.childStatus, 0) << statusText(r) << readFile(dir + "/agent.log");
  EXPECT_EQ(exitText(agentProc.stop()), "exit 0");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace extsys::test
