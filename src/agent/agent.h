// SPDX-License-Identifier: MIT
// agent/agent.h - `extsys agent`: the OCI seccomp agent. Container runtimes
// (runc >= 1.1, crun >= 0.19) connect to its socket (linux.seccomp.listenerPath)
// once per container process and per exec, and send the container process
// state plus the seccomp listener; the agent serves each listener with the
// same supervisor core as `extsys run`.
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
  std::string socketPath;  // bind here; empty: systemd socket activation
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

// The listening socket systemd passed (LISTEN_FDS=1, LISTEN_PID=us, fd 3),
// checked to be a listening AF_UNIX stream socket. Unsets the variables.
// Returns -1 (and no error) when not socket-activated.
[[nodiscard]] Result<int> socketFromSystemd();

}  // namespace extsys::agent
