// SPDX-License-Identifier: MIT
// oci_test (integration) - `extsys agent` and `extsys oci-profile` with real
// container runtimes: runc and crun run a rootfs made of the static probe
// binary, the runtime sends the container's listener to the agent, and the
// container's CHECK_FIELDS probes must be answered byte-exact. Also: the
// protocol variants of both runtimes without a runtime (a fake runtime in a
// child process), per-container policies, exec, many containers at once,
// resources freed on exit, agent stop/restart, socket activation, and the
// container start time with and without the agent.
//
// Runtime tests need root and runc/crun in PATH (tools/extsys-dev installs
// them); they skip with the exact reason otherwise. crun 1.8 refuses hybrid
// cgroup hosts; where /sys/fs/cgroup is a tmpfs with a non-empty cgroup2
// controller list, crun runs in a private mount namespace with that list
// hidden (the workaround of notes/oci-agent.md section 5.4).
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "agent/container_state.h"
#include "agent/oci_profile.h"
#include "filter/seccomp_filter.h"
#include "kernel/current_features.h"
#include "policy/toml_loader.h"
#include "subprocess.h"

namespace extsys::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kCF = 1ULL << 63;

std::string readFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.pop_back();
  return s;
}

// Some line of `text` holds every one of `parts`.
bool hasLine(const std::string& text, std::initializer_list<std::string> parts) {
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);)
    if (std::all_of(parts.begin(), parts.end(),
                    [&](const std::string& p) { return line.find(p) != std::string::npos; }))
      return true;
  return false;
}

bool waitFor(const std::function<bool()>& cond, double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    if (cond())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

// ---------------------------------------------------------------------------
// The protocol, in-process.

const char* kRuncPayload =
    R"({"ociVersion":"1.0.2-dev","fds":["seccompFd"],"pid":10760,"metadata":"hello-metadata",)"
    R"("state":{"ociVersion":"1.0.2-dev","id":"r1","status":"creating","pid":10760,)"
    R"("bundle":"/b","annotations":{"org.example.k":"v}\"{"}}})";

std::string crunPayload() {  // pretty-printed, trailing newline, like crun 1.8
  json j = json::parse(kRuncPayload);
  j["ociVersion"] = "0.2.0";
  j["state"]["ociVersion"] = "0.2.0";
  return j.dump(4) + "\n";
}

TEST(OciProtocol, ObjectEndIsFoundInEverySplitOfCompactAndPrettyJson) {
  for (const std::string& text : {std::string(kRuncPayload), crunPayload()}) {
    const size_t end = text.find_last_of('}');
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      agent::JsonObjectScanner s;
      auto st = s.feed(std::string_view(text).substr(0, cut));
      EXPECT_EQ(st, cut > end ? agent::JsonObjectScanner::State::Complete
                              : agent::JsonObjectScanner::State::NeedMore)
          << "cut " << cut;
      st = s.feed(std::string_view(text).substr(cut));
      EXPECT_EQ(st, agent::JsonObjectScanner::State::Complete) << "cut " << cut;
    }
    {
      agent::JsonObjectScanner s;
      s.feed(text + "{\"next\": 1}");
      EXPECT_EQ(s.end(), end + 1);
    }
    // Byte by byte: complete exactly at the closing brace.
    agent::JsonObjectScanner s;
    for (size_t i = 0; i < text.size(); ++i)
      ASSERT_EQ(s.feed(text.substr(i, 1)) == agent::JsonObjectScanner::State::Complete, i >= end)
          << i;
  }
  agent::JsonObjectScanner notAnObject;
  EXPECT_EQ(notAnObject.feed(" [1]"), agent::JsonObjectScanner::State::Malformed);
}

TEST(OciProtocol, ParsesWhatRuncAndCrunSend) {
  for (const std::string& text : {std::string(kRuncPayload), crunPayload()}) {
    auto s = agent::parseContainerProcessState(text);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->pid, 10760);
    EXPECT_EQ(s->id, "r1");
    EXPECT_EQ(s->status, "creating");
    EXPECT_EQ(s->initPid, 10760);
    EXPECT_EQ(s->metadata, "hello-metadata");
    EXPECT_EQ(s->bundle, "/b");
    EXPECT_EQ(agent::seccompFdIndex(*s), 0u);
  }
  // crun exec: pid 0, bundle "."
  json j = json::parse(kRuncPayload);
  j["pid"] = 0;
  j["fds"] = {"other", "seccompFd"};
  auto s = agent::parseContainerProcessState(j.dump());
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(agent::seccompFdIndex(*s), 1u);
}

TEST(OciProtocol, RejectsBrokenStates) {
  auto bad = [](const std::function<void(json&)>& edit, const char* expect) {
    json j = json::parse(kRuncPayload);
    edit(j);
    auto s = agent::parseContainerProcessState(j.dump());
    ASSERT_FALSE(s) << j.dump();
    EXPECT_NE(s.error().message().find(expect), std::string::npos) << s.error().message();
  };
  bad([](json& j) { j.erase("fds"); }, "\"fds\"");
  bad([](json& j) { j["fds"] = {"other"}; }, "seccompFd");
  bad([](json& j) { j["pid"] = "12"; }, "\"pid\"");
  bad([](json& j) { j["pid"] = -1; }, "\"pid\"");
  bad([](json& j) { j["state"].erase("id"); }, "\"id\"");
  bad([](json& j) { j["metadata"] = 5; }, "\"metadata\"");
  EXPECT_FALSE(agent::parseContainerProcessState("{\"ociVersion\": "));
}

