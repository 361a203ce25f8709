// SPDX-License-Identifier: MIT
// app/agent_command.h - the container commands:
//   `extsys agent`        serve seccomp listeners that OCI container runtimes
//                         send (linux.seccomp.listenerPath), and LXC's
//                         notification proxy (lxc.seccomp.notify.proxy);
//   `extsys oci-profile`  print the linux.seccomp section that makes a runtime
//                         install extsys's filter and send its listener there.
#pragma once

#include <string>

#include "app/cli_fwd.h"
#include "app/supervisor_flags.h"

namespace extsys::app {

inline constexpr const char* kDefaultAgentSocket = "/run/extsys/agent.sock";

struct AgentCommandOptions {
  std::string socket;  // empty: socket activation if LISTEN_FDS, else kDefaultAgentSocket
                       // (none when only --lxc-socket is given)
  std::string lxcSocket;  // LXC's lxc.seccomp.notify.proxy; empty: none (or systemd's)
  std::string policy;
  std::string audit;
  std::string logLevel = "info";
  std::string logFile;
  SupervisorFlags supervisor;
  int probeErrno = 0;
  int maxConnections = 1024;
  int maxFds = 16;
  bool noCache = false;
};

CLI::App* addAgentCommand(CLI::App& app, AgentCommandOptions& options);
int agentCommand(AgentCommandOptions options);

struct OciProfileOptions {
  std::string policy;
  std::string socket = kDefaultAgentSocket;
  std::string format = "oci";  // oci | lxc (issue 21)
  bool noCache = false;
  // issue 16: compose, merge in place, check
  std::string base;   // --base PROFILE.json
  std::string into;   // --into config.json
  std::string check;  // --check FILE
};

CLI::App* addOciProfileCommand(CLI::App& app, OciProfileOptions& options);
int ociProfileCommand(const OciProfileOptions& options);

}  // namespace extsys::app
