// SPDX-License-Identifier: MIT
// agent/agent.h - `extsys agent`: the OCI seccomp agent. Container runtimes
// (runc >= 1.1, crun >= 0.19) connect to its socket (linux.seccomp.listenerPath)
// once per container process and per exec, and send the container process
// state plus the seccomp listener; the agent serves each listener with the
// same supervisor core as `extsys run`.
//
// LXC (lxc.seccomp.notify.proxy) is served on a second socket, --lxc-socket:
// see agent/lxc_proxy.h. The same process model: one server per connection,
// i.e. per container, answering its monitor's messages one at a time.
//
// Process model: one accept loop; one forked server process per connection.
// The server reads the state, picks the container's policy from
// listenerMetadata, serves the listener until no task uses it (POLLHUP) and
// exits, which frees everything the container held. A crashed or slow
// container affects only its own server. Stopping the accept loop (SIGTERM,
// SIGINT) leaves running servers alone: containers keep their answers until
// they exit. See src/agent/README.md.
//
// Threading: single-threaded; run() blocks. Call it before any thread exists
// (it forks).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "base/result.h"
#include "policy/policy.h"
#include "supervisor/supervisor.h"

namespace extsys::agent {

// Turns a policy NAME from listenerMetadata (empty: the agent's default)
// into the effective policy for this kernel. Runs in the per-container
// server process, so a policy file edited on disk applies to the next
// container without a restart.
using PolicyResolver = std::function<Result<policy::EffectivePolicy>(const std::string& name)>;

struct AgentOptions {
  // The OCI socket (SOCK_STREAM): bind here; empty: the one systemd passes.
  std::string socketPath;
  bool serveOci = true;  // false: no OCI socket (--lxc-socket alone)
  // The LXC proxy socket (SOCK_SEQPACKET, lxc.seccomp.notify.proxy): bind
  // here; empty: the one systemd passes, if it passes one, else none.
  std::string lxcSocketPath;
  PolicyResolver resolvePolicy;
  supervisor::SupervisorOptions supervisor;  // shared by every container
  std::string logFile;                       // empty: stderr
  std::chrono::milliseconds stateTimeout{10000};
  size_t maxStateBytes = 1 << 20;
  // Server processes alive at once; a connection beyond that is closed at
  // once (its container's notified calls then get ENOSYS), with a log line.
  int maxConnections = 1024;
  // File descriptors one connection may pass in all (runc and crun pass one
  // or two); more: every one is closed and the connection dropped.
  int maxFdsPerConnection = 16;
};

// Returns the exit status: 0 after SIGTERM/SIGINT, 1 if the socket could not
// be set up.
int run(const AgentOptions& options);

// The listening sockets systemd passed (LISTEN_PID=us, LISTEN_FDS=1 or 2
// from fd 3), each a listening AF_UNIX socket told apart by its type: the
// stream one for OCI runtimes (ListenStream=), the seqpacket one for LXC
// (ListenSequentialPacket=). Unsets the variables. Both -1 (and no error)
// when not socket-activated.
struct ActivatedSockets {
  int oci = -1;
  int lxc = -1;
};
[[nodiscard]] Result<ActivatedSockets> socketsFromSystemd();

}  // namespace extsys::agent