TEST(OciProtocol, MetadataGrammar) {
  auto ok = [](const char* md, const char* policy) {
    auto m = agent::parseAgentMetadata(md);
    ASSERT_TRUE(m) << md << ": " << m.error().message();
    EXPECT_EQ(m->policy, policy) << md;
  };
  ok("", "");
  ok("policy=kernel-5.10", "kernel-5.10");
  ok("  policy=sandbox-strict ; ", "sandbox-strict");
  auto bad = [](const char* md, const char* expect) {
    auto m = agent::parseAgentMetadata(md);
    ASSERT_FALSE(m) << md;
    EXPECT_NE(m.error().message().find(expect), std::string::npos) << m.error().message();
  };
  bad("hello-metadata", "not KEY=VALUE");
  bad("color=blue", "unknown key 'color'");
  bad("policy=a,policy=b", "twice");
  bad("policy=../../etc/x", "not a policy NAME");
  bad("policy=/etc/x.toml", "not a policy NAME");
  bad("policy=x.toml", "not a policy NAME");
  bad("policy=", "not a policy NAME");
}

// ---------------------------------------------------------------------------
// The profile: the filter a runtime builds from it is extsys run's filter.

// What runc and crun do with linux.seccomp: libseccomp, rules by name,
// seccomp_rule_add_array (not _exact), unknown names skipped.
std::string runtimePfc(const json& s) {
  auto action = [](const std::string& a) {
    return a == "SCMP_ACT_ALLOW" ? SCMP_ACT_ALLOW : a == "SCMP_ACT_NOTIFY" ? SCMP_ACT_NOTIFY : 0u;
  };
  scmp_filter_ctx ctx = seccomp_init(action(s["defaultAction"]));
  EXPECT_NE(ctx, nullptr);
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  for (const auto& a : s.value("architectures", json::array())) {
    std::string name = a.get<std::string>().substr(10);  // after SCMP_ARCH_
    for (char& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const uint32_t arch = seccomp_arch_resolve_name(name.c_str());
    EXPECT_NE(arch, 0u) << name;
    if (arch != seccomp_arch_native()) {
      EXPECT_EQ(seccomp_arch_add(ctx, arch), 0) << name;
    }
  }
  for (const auto& r : s["syscalls"]) {
    const std::string act = r["action"];
    uint32_t a =
        act == "SCMP_ACT_ERRNO" ? SCMP_ACT_ERRNO(r["errnoRet"].get<uint16_t>()) : action(act);
    EXPECT_NE(a, 0u) << act;
    std::vector<scmp_arg_cmp> cmps;
    for (const auto& c : r.value("args", json::array())) {
      EXPECT_EQ(c["op"], "SCMP_CMP_MASKED_EQ");
      cmps.push_back({c["index"].get<unsigned>(), SCMP_CMP_MASKED_EQ, c["value"].get<uint64_t>(),
                      c["valueTwo"].get<uint64_t>()});
    }
    for (const auto& n : r["names"]) {
      // A runtime with a newer libseccomp knows what extsys's table knows.
      const int nr = kernel::nativeSyscallNr(n.get<std::string>());
      EXPECT_GE(nr, 0) << n;
      EXPECT_EQ(seccomp_rule_add_array(ctx, a, nr, static_cast<unsigned>(cmps.size()),
                                       cmps.empty() ? nullptr : cmps.data()),
                0)
          << n;
    }
  }
  char path[] = "/tmp/extsys-oci-pfc-XXXXXX";
  int fd = mkstemp(path);
  seccomp_export_pfc(ctx, fd);
  close(fd);
  seccomp_release(ctx);
  std::string out = readFile(path);
  unlink(path);
  return out;
}

// The native architecture's block of a PFC dump.
std::string nativeBlock(const std::string& pfc) {
  const std::string head = "# filter for arch x86_64 ";
  size_t b = pfc.find(head);
  if (b == std::string::npos)
    return "(no native block)\n" + pfc;
  size_t e = pfc.find("\n# filter for arch", b + head.size());
  if (e == std::string::npos)
    e = pfc.find("\n# invalid architecture action", b);
  return pfc.substr(b, e - b);
}

std::vector<std::string> policyFiles() {
  std::vector<std::string> files;
  for (const char* dir : {"OCI_POLICIES", "TEST_POLICIES"})
    for (const auto& e : fs::directory_iterator(binary(dir)))
      if (e.path().extension() == ".toml")
        files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(OciProfile, RuntimeBuildsTheSameNativeFilterAsExtsysRunForEveryPolicy) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the PFC comparison is written for x86_64";
#endif
  auto features = kernel::currentKernelFeatures(kernel::CacheMode::Use, "oci-test");
  ASSERT_TRUE(features) << features.error().message();
  std::vector<std::pair<std::string, policy::Policy>> policies{
      {"default", policy::defaultPolicy()}};
  for (const auto& f : policyFiles()) {
    auto p = policy::loadPolicyFile(f);
    ASSERT_TRUE(p) << p.error().message();
    policies.emplace_back(f, *p);
  }
  ASSERT_GE(policies.size(), 6u);
  for (const auto& [name, p] : policies) {
    auto eff = policy::makeEffective(p, features->features);
    ASSERT_TRUE(eff) << name << ": " << eff.error().message();
    auto profile = agent::makeOciProfile(*eff, {"/run/extsys/agent.sock", "policy=" + eff->name});
    ASSERT_TRUE(profile) << name;
    auto ours = filter::filterPfc(*eff);
    ASSERT_TRUE(ours) << name;
    EXPECT_EQ(nativeBlock(runtimePfc(profile->seccomp)), nativeBlock(*ours))
        << name << "\n"
        << profile->seccomp.dump(2);
    const bool notifies = profile->seccomp.dump().find("SCMP_ACT_NOTIFY") != std::string::npos;
    EXPECT_EQ(profile->seccomp.contains("listenerPath"), notifies) << name;
    EXPECT_EQ(profile->seccomp["defaultAction"], "SCMP_ACT_ALLOW");
    EXPECT_EQ(profile->seccomp["architectures"].size(), eff->foreignAbisEnosys ? 1u : 3u) << name;
  }
}

TEST(OciProfile, CommandPrintsNotifyRulesOnBit63AndTheHideRules) {
  RunResult r = run({{binary("EXTSYS"), "oci-profile", "--policy", "kernel-5.10", "--socket",
                      "relative/agent.sock"},
                     {},
                     60,
                     {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  json s = json::parse(r.out);
  EXPECT_EQ(s["listenerMetadata"], "policy=kernel-5.10");
  const std::string path = s["listenerPath"];
  EXPECT_EQ(path.front(), '/');
  EXPECT_TRUE(path.ends_with("/relative/agent.sock")) << path;
  bool clone3Probe = false, mountHidden = false;
  for (const auto& rule : s["syscalls"]) {
    if (rule["names"] == json{"clone3"}) {
      EXPECT_EQ(rule["action"], "SCMP_ACT_NOTIFY");
      EXPECT_EQ(rule["args"],
                json::parse(R"([{"index":1,"op":"SCMP_CMP_MASKED_EQ",)"
                            R"("value":9223372036854775808,"valueTwo":9223372036854775808}])"));
      clone3Probe = true;
    }
    if (rule["names"] == json{"mount_setattr"}) {
      EXPECT_EQ(rule["action"], "SCMP_ACT_ERRNO");
      EXPECT_EQ(rule["errnoRet"], ENOSYS);
      mountHidden = true;
    }
  }
  EXPECT_TRUE(clone3Probe && mountHidden) << r.out;

  r = run({{binary("EXTSYS"), "oci-profile", "--policy", "sandbox-strict"}, {}, 60, {}});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  s = json::parse(r.out);
  EXPECT_FALSE(s.contains("listenerPath")) << "nothing is notified, no agent needed";
  EXPECT_EQ(s["architectures"], json{"SCMP_ARCH_X86_64"});
  EXPECT_NE(r.err.find("notifies nothing"), std::string::npos) << r.err;

  r = run({{binary("EXTSYS"), "oci-profile", "--policy", "no-such-policy"}, {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 2) << r.describe();
}

// ---------------------------------------------------------------------------
// A process in the background with its output in a file.

struct Background {
  pid_t pid = -1;
  std::string log;

  Background() = default;
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  Background(Background&& o) noexcept : pid(std::exchange(o.pid, -1)), log(std::move(o.log)) {}
  Background& operator=(Background&& o) noexcept {
    std::swap(pid, o.pid);
    std::swap(log, o.log);
    return *this;
  }

  static Background spawn(const std::vector<std::string>& argv, const std::string& log,
                          const std::function<void()>& inChild = {}) {
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    Background b;
    b.log = log;
    b.pid = fork();
    if (b.pid == 0) {
      setpgid(0, 0);
      int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
      dup2(in, 0);
      dup2(out, 1);
      dup2(out, 2);
      if (inChild)
        inChild();
      execvp(args[0], args.data());
      _exit(127);
    }
    return b;
  }

  // Raw wait status, or -1 on timeout.
  int wait(double seconds) {
    int status = -1;
    const bool done =
        waitFor([&] { return pid > 0 && waitpid(pid, &status, WNOHANG) == pid; }, seconds);
    if (!done)
      return -1;
    pid = -1;
    return status;
  }
  int stop(int sig = SIGTERM) {
    if (pid <= 0)
      return -1;
    kill(pid, sig);
    int st = wait(10);
    if (st == -1) {
      kill(pid, SIGKILL);
      st = wait(10);
    }
    return st;
  }
  ~Background() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

std::string exitText(int status) {
  if (status == -1)
    return "still running";
  if (WIFEXITED(status))
    return "exit " + std::to_string(WEXITSTATUS(status));
  return std::string("signal ") + strsignal(WTERMSIG(status));
}

// An agent on its own socket, its log in a file.
struct Agent {
  Background proc;
  std::string socket;
  std::string log;

  static Agent start(const std::string& dir, const std::string& name,
                     std::vector<std::string> extra = {}, const std::string& socketName = "") {
    Agent a;
    a.socket = dir + "/" + (socketName.empty() ? name : socketName) + ".sock";
    a.log = dir + "/" + name + ".log";
    std::vector<std::string> argv{binary("EXTSYS"), "agent", "--socket", a.socket};
    argv.insert(argv.end(), extra.begin(), extra.end());
    a.proc = Background::spawn(argv, a.log);
    return a;
  }
  bool ready(double seconds = 20) const {
    return waitFor([&] { return readFile(log).find("listening on") != std::string::npos; },
                   seconds);
  }
  std::string text() const { return readFile(log); }
};

// Pids of the live processes whose parent is `parent`.
std::vector<pid_t> childrenOf(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string n = e.path().filename();
    if (n.empty() || !std::isdigit(static_cast<unsigned char>(n[0])))
      continue;
    std::string stat = readFile("/proc/" + n + "/stat");
    size_t rp = stat.rfind(')');
    if (rp == std::string::npos)
      continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(stat.c_str() + rp + 1, " %c %d", &state, &ppid) == 2 && ppid == parent &&
        state != 'Z')
      out.push_back(std::stoi(n));
  }
  return out;
}

size_t fdCount(pid_t pid) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); ++it)
    ++n;
  return n;
}

// ---------------------------------------------------------------------------
// A fake runtime: a child installs extsys's filter with a listener, sends the
// state and the fd the way runc (compact, one sendmsg) or crun (pretty,
// trailing newline) do - or in pieces - keeps the connection open, and runs
// `probe_cases run ...` (exit 0: answered byte-exact) or a raw probe.

struct FakeSend {
  std::string json;
  std::vector<size_t> cuts;       // split the JSON here into several sendmsg calls
  bool extraFdFirst = false;      // "fds": ["other", "seccompFd"]
  std::vector<std::string> exec;  // run this after sending; empty: raw clone3 probe
};

filter::BpfProgram defaultProgram() {
  auto features = kernel::currentKernelFeatures(kernel::CacheMode::Use, "oci-test");
  EXPECT_TRUE(features);
  auto eff = policy::makeEffective(policy::defaultPolicy(), features->features);
  EXPECT_TRUE(eff);
  auto prog = filter::buildFilter(*eff);
  EXPECT_TRUE(prog);
  return *prog;
}

// Child exit codes: 0 ok; 10+ setup step failed; for the raw probe: 20 +
// errno it got (ENOSYS -> 58, EEXTSYS_NOOP -> 154 & 0xff).
int fakeRuntime(const std::string& socketPath, const FakeSend& send) {
  filter::BpfProgram prog = defaultProgram();
  std::vector<char*> args;
  for (const auto& a : send.exec)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    sock_fprog fp{static_cast<unsigned short>(prog.insns.size()), prog.insns.data()};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
      _exit(10);
    int listener = static_cast<int>(
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &fp));
    if (listener < 0)
      _exit(11);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);  // kept across exec, like a runtime
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socketPath.c_str(), sizeof addr.sun_path - 1);
    if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      _exit(12);
    int fds[2] = {send.extraFdFirst ? 0 : listener, listener};
    const int nfds = send.extraFdFirst ? 2 : 1;
    size_t from = 0;
    std::vector<size_t> cuts = send.cuts;
    cuts.push_back(send.json.size());
    for (size_t i = 0; i < cuts.size(); ++i) {
      iovec iov{const_cast<char*>(send.json.data()) + from, cuts[i] - from};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)];
      if (i == 0) {  // fds only with the first message
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
      }
      if (sendmsg(s, &msg, 0) < 0)
        _exit(13);
      from = cuts[i];
      usleep(20 * 1000);  // let the agent see the pieces separately
    }
    close(listener);
    if (!send.exec.empty()) {
      setenv("EXTSYS_EXPECT", "emulated", 1);
      execv(args[0], args.data());
      _exit(14);
    }
    alignas(8) unsigned char buf[128] = {};
    long rc = syscall(SYS_clone3, buf, kCF | 88);
    _exit(rc == -1 ? 20 + errno : 15);
  }
  int status = 0;
  for (int i = 0; i < 3000 && waitpid(pid, &status, WNOHANG) == 0; ++i)
    usleep(10 * 1000);
  if (waitpid(pid, &status, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string payload(const std::string& id, const std::string& metadata, bool pretty,
                    bool extraFd = false) {
  json j = json::parse(kRuncPayload);
  j["state"]["id"] = id;
  j["pid"] = getpid();
  j["metadata"] = metadata;
  if (extraFd)
    j["fds"] = {"other", "seccompFd"};
  return pretty ? j.dump(4) + "\n" : j.dump();
}

class AgentProtocol : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(fs::temp_directory_path() /
                           ("extsys-oci-proto-" + std::to_string(getpid())));
    fs::create_directories(*dir_);
    agent_ = new Agent(Agent::start(*dir_, "agent"));
  }
  static void TearDownTestSuite() {
    delete agent_;
    fs::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    if (!agent_->ready())
      GTEST_FAIL() << "the agent did not start:\n" << agent_->text();
  }
  static std::string* dir_;
  static Agent* agent_;
};
std::string* AgentProtocol::dir_ = nullptr;
Agent* AgentProtocol::agent_ = nullptr;

