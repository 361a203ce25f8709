// SPDX-License-Identifier: MIT
// integration/oci_support.cpp - the helpers of oci_support.h: processes in
// the background, the agent, the fake runtime, and the world of the real
// runtime tests with its cleanup at the end of the run.
#include "oci_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <seccomp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "filter/seccomp_filter.h"
#include "kernel/abi/syscalls.h"
#include "kernel/discovery/current_features.h"
#include "policy/toml_loader.h"
#include "subprocess.h"

namespace extsys::test {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kCheckFields = 1ULL << 63;

}  // namespace

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

bool hasLine(const std::string& text, std::initializer_list<std::string> parts) {
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);)
    if (std::all_of(parts.begin(), parts.end(),
                    [&](const std::string& p) { return line.find(p) != std::string::npos; }))
      return true;
  return false;
}

bool waitFor(const std::function<bool()>& cond, double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds * timeScale());
  while (Clock::now() < end) {
    if (cond())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

// ---------------------------------------------------------------------------
// Processes.

Background::Background(Background&& o) noexcept
    : pid(std::exchange(o.pid, -1)), log(std::move(o.log)) {}
Background& Background::operator=(Background&& o) noexcept {
  std::swap(pid, o.pid);
  std::swap(log, o.log);
  return *this;
}

Background Background::spawn(const std::vector<std::string>& argv, const std::string& log,
                              const std::function<void()>& inChild) {
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

int Background::wait(double seconds) {
  int status = -1;
  const bool done =
      waitFor([&] { return pid > 0 && waitpid(pid, &status, WNOHANG) == pid; }, seconds);
  if (!done)
    return -1;
  pid = -1;
  return status;
}

int Background::stop(int sig) {
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

Background::~Background() {
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

std::string exitText(int status) {
  if (status == -1)
    return "still running";
  if (WIFEXITED(status))
    return "exit " + std::to_string(WEXITSTATUS(status));
  return std::string("signal ") + strsignal(WTERMSIG(status));
}

Agent Agent::start(const std::string& dir, const std::string& name,
                   std::vector<std::string> extra, const std::string& socketName) {
  Agent a;
  a.socket = dir + "/" + (socketName.empty() ? name : socketName) + ".sock";
  a.log = dir + "/" + name + ".log";
  std::vector<std::string> argv{binary("EXTSYS"), "agent", "--socket", a.socket};
  argv.insert(argv.end(), extra.begin(), extra.end());
  a.proc = Background::spawn(argv, a.log);
  return a;
}

bool Agent::ready(double seconds) const {
  return waitFor([&] { return readFile(log).find("listening on") != std::string::npos; },
                 seconds);
}

std::string Agent::text() const { return readFile(log); }

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

int listeningUnixSocket(int type, const std::string& path) {
  const int l = socket(AF_UNIX, type, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (l < 0 || bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(l, 16) != 0) {
    ADD_FAILURE() << "cannot listen on " << path << ": " << std::strerror(errno);
    if (l >= 0)
      close(l);
    return -1;
  }
  return l;
}

// ---------------------------------------------------------------------------
// The protocol and a fake runtime.

const char* const kRuncPayload =
    R"({"ociVersion":"1.0.2-dev","fds":["seccompFd"],"pid":10760,"metadata":"hello-metadata",)"
    R"("state":{"ociVersion":"1.0.2-dev","id":"r1","status":"creating","pid":10760,)"
    R"("bundle":"/b","annotations":{"org.example.k":"v}\"{"}}})";

namespace {

filter::BpfProgram defaultProgram() {
  auto features = kernel::currentKernelFeatures(kernel::CacheMode::Use, "oci-test");
  EXPECT_TRUE(features);
  auto eff = policy::makeEffective(policy::defaultPolicy(), features->features);
  EXPECT_TRUE(eff);
  auto prog = filter::buildFilter(*eff);
  EXPECT_TRUE(prog);
  return *prog;
}

}  // namespace

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
    long rc = syscall(SYS_clone3, buf, kCheckFields | 88);
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
                    bool extraFd) {
  json j = json::parse(kRuncPayload);
  j["state"]["id"] = id;
  j["pid"] = getpid();
  j["metadata"] = metadata;
  if (extraFd)
    j["fds"] = {"other", "seccompFd"};
  return pretty ? j.dump(4) + "\n" : j.dump();
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

bool hybridCgroupsWithV2Controllers() {
  struct statfs sf {};
  if (statfs("/sys/fs/cgroup", &sf) != 0 || sf.f_type != TMPFS_MAGIC)
    return false;
  return !trim(readFile("/sys/fs/cgroup/unified/cgroup.controllers")).empty();
}

std::vector<std::string> Runtime::cmd(std::vector<std::string> args) const {
  args.insert(args.begin(), {path, "--root", stateDir});
  return args;
}

std::function<void()> Runtime::inChild() const {
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

namespace {

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
  // The static probe binary is the rootfs; policy_cases, escape_cases and
  // sleep (dynamic) bring their libraries.
  copyInto(w.rootfs, binary("PROBE_CASES_STATIC"), "/probe_cases");
  copyInto(w.rootfs, binary("POLICY_CASES"), "/policy_cases");
  copyInto(w.rootfs, binary("ESCAPE_CASES"), "/escape_cases");
  const std::string sleepBin = which("sleep");
  copyInto(w.rootfs, sleepBin, "/sleep");
  for (const auto& bin :
       {std::string(binary("POLICY_CASES")), std::string(binary("ESCAPE_CASES")), sleepBin})
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

std::string makeBundle(const std::string& name, std::vector<std::string> args,
                       const std::string& profilePolicy, const std::string& socket,
                       std::vector<std::string> env, bool withSeccomp) {
  World& w = world();
  const std::string b = w.dir + "/bundle-" + name;
  fs::create_directories(b);
  json c = w.baseConfig;
  c["process"]["terminal"] = false;
  c["process"]["args"] = args;
  for (const auto& e : env)
    c["process"]["env"].push_back(e);
  if (withSeccomp) {
    // The runtimes here use this host's libseccomp: a name it does not know
    // gets no rule, so its probes are not answered in the container
    // (src/agent/README.md). probe_cases then probes only the others.
    std::string known;
    for (const auto& d : kernel::syscallTable())
      if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, std::string(d.name).c_str()) >= 0)
        known += (known.empty() ? "" : ",") + std::string(d.name);
    c["process"]["env"].push_back("EXTSYS_PROBE_SYSCALLS=" + known);
  }
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

}  // namespace extsys::test
