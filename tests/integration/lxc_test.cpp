// SPDX-License-Identifier: MIT
// lxc_test (integration) - `extsys agent --lxc-socket`, LXC's seccomp
// notification proxy (issue 21).
//
// LxcProxy: a fake LXC monitor in this process - it installs extsys's
// filter in a child, receives the notifications on the listener itself and
// forwards each one exactly as LXC 5.0's seccomp_notify_handler does (header,
// notif, resp template, cookie; /proc/PID, /proc/PID/mem and the listener by
// SCM_RIGHTS), then sends the agent's answer to the kernel. The probes run
// by probe_cases must be answered byte-exact. Malformed messages (bad
// header, wrong sizes, missing fds, oversized, not a listener) drop only
// their own connection, with a log line; the agent keeps serving.
//
// LxcExecute: the real thing with Debian's lxc (lxc-execute, a busybox-static
// rootfs holding the static probe program, no network); skipped with the
// reason when lxc-execute is missing or cannot start a container here.
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
#include "oci_support.h"
#include "subprocess.h"

namespace extsys::test {
namespace {

namespace fs = std::filesystem;
using agent::lxc::ProxyHeader;

std::string makeDir(const char* name) {
  std::string templ = (fs::temp_directory_path() / (std::string(name) + "-XXXXXX")).string();
  EXPECT_NE(mkdtemp(templ.data()), nullptr);
  return templ;
}

RunResult runCmd(std::vector<std::string> argv, int timeoutSec = 60) {
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
std::vector<uint8_t> lxcMessage(const ProxyHeader& h, const seccomp_notif& n,
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

struct MonitorResult {
  int childStatus = -1;
  int forwarded = 0;
  std::string error;  // the fake monitor's own failure
};

// Forks `argv` under extsys's default filter and plays LXC's monitor for it:
// every notification is forwarded to the agent at `socket` with `cookie`.
// `monitorPid` 0: our own pid, as LXC sends it.
MonitorResult fakeMonitor(const std::string& socket, const std::string& cookie,
                          const std::vector<std::string>& argv,
                          const std::vector<std::string>& env = {}, pid_t monitorPid = 0) {
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
  auto listening = [&](int type, const std::string& path) {
    int l = socket(AF_UNIX, type, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(l, 16), 0);
    return l;
  };
  const int lxc = listening(SOCK_SEQPACKET, dir + "/lxc.sock");
  const int oci = listening(SOCK_STREAM, dir + "/oci.sock");
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

// ---------------------------------------------------------------------------
// Real LXC: lxc-execute.

struct LxcWorld {
  std::string dir, rootfs, skip;
  std::unique_ptr<Agent> agent;
  int seq = 0;
};

std::string lxcExecute() {
  return which("lxc-execute");
}

// A container config: the rootfs, no network, the policy text `profile`
// (a file), the agent at `proxy` ("" = no proxy and no seccomp policy),
// `cookie`, and `env` for the program.
std::string writeConfig(const LxcWorld& w, const std::string& name, const std::string& profile,
                        const std::string& proxy, const std::string& cookie,
                        const std::vector<std::string>& env = {}) {
  const std::string path = w.dir + "/" + name + ".conf";
  std::ofstream f(path);
  f << "lxc.uts.name = " << name << "\n"
    << "lxc.rootfs.path = dir:" << w.rootfs << "\n"
    << "lxc.net.0.type = empty\n"
    << "lxc.mount.auto = proc:mixed sys:ro\n";
  if (!proxy.empty()) {
    f << "lxc.seccomp.profile = " << profile << "\n"
      << "lxc.seccomp.notify.proxy = unix:" << proxy << "\n";
    if (!cookie.empty())
      f << "lxc.seccomp.notify.cookie = " << cookie << "\n";
  }
  for (const auto& e : env)
    f << "lxc.environment = " << e << "\n";
  return path;
}

std::vector<std::string> executeArgv(const LxcWorld& w, const std::string& name,
                                     const std::string& config, std::vector<std::string> cmd) {
  std::vector<std::string> argv{lxcExecute(), "-n", name, "-f", config, "-P", w.dir,
                                "-o", w.dir + "/" + name + ".lxc.log", "--"};
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  return argv;
}

LxcWorld& lxcWorld() {
  static LxcWorld* world = [] {
    auto* w = new LxcWorld;
    if (geteuid() != 0) {
      w->skip = "lxc-execute needs root";
      return w;
    }
    if (lxcExecute().empty()) {
      w->skip = "lxc is not installed (no lxc-execute in PATH; tools/extsys-dev installs it)";
      return w;
    }
    if (RunResult b = runCmd({"/bin/busybox", "--help"}); !b.exited()) {
      w->skip = "no /bin/busybox (busybox-static) for the rootfs";
      return w;
    }
    w->dir = makeDir("extsys-lxc-exec");
    w->rootfs = w->dir + "/rootfs";
    for (const char* d : {"bin", "proc", "sys", "dev", "tmp", "etc"})
      fs::create_directories(w->rootfs + "/" + d);
    fs::copy_file("/bin/busybox", w->rootfs + "/bin/busybox");
    for (const char* applet : {"sh", "true", "touch", "sleep"})
      fs::create_symlink("busybox", w->rootfs + "/bin/" + applet);
    fs::copy_file(binary("PROBE_CASES_STATIC"), w->rootfs + "/probe_cases");
    fs::permissions(w->rootfs + "/tmp", fs::perms::all | fs::perms::sticky_bit);
    for (const char* policy : {"default", "kernel-5.10"}) {
      RunResult p = runCmd({binary("EXTSYS"), "oci-profile", "--format", "lxc", "--policy", policy});
      if (p.exitCode() != 0) {
        w->skip = std::string("oci-profile --format lxc --policy ") + policy + ": " + p.describe();
        return w;
      }
      std::ofstream(w->dir + "/" + policy + ".seccomp") << p.out;
    }
    // Can this host run an LXC container at all (cgroups, namespaces)?
    const std::string plain = writeConfig(*w, "plain", "", "", "");
    RunResult t = runCmd(executeArgv(*w, "plain", plain, {"/bin/true"}));
    if (t.exitCode() != 0) {
      w->skip = "lxc-execute cannot start a container here: " + t.describe() + " " + t.err;
      return w;
    }
    w->agent = std::make_unique<Agent>(
        Agent::start(w->dir, "agent", {"--lxc-socket", w->dir + "/lxc.sock"}));
    if (!waitFor([&] { return w->agent->text().find("(LXC)") != std::string::npos; }, 20))
      w->skip = "the agent did not start: " + w->agent->text();
    return w;
  }();
  return *world;
}

class LxcExecute : public ::testing::Test {
protected:
  void SetUp() override {
    if (!lxcWorld().skip.empty())
      GTEST_SKIP() << lxcWorld().skip;
  }
  // The agent stops (its servers end with their containers) and the
  // rootfs and configs go.
  static void TearDownTestSuite() {
    LxcWorld& w = lxcWorld();
    w.agent.reset();
    if (!w.dir.empty())
      fs::remove_all(w.dir);
    w.dir.clear();
    w.skip = "torn down";
  }
  static std::string name(const char* base) {
    return std::string(base) + "-" + std::to_string(getpid()) + "-" +
           std::to_string(++lxcWorld().seq);
  }
  static std::string profile(const char* policy) {
    return lxcWorld().dir + "/" + policy + ".seccomp";
  }
  static std::string proxy() { return lxcWorld().dir + "/lxc.sock"; }
};

const std::vector<std::string> kCases{"/probe_cases", "run", "clone3_cf_v2",
                                      "openat2_cf_misalign_3", "mount_setattr_cf_56"};

TEST_F(LxcExecute, ProbesAreAnsweredByteExactThroughTheProxy) {
  LxcWorld& w = lxcWorld();
  const std::string n = name("probes");
  const auto cfg = writeConfig(w, n, profile("default"), proxy(), "policy=default",
                               {"EXTSYS_EXPECT=emulated"});
  RunResult r = runCmd(executeArgv(w, n, cfg, kCases));
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << r.out << r.err << w.agent->text();
  EXPECT_NE(r.out.find("PASS clone3_cf_v2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PASS openat2_cf_misalign_3"), std::string::npos) << r.out;
  EXPECT_TRUE(hasLine(w.agent->text(), {"LXC container (monitor pid", "serving with policy default"}))
      << w.agent->text();
}

TEST_F(LxcExecute, TheCookieChoosesThePolicy) {
  LxcWorld& w = lxcWorld();
  const std::string n = name("k510");
  const auto cfg = writeConfig(w, n, profile("kernel-5.10"), proxy(), "policy=kernel-5.10",
                               {"EXTSYS_EXPECT=emulated", "EXTSYS_EXPECT_RESOLVE=0x1f"});
  RunResult r = runCmd(executeArgv(w, n, cfg, kCases));
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << r.out << r.err << w.agent->text();
  EXPECT_NE(r.out.find("PASS openat2_cf_misalign_3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SKIP mount_setattr_cf_56"), std::string::npos) << r.out;
  EXPECT_TRUE(hasLine(w.agent->text(), {"serving with policy kernel-5.10"})) << w.agent->text();
}

TEST_F(LxcExecute, TwoContainersAtOnce) {
  LxcWorld& w = lxcWorld();
  std::vector<Background> running;
  std::vector<std::string> names;
  const std::string loop =
      "i=0; while [ $i -lt 20 ]; do /probe_cases run clone3_cf_v2 openat2_cf_misalign_3 "
      ">/dev/null || exit 1; i=$((i+1)); done";
  for (int i = 0; i < 2; ++i) {
    names.push_back(name(i == 0 ? "twin-a" : "twin-b"));
    const auto cfg = writeConfig(w, names.back(), profile(i == 0 ? "default" : "kernel-5.10"),
                                 proxy(), i == 0 ? "policy=default" : "policy=kernel-5.10",
                                 {"EXTSYS_EXPECT=emulated",
                                  i == 0 ? "EXTSYS_EXPECT_RESOLVE=0x3f"
                                         : "EXTSYS_EXPECT_RESOLVE=0x1f"});
    running.push_back(Background::spawn(executeArgv(w, names.back(), cfg, {"/bin/sh", "-c", loop}),
                                        w.dir + "/" + names.back() + ".out"));
  }
  for (size_t i = 0; i < running.size(); ++i) {
    const int st = running[i].wait(120 * timeScale());
    EXPECT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        << names[i] << ": " << exitText(st) << readFile(running[i].log) << w.agent->text();
  }
}

// Killing the agent with its servers (systemctl restart does: the unit's
// cgroup) fails the next notification's send; LXC reconnects once, to the
// new agent, and later probes are answered again.
TEST_F(LxcExecute, AnAgentRestartServesLaterProbesAgain) {
  LxcWorld& w = lxcWorld();
  const std::string sock = w.dir + "/restart.sock";
  auto first = std::make_unique<Agent>(
      Agent::start(w.dir, "restart-1", {"--lxc-socket", sock}, "restart-oci"));
  ASSERT_TRUE(waitFor([&] { return first->text().find("(LXC)") != std::string::npos; }, 20));
  const std::string n = name("restart");
  const std::string marks = w.rootfs + "/tmp/" + n;
  const auto cfg = writeConfig(w, n, profile("default"), sock, "policy=default",
                               {"EXTSYS_EXPECT=emulated"});
  const std::string script = "/probe_cases run clone3_cf_v2 || exit 3; touch /tmp/" + n +
                             ".first; while [ ! -e /tmp/" + n + ".go ]; do sleep 0.05; done; " +
                             "/probe_cases run clone3_cf_v2 openat2_cf_misalign_3";
  Background c = Background::spawn(executeArgv(w, n, cfg, {"/bin/sh", "-c", script}),
                                   w.dir + "/" + n + ".out");
  ASSERT_TRUE(waitFor([&] { return fs::exists(marks + ".first"); }, 60 * timeScale()))
      << readFile(c.log) << first->text();
  const pid_t agentPid = first->proc.pid;
  for (pid_t server : childrenOf(agentPid))
    kill(server, SIGKILL);
  first->proc.stop(SIGKILL);
  auto second = std::make_unique<Agent>(
      Agent::start(w.dir, "restart-2", {"--lxc-socket", sock}, "restart-oci"));
  ASSERT_TRUE(waitFor([&] { return second->text().find("(LXC)") != std::string::npos; }, 20))
      << second->text();
  std::ofstream(marks + ".go") << "";
  const int st = c.wait(60 * timeScale());
  EXPECT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
      << exitText(st) << readFile(c.log) << second->text();
  EXPECT_TRUE(hasLine(second->text(), {"LXC container (monitor pid", "serving with policy default"}))
      << second->text();
}

// Not a pass/fail property: the start-up cost of the proxy, for the record
// (lxc-execute of /bin/true, median of 5, without and with the proxy).
TEST_F(LxcExecute, StartTimesWithAndWithoutTheProxy) {
  LxcWorld& w = lxcWorld();
  // Round-robin, so that load from elsewhere hits both alike.
  std::vector<double> ms[2];
  for (int i = 0; i < 5; ++i)
    for (const bool withProxy : {false, true}) {
      const std::string n = name(withProxy ? "start-proxy" : "start-plain");
      const auto cfg = withProxy ? writeConfig(w, n, profile("default"), proxy(), "policy=default")
                                 : writeConfig(w, n, "", "", "");
      const auto t0 = std::chrono::steady_clock::now();
      RunResult r = runCmd(executeArgv(w, n, cfg, {"/bin/true"}));
      const auto t1 = std::chrono::steady_clock::now();
      EXPECT_EQ(r.exitCode(), 0) << r.describe() << r.err;
      ms[withProxy].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double plain = median(ms[0]), proxied = median(ms[1]);
  std::printf("lxc-execute /bin/true median of 5: %.1f ms without seccomp, %.1f ms with the "
              "extsys profile and proxy\n",
              plain, proxied);
  RecordProperty("start_ms_plain", std::to_string(plain));
  RecordProperty("start_ms_proxy", std::to_string(proxied));
}

}  // namespace
}  // namespace extsys::test