const std::vector<std::string> kProbes{"run", "clone3_cf_v2", "openat2_cf_misalign_3",
                                       "mount_setattr_cf_56"};

std::vector<std::string> probeCases(std::vector<std::string> args = kProbes) {
  args.insert(args.begin(), binary("PROBE_CASES_STATIC"));
  return args;
}

TEST_F(AgentProtocol, CompactStateInOneMessageLikeRunc) {
  FakeSend s{payload("fake-runc", "", false), {}, false, probeCases()};
  EXPECT_EQ(fakeRuntime(agent_->socket, s), 0) << agent_->text();
  EXPECT_NE(agent_->text().find("container fake-runc init"), std::string::npos);
}

TEST_F(AgentProtocol, PrettyStateInPiecesLikeCrunWithTheFdInTheFirst) {
  std::string j = payload("fake-crun", "policy=default", true);
  // Cut inside the annotation string that holds "}" and an escaped quote.
  const size_t inString = j.find("v}\\\"{") + 2;
  FakeSend s{j, {5, inString, j.size() - 2}, false, probeCases()};
  EXPECT_EQ(fakeRuntime(agent_->socket, s), 0) << agent_->text();
}

TEST_F(AgentProtocol, FdIsPickedByItsNameInFds) {
  FakeSend s{payload("fake-twofds", "", false, true), {}, true, probeCases()};
  EXPECT_EQ(fakeRuntime(agent_->socket, s), 0) << agent_->text();
}

