// SPDX-License-Identifier: MIT
// oci_protocol_test (integration) - the OCI seccomp-agent protocol without a
// container runtime: the container process state runc and crun send, parsed
// in-process (OciProtocol); the profile `extsys oci-profile` prints, built
// into a filter the way a runtime does and compared with extsys run's
// (OciProfile); and `extsys agent` served by a fake runtime in a child
// process - the protocol variants of both runtimes, bad metadata, a
// connection closed early, resources freed on exit (AgentProtocol) - plus
// socket activation and a live or stale socket (AgentSocket). The real
// runtimes are in oci_runtime_test.cpp.
#include <gtest/gtest.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "agent/container_state.h"
#include "agent/oci_profile.h"
#include "filter/seccomp_filter.h"
#include "kernel/discovery/current_features.h"
#include "oci_support.h"
#include "policy/toml_loader.h"
#include "subprocess.h"

namespace extsys::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------------------
// The protocol, in-process.

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
  // A runtime whose libseccomp knows every name adds each rule to every
  // architecture. This host's libseccomp may not know the newest syscalls
  // (2.5.4: open_tree_attr, *xattrat, file_*attr) and cannot add them by
  // number to the foreign ones, so then only the native architecture is
  // built: its block is what is compared.
  bool unknownNames = false;
  for (const auto& r : s["syscalls"])
    for (const auto& n : r["names"])
      unknownNames = unknownNames || seccomp_syscall_resolve_name_arch(
                                         SCMP_ARCH_NATIVE, n.get<std::string>().c_str()) < 0;
  for (const auto& a : s.value("architectures", json::array())) {
    std::string name = a.get<std::string>().substr(10);  // after SCMP_ARCH_
    for (char& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const uint32_t arch = seccomp_arch_resolve_name(name.c_str());
    EXPECT_NE(arch, 0u) << name;
    if (arch != seccomp_arch_native() && !unknownNames) {
      EXPECT_EQ(seccomp_arch_add(ctx, arch), 0) << name;
    }
  }
  for (const auto& r : s["syscalls"]) {
    const std::string act = r["action"];
    uint32_t a =
        act == "SCMP_ACT_ERRNO" ? SCMP_ACT_ERRNO(r["errnoRet"].get<uint16_t>()) : action(act);
    EXPECT_NE(a, 0u) << act;
    std::vector<scmp_arg_cmp> cmps;
    // As runc and crun read an argument: value and valueTwo (default 0) are
    // libseccomp's datum_a and datum_b.
    for (const auto& c : r.value("args", json::array())) {
      const std::string op = c["op"];
      EXPECT_TRUE(op == "SCMP_CMP_MASKED_EQ" || op == "SCMP_CMP_NE") << op;
      cmps.push_back({c["index"].get<unsigned>(),
                      op == "SCMP_CMP_NE" ? SCMP_CMP_NE : SCMP_CMP_MASKED_EQ,
                      c["value"].get<uint64_t>(), c.value("valueTwo", uint64_t{0})});
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

// The native architecture as libseccomp and OCI profiles name it, and how
// many architectures a profile lists when the compat ABIs stay open.
#if defined(__x86_64__)
constexpr const char* kPfcArch = "x86_64";
constexpr const char* kOciArch = "SCMP_ARCH_X86_64";
constexpr size_t kArchesWithCompat = 3;  // + SCMP_ARCH_X86, SCMP_ARCH_X32
#elif defined(__aarch64__)
constexpr const char* kPfcArch = "aarch64";
constexpr const char* kOciArch = "SCMP_ARCH_AARCH64";
constexpr size_t kArchesWithCompat = 2;  // + SCMP_ARCH_ARM
#else
#error "oci_protocol_test: this architecture's libseccomp and OCI names"
#endif

// The native architecture's block of a PFC dump.
std::string nativeBlock(const std::string& pfc) {
  const std::string head = std::string("# filter for arch ") + kPfcArch + " ";
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
    EXPECT_EQ(profile->seccomp["architectures"].size(), eff->foreignAbisEnosys ? 1u : kArchesWithCompat)
        << name;
    EXPECT_EQ(profile->seccomp["architectures"][0], kOciArch) << name;
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
  // Everything is decided in BPF (the probes of the syscalls it does not
  // restrict pass through to the kernel): no agent is needed.
  EXPECT_FALSE(s.contains("listenerPath"));
  EXPECT_EQ(s["architectures"], json{kOciArch});
  for (const auto& rule : s["syscalls"]) {
    if (rule["names"] == json{"clone3"} || rule["names"] == json{"openat2"}) {
      EXPECT_EQ(rule["action"], "SCMP_ACT_ERRNO") << rule.dump();
    }
  }

  r = run({{binary("EXTSYS"), "oci-profile", "--policy", "no-such-policy"}, {}, 60, {}});
  EXPECT_EQ(r.exitCode(), 2) << r.describe();
}

// ---------------------------------------------------------------------------
// The agent, with a fake runtime in a child process (oci_support.h).

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
  const int l = listeningUnixSocket(SOCK_STREAM, path);
  ASSERT_GE(l, 0);
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

}  // namespace
}  // namespace extsys::test
