// SPDX-License-Identifier: MIT
// integration/oci_support.h - what the oci tests (oci_protocol_test.cpp,
// oci_runtime_test.cpp) share: files and waiting, processes in the
// background, an `extsys agent` on its own socket, a fake runtime that sends
// a container's listener the way runc and crun do, and the world of the real
// runtime tests (one rootfs, one agent, bundles, runc/crun found in PATH).
#pragma once

#include <sys/types.h>

#include <csignal>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace extsys::test {

// ---------------------------------------------------------------------------
// Files, text and waiting.

// The whole file at `path` ("" if it cannot be read).
std::string readFile(const std::string& path);

// `s` without trailing white space.
std::string trim(std::string s);

// Some line of `text` holds every one of `parts`.
bool hasLine(const std::string& text, std::initializer_list<std::string> parts);

// Polls `cond` every 10 ms for up to `seconds`; its last answer.
bool waitFor(const std::function<bool()>& cond, double seconds);

// ---------------------------------------------------------------------------
// Processes.

// A process in the background with its output in a file.
struct Background {
  pid_t pid = -1;
  std::string log;

  Background() = default;
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  Background(Background&& o) noexcept;
  Background& operator=(Background&& o) noexcept;

  // Runs `argv` (PATH searched) in a process group of its own, stdin from
  // /dev/null, stdout and stderr appended to `log`; `inChild` runs before exec.
  static Background spawn(const std::vector<std::string>& argv, const std::string& log,
                          const std::function<void()>& inChild = {});

  // Raw wait status, or -1 on timeout.
  int wait(double seconds);
  // Sends `sig`, then SIGKILL if it has not ended within 10 s; its wait status.
  int stop(int sig = SIGTERM);
  ~Background();  // kills what is still running
};

// A wait status as text: "exit N", "signal NAME" or "still running" (-1).
std::string exitText(int status);

// An agent on its own socket, its log in a file.
struct Agent {
  Background proc;
  std::string socket;
  std::string log;

  // `extsys agent` on DIR/SOCKETNAME.sock (default NAME), logging to
  // DIR/NAME.log, with `extra` arguments.
  static Agent start(const std::string& dir, const std::string& name,
                     std::vector<std::string> extra = {}, const std::string& socketName = "");
  // Waits for "listening on" in its log.
  bool ready(double seconds = 20) const;
  std::string text() const;  // its log
};

// Pids of the live processes whose parent is `parent`.
std::vector<pid_t> childrenOf(pid_t parent);

// How many fds process `pid` has open (0 if it is gone).
size_t fdCount(pid_t pid);

// A unix socket of `type` bound to `path` and listening, as a systemd socket
// unit passes it (-1 and a test failure if it cannot be made).
int listeningUnixSocket(int type, const std::string& path);

// ---------------------------------------------------------------------------
// The protocol and a fake runtime: a child installs extsys's filter with a
// listener, sends the state and the fd the way runc (compact, one sendmsg) or
// crun (pretty, trailing newline) do - or in pieces - keeps the connection
// open, and runs `probe_cases run ...` (exit 0: answered byte-exact) or a
// raw probe.

// The container process state runc sends (compact JSON; an annotation holds
// "}" and an escaped quote).
extern const char* const kRuncPayload;

struct FakeSend {
  std::string json;
  std::vector<size_t> cuts;       // split the JSON here into several sendmsg calls
  bool extraFdFirst = false;      // "fds": ["other", "seccompFd"]
  std::vector<std::string> exec;  // run this after sending; empty: raw clone3 probe
};

// Child exit codes: 0 ok; 10+ setup step failed; for the raw probe: 20 +
// errno it got (ENOSYS -> 58, EEXTSYS_NOOP -> 154 & 0xff).
int fakeRuntime(const std::string& socketPath, const FakeSend& send);

// kRuncPayload for container `id` from this process with `metadata`; pretty
// (like crun) or compact; with an extra fd before the listener's.
std::string payload(const std::string& id, const std::string& metadata, bool pretty,
                    bool extraFd = false);

// ---------------------------------------------------------------------------
// Real runtimes.

// `name`'s path in PATH, or "".
std::string which(const std::string& name);

// crun 1.8 stops at "cgroups in hybrid mode not supported" when
// /sys/fs/cgroup is a tmpfs (v1 controllers) and the cgroup2 mount under it
// lists controllers.
bool hybridCgroupsWithV2Controllers();

// runc or crun with a state directory of its own.
struct Runtime {
  std::string name;
  std::string path;
  std::string stateDir;
  bool hideCgroup2Controllers = false;
  std::string emptyFile;

  // PATH --root STATEDIR ARGS...
  std::vector<std::string> cmd(std::vector<std::string> args) const;
  // Runs in the child before exec: the crun workaround, in a private mount
  // namespace that changes nothing outside it.
  std::function<void()> inChild() const;
};

// Everything the runtime tests share: one rootfs, one agent.
struct World {
  std::string dir, rootfs;
  std::unique_ptr<Agent> agent;
  nlohmann::json baseConfig;
  std::string skip;  // why runtime tests cannot run at all
  int seq = 0;
};

// The world, made on first use (the rootfs of the static probe binary plus
// policy_cases, escape_cases and sleep with their libraries, `runc spec`'s config, an agent
// with an audit log); removed with the containers' cgroups at the end.
World& world();

// A bundle whose container runs `args` (with `env` added) and whose
// linux.seccomp is `extsys oci-profile --policy PROFILEPOLICY` ("" = the
// default policy) sending to `socket`; no seccomp section if !withSeccomp.
std::string makeBundle(const std::string& name, std::vector<std::string> args,
                       const std::string& profilePolicy, const std::string& socket,
                       std::vector<std::string> env = {}, bool withSeccomp = true);

}  // namespace extsys::test