TEST_F(AgentProtocol, UnknownMetadataKeyClosesTheListenerSoProbesGetEnosys) {
  FakeSend s{payload("fake-badmeta", "color=blue", false), {}, false, {}};
  EXPECT_EQ(fakeRuntime(agent_->socket, s), 20 + ENOSYS) << agent_->text();
  EXPECT_TRUE(waitFor(
      [&] {
        return agent_->text().find("container fake-badmeta init (pid " + std::to_string(getpid()) +
                                   "): listenerMetadata: unknown key 'color'") != std::string::npos;
      },
      5))
      << agent_->text();
}

TEST_F(AgentProtocol, UnknownPolicyNameClosesTheListener) {
  FakeSend s{payload("fake-nopolicy", "policy=no-such-policy", false), {}, false, {}};
  EXPECT_EQ(fakeRuntime(agent_->socket, s), 20 + ENOSYS) << agent_->text();
  EXPECT_TRUE(waitFor(
      [&] { return agent_->text().find("policy 'no-such-policy' not found") != std::string::npos; },
      5))
      << agent_->text();
}

TEST_F(AgentProtocol, ConnectionClosedEarlyIsLoggedAndForgotten) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, agent_->socket.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(write(s, "{\"ociVersion\": \"1\"", 18), 18);
  close(s);
  EXPECT_TRUE(waitFor(
      [&] {
        return agent_->text().find("closed the connection after 18 bytes") != std::string::npos;
      },
      5))
      << agent_->text();
}

TEST_F(AgentProtocol, ServersEndWithTheirListenersAndTheAgentKeepsNoFds) {
  const size_t before = fdCount(agent_->proc.pid);
  FakeSend s{payload("fake-free", "", false), {}, false, probeCases()};
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(fakeRuntime(agent_->socket, s), 0) << agent_->text();
  EXPECT_TRUE(waitFor([&] { return childrenOf(agent_->proc.pid).empty(); }, 10))
      << childrenOf(agent_->proc.pid).size() << " server(s) left";
  EXPECT_EQ(fdCount(agent_->proc.pid), before);
}

TEST(AgentSocket, SocketActivationLikeSystemd) {
  const std::string dir = fs::temp_directory_path() / ("extsys-oci-sd-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string path = dir + "/activated.sock";
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(l, 16), 0);
  Background agentProc = Background::spawn(
      {binary("EXTSYS"), "agent", "--log-level", "debug"}, dir + "/agent.log", [l] {
        dup2(l, 3);  // SD_LISTEN_FDS_START
        setenv("LISTEN_FDS", "1", 1);
        setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
      });
  close(l);
  ASSERT_TRUE(waitFor(
      [&] {
        return readFile(dir + "/agent.log").find("listening on the socket systemd passed") !=
               std::string::npos;
      },
      20))
      << readFile(dir + "/agent.log");
  FakeSend s{payload("fake-activated", "", false), {}, false, probeCases()};
  EXPECT_EQ(fakeRuntime(path, s), 0) << readFile(dir + "/agent.log");
  EXPECT_EQ(exitText(agentProc.stop()), "exit 0");
  EXPECT_TRUE(fs::exists(path)) << "the socket belongs to systemd: the agent leaves it";
  fs::remove_all(dir);
}

TEST(AgentSocket, ALiveAgentsSocketIsKeptAStaleOneReplaced) {
  const std::string dir =
      fs::temp_directory_path() / ("extsys-oci-stale-" + std::to_string(getpid()));
  fs::create_directories(dir);
  Agent first = Agent::start(dir, "a");
  ASSERT_TRUE(first.ready()) << first.text();
  RunResult second = run({{binary("EXTSYS"), "agent", "--socket", first.socket}, {}, 30, {}});
  EXPECT_EQ(second.exitCode(), 1) << second.describe();
  EXPECT_NE(second.err.find("another agent is listening on " + first.socket), std::string::npos)
      << second.err;
  EXPECT_EQ(first.text().find("error"), std::string::npos) << "the check is no error\n"
                                                            << first.text();
  first.proc.stop(SIGKILL);  // leaves its socket file behind
  ASSERT_TRUE(fs::exists(first.socket));
  Agent third = Agent::start(dir, "c", {}, "a");
  ASSERT_TRUE(third.ready()) << third.text();
  EXPECT_NE(third.text().find("replaced stale socket"), std::string::npos) << third.text();
  FakeSend s{payload("fake-stale", "", false), {}, false, probeCases()};
  EXPECT_EQ(fakeRuntime(third.socket, s), 0) << third.text();
  EXPECT_EQ(exitText(third.proc.stop()), "exit 0");
  fs::remove_all(dir);
}

// ---------------------------------------------------------------------------
// Real runtimes.

std::string which(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  for (std::string d; std::getline(ss, d, ':');) {
    const std::string p = d + "/" + name;
    if (access(p.c_str(), X_OK) == 0)
      return p;
  }
  return "";
}

// crun 1.8 stops at "cgroups in hybrid mode not supported" when
// /sys/fs/cgroup is a tmpfs (v1 controllers) and the cgroup2 mount under it
// lists controllers.
bool hybridCgroupsWithV2Controllers() {
  struct statfs sf {};
  if (statfs("/sys/fs/cgroup", &sf) != 0 || sf.f_type != TMPFS_MAGIC)
    return false;
  return !trim(readFile("/sys/fs/cgroup/unified/cgroup.controllers")).empty();
}

struct Runtime {
  std::string name;
  std::string path;
  std::string stateDir;
  bool hideCgroup2Controllers = false;
  std::string emptyFile;

  std::vector<std::string> cmd(std::vector<std::string> args) const {
    args.insert(args.begin(), {path, "--root", stateDir});
    return args;
  }
  // Runs in the child before exec: the crun workaround, in a private mount
  // namespace that changes nothing outside it.
  std::function<void()> inChild() const {
    if (!hideCgroup2Controllers)
      return {};
    const std::string empty = emptyFile;
    return [empty] {
      if (unshare(CLONE_NEWNS) != 0 ||
          mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          mount(empty.c_str(), "/sys/fs/cgroup/unified/cgroup.controllers", nullptr, MS_BIND,
                nullptr) != 0) {
        perror("crun cgroup workaround");
        _exit(125);
      }
    };
  }
};

// Everything the runtime tests share: one rootfs, one agent.
struct World {
  std::string dir, rootfs;
  std::unique_ptr<Agent> agent;
  json baseConfig;
  std::string skip;  // why runtime tests cannot run at all
  int seq = 0;
};
World* gWorld = nullptr;

void copyInto(const std::string& rootfs, const std::string& from, const std::string& to) {
  fs::create_directories(fs::path(rootfs + to).parent_path());
  fs::copy_file(from, rootfs + to, fs::copy_options::overwrite_existing);
}

// The shared libraries a dynamic binary loads, from ldd.
std::vector<std::string> sharedLibs(const std::string& bin) {
  RunResult r = run({{"ldd", bin}, {}, 30, {}});
  std::vector<std::string> libs;
  std::stringstream ss(r.out);
  for (std::string line; std::getline(ss, line);) {
    size_t slash = line.find('/');
    if (slash == std::string::npos)
      continue;
    size_t end = line.find(' ', slash);
    libs.push_back(line.substr(slash, end == std::string::npos ? std::string::npos : end - slash));
  }
  return libs;
}

World& world() {
  if (gWorld != nullptr)
    return *gWorld;
  gWorld = new World;
  World& w = *gWorld;
  if (geteuid() != 0) {
    w.skip = "container runtimes need root here (running as uid " + std::to_string(geteuid()) + ")";
    return w;
  }
  w.dir = fs::temp_directory_path() / ("extsys-oci-" + std::to_string(getpid()));
  w.rootfs = w.dir + "/rootfs";
  for (const char* d : {"proc", "dev", "sys", "tmp"})
    fs::create_directories(w.rootfs + "/" + d);
  // The static probe binary is the rootfs; policy_cases and sleep (dynamic)
  // bring their libraries.
  copyInto(w.rootfs, binary("PROBE_CASES_STATIC"), "/probe_cases");
  copyInto(w.rootfs, binary("POLICY_CASES"), "/policy_cases");
  const std::string sleepBin = which("sleep");
  copyInto(w.rootfs, sleepBin, "/sleep");
  for (const auto& bin : {std::string(binary("POLICY_CASES")), sleepBin})
    for (const auto& lib : sharedLibs(bin))
      copyInto(w.rootfs, lib, lib);
  std::ofstream(w.dir + "/empty").close();

  const std::string specTool = !which("runc").empty()   ? "runc"
                               : !which("crun").empty() ? "crun"
                                                        : "";
  if (specTool.empty()) {
    w.skip = "neither runc nor crun is installed";
    return w;
  }
  RunResult spec = run({{which(specTool), "spec", "--bundle", w.dir}, {}, 30, {}});
  if (spec.exitCode() != 0) {
    w.skip = specTool + " spec failed: " + spec.describe();
    return w;
  }
  w.baseConfig = json::parse(readFile(w.dir + "/config.json"));
  w.agent =
      std::make_unique<Agent>(Agent::start(w.dir, "agent", {"--audit", w.dir + "/audit.jsonl"}));
  if (!w.agent->ready())
    w.skip = "extsys agent did not start:\n" + w.agent->text();
  return w;
}

// A bundle whose container runs `args` with `profilePolicy`'s linux.seccomp
// ("" = no seccomp section at all) sending to `socket`.
std::string makeBundle(const std::string& name, std::vector<std::string> args,
                       const std::string& profilePolicy, const std::string& socket,
                       std::vector<std::string> env = {}, bool withSeccomp = true) {
  World& w = world();
  const std::string b = w.dir + "/bundle-" + name;
  fs::create_directories(b);
  json c = w.baseConfig;
  c["process"]["terminal"] = false;
  c["process"]["args"] = args;
  for (const auto& e : env)
    c["process"]["env"].push_back(e);
  c["root"] = {{"path", w.rootfs}, {"readonly", true}};
  if (withSeccomp) {
    std::vector<std::string> argv{binary("EXTSYS"), "oci-profile", "--socket", socket};
    if (!profilePolicy.empty())
      argv.insert(argv.end(), {"--policy", profilePolicy});
    RunResult r = run({argv, {}, 60, {}});
    EXPECT_EQ(r.exitCode(), 0) << r.describe();
    c["linux"]["seccomp"] = json::parse(r.out);
  } else {
    c["linux"].erase("seccomp");
  }
  std::ofstream(b + "/config.json") << c.dump(2);
  return b;
}

class Oci : public ::testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    World& w = world();
    if (!w.skip.empty())
      GTEST_SKIP() << w.skip;
    rt_.name = GetParam();
    rt_.path = which(rt_.name);
    if (rt_.path.empty())
      GTEST_SKIP() << rt_.name << " is not installed (not found in PATH); "
                   << "install it with apt-get install " << rt_.name;
    rt_.stateDir = w.dir + "/state-" + rt_.name;
    rt_.emptyFile = w.dir + "/empty";
    rt_.hideCgroup2Controllers = rt_.name == "crun" && hybridCgroupsWithV2Controllers();
    static bool told = false;
    if (rt_.hideCgroup2Controllers && !told) {
      told = true;
      std::cout << "[ note     ] crun: /sys/fs/cgroup is a tmpfs and cgroup2 lists controllers "
                   "(hybrid): crun runs in a private mount namespace with "
                   "/sys/fs/cgroup/unified/cgroup.controllers hidden\n";
    }
    RunResult v = run({{rt_.path, "--version"}, {}, 30, rt_.inChild()});
    if (v.exitCode() != 0)
      GTEST_SKIP() << rt_.name << " --version fails: " << v.describe();
  }

  std::string id(const std::string& what) {
    return "extsys-" + what + "-" + rt_.name + "-" + std::to_string(getpid()) + "-" +
           std::to_string(++world().seq);
  }
  RunResult runContainer(const std::string& bundle, const std::string& cid, int timeout = 60) {
    return run({rt_.cmd({"run", "--bundle", bundle, cid}), {}, timeout, rt_.inChild()});
  }
  Background spawnContainer(const std::string& bundle, const std::string& cid) {
    return Background::spawn(rt_.cmd({"run", "--bundle", bundle, cid}),
                             world().dir + "/" + cid + ".out", rt_.inChild());
  }
  void remove(const std::string& cid) {
    (void)run({rt_.cmd({"delete", "-f", cid}), {}, 30, rt_.inChild()});
  }
  Agent& agent() { return *world().agent; }

  Runtime rt_;
};

TEST_P(Oci, ContainerProbesAreAnsweredByTheAgent) {
  const std::string cid = id("probes");
  const std::string b = makeBundle(
      cid, {"/probe_cases", "run", "clone3_cf_v2", "openat2_cf_misalign_3", "mount_setattr_cf_56"},
      "", agent().socket, {"EXTSYS_EXPECT=emulated"});
  RunResult r = runContainer(b, cid);
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << agent().text();
  for (const char* c :
       {"PASS clone3_cf_v2", "PASS openat2_cf_misalign_3", "PASS mount_setattr_cf_56"})
    EXPECT_NE(r.out.find(c), std::string::npos) << r.out;
  EXPECT_TRUE(waitFor(
      [&] {
        return hasLine(agent().text(),
                       {"container " + cid + " init (pid", "no task left; probes answered 3,"});
      },
      10))
      << agent().text();

  // Control: the same container without the agent's profile gets the
  // kernel's own answer (E2BIG), so the answers above came from the agent.
  const std::string b2 = makeBundle(cid + "-native", {"/probe_cases", "run", "clone3_cf_v2"}, "",
                                    "", {"EXTSYS_EXPECT=native"}, false);
  r = runContainer(b2, cid + "-native");
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
}

TEST_P(Oci, PerContainerPolicyFromListenerMetadata) {
  const std::string cid = id("policy");
  const size_t auditBefore = readFile(world().dir + "/audit.jsonl").size();
  // kernel-5.10: no RESOLVE_CACHED, no mount_setattr. Probes say so...
  std::string b = makeBundle(cid, {"/policy_cases", "told"}, "kernel-5.10", agent().socket);
  RunResult r = runContainer(b, cid);
  ASSERT_EQ(r.exitCode(), 0) << r.describe() << agent().text();
  EXPECT_NE(r.out.find("openat2 errno=134 flags=0x7fffc3 mode=0xfff resolve=0x1f"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("clone3 errno=134 flags=0x3ffffffff size=88"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mount_setattr errno=ENOSYS"), std::string::npos) << r.out;
  // ...and real calls using more get what 5.10 answers (the agent checks them).
  b = makeBundle(cid + "-more", {"/policy_cases", "use-more"}, "kernel-5.10", agent().socket);
  r = runContainer(b, cid + "-more");
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << agent().text();
  // The byte-exact probe check with 5.10's resolve mask, in the same agent
  // that serves default-policy containers with 0x3f.
  b = makeBundle(
      cid + "-exact",
      {"/probe_cases", "run", "openat2_cf_misalign_3", "clone3_cf_v2", "mount_setattr_cf_56"},
      "kernel-5.10", agent().socket, {"EXTSYS_EXPECT=emulated", "EXTSYS_EXPECT_RESOLVE=0x1f"});
  r = runContainer(b, cid + "-exact");
  EXPECT_EQ(r.exitCode(), 0) << r.describe();
  EXPECT_NE(r.out.find("PASS openat2_cf_misalign_3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SKIP mount_setattr_cf_56"), std::string::npos) << r.out;
  EXPECT_TRUE(hasLine(agent().text(),
                      {"container " + cid + " init (pid", "serving with policy kernel-5.10"}))
      << agent().text();

  // What the runtime itself does before the workload starts never reaches
  // the agent: every decision it made was about the workload's calls, even
  // with openat2 real calls notified (5.10 restricts them).
  std::stringstream audit(readFile(world().dir + "/audit.jsonl").substr(auditBefore));
  size_t lines = 0;
  for (std::string line; std::getline(audit, line); ++lines) {
    json j = json::parse(line);
    EXPECT_TRUE(j["comm"] == "policy_cases" || j["comm"] == "probe_cases") << line;
  }
  EXPECT_GT(lines, 5u);
}

TEST_P(Oci, EachExecGetsItsOwnConnection) {
  const std::string cid = id("exec");
  const std::string b = makeBundle(cid, {"/sleep", "60"}, "", agent().socket);
  Background create = Background::spawn(rt_.cmd({"create", "--bundle", b, cid}),
                                        world().dir + "/" + cid + ".create", rt_.inChild());
  ASSERT_EQ(exitText(create.wait(60)), "exit 0") << readFile(world().dir + "/" + cid + ".create");
  RunResult r = run({rt_.cmd({"start", cid}), {}, 30, rt_.inChild()});
  ASSERT_EQ(r.exitCode(), 0) << r.describe();
  r = run({rt_.cmd({"exec", "--env", "EXTSYS_EXPECT=emulated", cid, "/probe_cases", "run",
                    "clone3_cf_v2", "openat2_cf_misalign_3"}),
           {},
           60,
           rt_.inChild()});
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << agent().text();
  EXPECT_TRUE(waitFor(
      [&] { return agent().text().find("container " + cid + " exec (pid") != std::string::npos; },
      10))
      << agent().text();
  remove(cid);  // delete -f: kills the init
  EXPECT_TRUE(waitFor(
      [&] {
        return hasLine(agent().text(), {"container " + cid + " init (pid", "no task left"});
      },
      10))
      << agent().text();
}

TEST_P(Oci, ManyContainersAtOnceAndEachExitFreesItsServer) {
  const size_t fdsBefore = fdCount(agent().proc.pid);
  std::vector<std::pair<std::string, Background>> running;
  for (int i = 0; i < 4; ++i) {
    const std::string cid = id("many");
    // Every other one under kernel-5.10 (no RESOLVE_CACHED, no mount_setattr).
    std::vector<std::string> env{"EXTSYS_EXPECT=emulated"};
    if (i % 2)
      env.push_back("EXTSYS_EXPECT_RESOLVE=0x1f");
    // Two probe hard (16 threads) while the other two start, fork and exec.
    std::vector<std::string> args{"/probe_cases", "run", "openat2_cf_misalign_3", "clone3_cf_v2"};
    for (const char* c : i < 2 ? std::vector<const char*>{"concurrency_16x2000"}
                               : std::vector<const char*>{"desc_fork_child", "desc_vfork",
                                                          "desc_exec_chain", "desc_child_thread"})
      args.push_back(c);
    const std::string b = makeBundle(cid, args, i % 2 ? "kernel-5.10" : "", agent().socket, env);
    running.emplace_back(cid, spawnContainer(b, cid));
  }
  for (auto& [cid, proc] : running) {
    const int st = proc.wait(120);
    EXPECT_EQ(exitText(st), "exit 0") << readFile(world().dir + "/" + cid + ".out");
    EXPECT_NE(readFile(world().dir + "/" + cid + ".out").find("PASS clone3_cf_v2"),
              std::string::npos);
  }
  EXPECT_TRUE(waitFor([&] { return childrenOf(agent().proc.pid).empty(); }, 10))
      << childrenOf(agent().proc.pid).size() << " server(s) left";
  EXPECT_EQ(fdCount(agent().proc.pid), fdsBefore);
}

TEST_P(Oci, StoppingTheAgentLeavesRunningContainersServedAndARestartServesNewOnes) {
  const std::string dir = world().dir;
  Agent first = Agent::start(dir, "stop-" + rt_.name);
  ASSERT_TRUE(first.ready()) << first.text();
  const std::string cid = id("stop");
  // 32000 probes: it is still probing when the agent stops a moment after
  // the container connected.
  const std::string b = makeBundle(cid, {"/probe_cases", "run", "concurrency_16x2000"}, "",
                                   first.socket, {"EXTSYS_EXPECT=emulated"});
  Background long_ = spawnContainer(b, cid);
  ASSERT_TRUE(waitFor(
      [&] { return first.text().find("container " + cid + " init") != std::string::npos; }, 30))
      << first.text();
  EXPECT_EQ(exitText(first.proc.stop()), "exit 0");
  EXPECT_NE(first.text().find("stopped accepting; 1 container server(s) keep serving"),
            std::string::npos)
      << first.text();
  EXPECT_FALSE(fs::exists(first.socket)) << "the agent removes the socket it made";

  // A new agent on the same path serves new containers meanwhile.
  Agent second = Agent::start(dir, "stop-" + rt_.name);
  ASSERT_TRUE(second.ready()) << second.text();
  const std::string cid2 = id("restart");
  const std::string b2 = makeBundle(cid2, {"/probe_cases", "run", "clone3_cf_v2"}, "",
                                    second.socket, {"EXTSYS_EXPECT=emulated"});
  RunResult r = runContainer(b2, cid2);
  EXPECT_EQ(r.exitCode(), 0) << r.describe() << second.text();

  const int st = long_.wait(180);
  EXPECT_EQ(exitText(st), "exit 0") << readFile(dir + "/" + cid + ".out") << first.text();
  // Its server went on answering after the accept loop had stopped.
  const std::string log = first.text();
  const size_t stopped = log.find("stopped accepting");
  ASSERT_NE(stopped, std::string::npos) << log;
  EXPECT_TRUE(hasLine(log.substr(stopped), {"container " + cid + " init (pid", "no task left"}))
      << log;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

TEST_P(Oci, ContainerStartTimeWithAndWithoutTheAgent) {
  // Three bundles running `probe_cases exit_code 0`: no seccomp section; the
  // extsys profile with its NOTIFY rules turned into ERRNO and no listener
  // (the same filter shape, no agent); the extsys profile with the agent.
  // Run round-robin so that load changes hit all three alike.
  const std::string cid = id("time");
  const std::vector<std::string> args{"/probe_cases", "exit_code", "0"};
  const std::string plain = makeBundle(cid + "-plain", args, "", "", {}, false);
  const std::string served = makeBundle(cid + "-agent", args, "", agent().socket);
  const std::string shaped = makeBundle(cid + "-filter", args, "", agent().socket);
  json c = json::parse(readFile(shaped + "/config.json"));
  json& sc = c["linux"]["seccomp"];
  sc.erase("listenerPath");
  sc.erase("listenerMetadata");
  for (auto& r : sc["syscalls"])
    if (r["action"] == "SCMP_ACT_NOTIFY") {
      r["action"] = "SCMP_ACT_ERRNO";
      r["errnoRet"] = ENOSYS;
    }
  std::ofstream(shaped + "/config.json") << c.dump(2);

  const std::vector<std::pair<const char*, std::string>> configs{
      {"no seccomp", plain}, {"filter, no agent", shaped}, {"extsys profile + agent", served}};
  std::vector<std::vector<double>> ms(configs.size());
  for (int i = 0; i < 10; ++i)
    for (size_t k = 0; k < configs.size(); ++k) {
      const auto t0 = Clock::now();
      RunResult r = runContainer(configs[k].second, cid + "-" + std::to_string(k));
      ms[k].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      EXPECT_EQ(r.exitCode(), 0) << configs[k].first << ": " << r.describe();
    }
  std::string line = "[ timing   ] " + rt_.name + " run, median of 10:";
  for (size_t k = 0; k < configs.size(); ++k) {
    line += fmt::format(" {} {:.1f} ms;", configs[k].first, median(ms[k]));
    RecordProperty(std::string("start_ms_") + std::to_string(k), std::to_string(median(ms[k])));
  }
  std::cout << line
            << fmt::format(" agent - no seccomp: {:+.1f} ms\n", median(ms[2]) - median(ms[0]));
}

INSTANTIATE_TEST_SUITE_P(Runtimes, Oci, ::testing::Values("runc", "crun"),
                         [](const auto& p) { return p.param; });

class WorldCleanup : public ::testing::Environment {
public:
  void TearDown() override {
    if (gWorld == nullptr)
      return;
    if (gWorld->agent)
      gWorld->agent->proc.stop();
    if (!gWorld->dir.empty())
      fs::remove_all(gWorld->dir);
    // Under load a runtime sometimes fails to remove a container's (empty)
    // cgroup; do not leave ours behind.
    const std::string mine = "-" + std::to_string(getpid()) + "-";
    auto removeOurs = [&](const fs::path& dir) {
      std::error_code ec;
      for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
           it.increment(ec)) {
        const std::string n = it->path().filename().string();
        if (n.starts_with("extsys-") && n.find(mine) != std::string::npos)
          rmdir(it->path().c_str());  // fails, harmlessly, unless empty
      }
    };
    removeOurs("/sys/fs/cgroup");  // cgroup v2
    std::error_code ec;
    for (auto it = fs::directory_iterator("/sys/fs/cgroup", ec);
         !ec && it != fs::directory_iterator(); it.increment(ec))
      removeOurs(it->path());  // v1: one hierarchy per controller
  }
};
const auto* kCleanup = ::testing::AddGlobalTestEnvironment(new WorldCleanup);

}  // namespace
}  // namespace extsys::test
