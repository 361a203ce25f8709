// SPDX-License-Identifier: MIT
// app/agent_command.cpp - `extsys agent` and `extsys oci-profile`.
#include "app/agent_command.h"

#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "agent/agent.h"
#include "agent/container_state.h"
#include "agent/oci_profile.h"
#include "app/policy_files.h"
#include "app/run_command.h"
#include "app/usage.h"
#include "base/log.h"
#include "config.h"
#include "kernel/discovery/current_features.h"

namespace extsys::app {
namespace {

// --policy NAME|FILE (empty: the built-in default) applied to this kernel.
Result<policy::EffectivePolicy> effectiveFor(const std::string& arg,
                                             const kernel::KernelFeatures& features,
                                             int probeErrno) {
  auto policy = loadPolicyArg(arg);
  if (!policy)
    return std::move(policy).error();
  auto effective = policy::makeEffective(*policy, features);
  if (effective && probeErrno != 0)
    effective->probeErrno = probeErrno;
  return effective;
}

Result<kernel::FeatureLookup> features(bool noCache) {
  auto lookup = kernel::currentKernelFeatures(
      noCache ? kernel::CacheMode::Bypass : kernel::CacheMode::Use, EXTSYS_VERSION);
  if (!lookup)
    return std::move(lookup).error().wrap("cannot learn this kernel's features");
  return lookup;
}

}  // namespace

CLI::App* addAgentCommand(CLI::App& app, AgentCommandOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "agent",
      "Serve the seccomp listeners of OCI containers (runc, crun, podman): the\n"
      "runtime sends each container's listener to --socket (linux.seccomp.listenerPath).\n"
      "Usage: extsys agent [--socket PATH] [--policy NAME|FILE] [OPTIONS]");
  cmd->footer(
      "Each container's policy is chosen by its listenerMetadata, 'policy=NAME' (NAME is\n"
      "looked up like --policy NAME; 'default' is the built-in default); without one,\n"
      "--policy applies. Generate the config.json section with `extsys oci-profile`.\n"
      "Every container is served by its own process, which exits with the container.\n"
      "SIGTERM/SIGINT stop accepting new containers; running ones keep being served.\n"
      "Under systemd, a socket unit may pass the socket (LISTEN_FDS) instead of --socket.\n"
      "--log-file and --audit append to a regular file of your own (created mode 0600); a\n"
      "symbolic link, another user's file or one with other hard links is refused.\n\n"
      "Exit status: 0 after SIGTERM/SIGINT; 2 for a usage error or an unusable --policy;\n"
      "1 if the agent cannot start (socket, --log-file, --audit, kernel features).\n\n"
      "Examples:\n"
      "  extsys agent --socket /run/extsys/agent.sock\n"
      "  extsys agent --policy kernel-6.1 --audit /var/log/extsys-audit.jsonl");
  cmd->add_option("--socket", o.socket,
                  std::string("UNIX socket to listen on (mode 0600); default: the socket "
                              "systemd passes, else ") +
                      kDefaultAgentSocket)
      ->check(nonEmpty());
  cmd->add_option("--policy", o.policy,
                  "policy NAME or FILE for containers whose listenerMetadata names none; "
                  "default: advertise everything, restrict nothing")
      ->check(nonEmpty());
  cmd->add_option("--audit", o.audit, "append one JSON line per supervisor decision to FILE")
      ->check(nonEmpty());
  cmd->add_option("--probe-errno", o.probeErrno,
                  "errno a successful probe returns (default: the policy's, else 134)")
      ->check(CLI::Range(1, 4095));
  cmd->add_option("--log-level", o.logLevel, "trace|debug|info|warn|error|off (default info)")
      ->check(
          CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "critical", "off"}));
  cmd->add_option("--log-file", o.logFile, "append log lines to FILE instead of stderr ('-')")
      ->check(nonEmpty());
  cmd->add_option("--max-connections", o.maxConnections,
                  "most connections served at once, each by its own process (one per container "
                  "process and exec); more are closed at once, with a log line (default 1024)")
      ->check(CLI::Range(1, 65536));
  cmd->add_option("--max-fds", o.maxFds,
                  "most file descriptors a connection may pass (SCM_RIGHTS); a connection "
                  "passing more is dropped, every fd closed, with a log line (default 16)")
      ->check(CLI::Range(1, 253));
  cmd->add_flag("--no-cache", o.noCache,
                "discover the kernel's features again instead of using the per-boot cache");
  addSupervisorFlags(cmd, o.supervisor, "one container at once");
  return cmd;
}

int agentCommand(AgentCommandOptions o) {
  auto level = log::parseLevel(o.logLevel);
  if (!level)
    return policyError("agent: " + level.error().message());
  log::setLevel(*level);
  if (o.audit == "-") {
    std::fprintf(stderr, "extsys: agent: --audit needs a FILE ('-' is not supported)\n");
    return kExitUsage;
  }
  if (!o.socket.empty()) {
    // A usage error, said before anything starts (bind would only fail later).
    const std::string path = absolutePath(o.socket);
    if (sockaddr_un addr{}; path.size() >= sizeof addr.sun_path) {
      std::fprintf(stderr,
                   "extsys: agent: --socket: %s is longer than %zu bytes, the most a UNIX socket "
                   "path may have\n",
                   path.c_str(), sizeof addr.sun_path - 1);
      return kExitUsage;
    }
  }
  if (o.logFile == "-")
    o.logFile.clear();  // stderr, the default
  o.logFile = absolutePath(o.logFile);
  o.audit = absolutePath(o.audit);
  auto lookup = features(o.noCache);
  if (!lookup) {
    std::fprintf(stderr, "extsys: %s\n", lookup.error().message().c_str());
    return 1;
  }
  // The default policy is checked now, so a typo fails at start, not per container.
  if (auto e = effectiveFor(o.policy, lookup->features, o.probeErrno); !e)
    return policyError(e.error().message());
  // Opened once here, so that a path that cannot be used stops the agent at
  // start with its own message, not each container's server later.
  for (const std::string* path : {&o.audit, &o.logFile})
    if (auto st = checkOutputFile(*path); !st) {
      std::fprintf(stderr, "extsys: %s\n", st.error().message().c_str());
      return 1;
    }

  agent::AgentOptions a;
  const bool activated = o.socket.empty() && std::getenv("LISTEN_FDS") != nullptr;
  a.socketPath = activated ? "" : absolutePath(o.socket.empty() ? kDefaultAgentSocket : o.socket);
  a.logFile = o.logFile;
  a.maxConnections = o.maxConnections;
  a.maxFdsPerConnection = o.maxFds;
  a.supervisor = supervisorOptions(o.supervisor, lookup->features.notify.syncWakeUp);
  a.supervisor.auditPath = o.audit;
  a.resolvePolicy = [features = lookup->features, defaultPolicy = o.policy,
                     probeErrno = o.probeErrno](const std::string& name) {
    return effectiveFor(name.empty() ? defaultPolicy : name, features, probeErrno);
  };
  return agent::run(a);
}

CLI::App* addOciProfileCommand(CLI::App& app, OciProfileOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "oci-profile",
      "Print the linux.seccomp section of an OCI config.json for a container served by\n"
      "`extsys agent`: probes notified, the policy's hide and strict rules in BPF.\n"
      "Usage: extsys oci-profile [--policy NAME|FILE] [--socket PATH]");
  cmd->footer(
      "The section replaces the config's linux.seccomp (a container has one filter). Its\n"
      "listenerMetadata names the policy ('policy=NAME'), so the agent serves the container\n"
      "with the policy the rules were made for. Generate it on the host that runs the\n"
      "containers: the rules depend on this kernel's features.\n\n"
      "Example:\n"
      "  extsys oci-profile --policy kernel-5.10 > seccomp.json\n"
      "  jq --slurpfile s seccomp.json '.linux.seccomp = $s[0]' config.json > c && mv c "
      "config.json");
  cmd->add_option("--policy", o.policy,
                  "policy NAME or FILE (the agent finds it by NAME, so a FILE must also be in "
                  "its policy directory); default: the built-in default")
      ->check(nonEmpty());
  cmd->add_option("--socket", o.socket, "the agent's socket (listenerPath), made absolute")
      ->capture_default_str()
      ->check(nonEmpty());
  cmd->footer(cmd->get_footer() +
              "\n\nExit status: 0; 2 for a usage error or a policy that is invalid, unusable "
              "or whose\nname cannot go into listenerMetadata; 1 if this kernel's features "
              "cannot be learned.");
  cmd->add_flag("--no-cache", o.noCache,
                "discover the kernel's features again instead of using the per-boot cache");
  return cmd;
}

int ociProfileCommand(const OciProfileOptions& o) {
  const std::string listenerPath = absolutePath(o.socket);
  if (sockaddr_un addr{}; listenerPath.size() >= sizeof addr.sun_path) {
    std::fprintf(stderr,
                 "extsys: oci-profile: --socket: %s is longer than %zu bytes, the most a UNIX "
                 "socket path may have\n",
                 listenerPath.c_str(), sizeof addr.sun_path - 1);
    return kExitUsage;
  }
  auto lookup = features(o.noCache);
  if (!lookup) {
    std::fprintf(stderr, "extsys: %s\n", lookup.error().message().c_str());
    return 1;
  }
  auto effective = effectiveFor(o.policy, lookup->features, 0);
  if (!effective)
    return policyError(effective.error().message());
  agent::ProfileOptions po;
  po.listenerPath = listenerPath;

  po.listenerMetadata = "policy=" + effective->name;
  // The agent must be able to read back what the profile names.
  if (auto md = agent::parseAgentMetadata(po.listenerMetadata); !md)
    return policyError("oci-profile: the policy's name cannot go into listenerMetadata, so the "
                       "agent could not find it (" + md.error().message() + ")");
  if (o.policy.find('/') != std::string::npos || o.policy.ends_with(".toml"))
    log::app().warn(
        "the agent looks policies up by NAME: '{}' must be in its policy "
        "directory (e.g. $EXTSYS_POLICY_DIR) as {}.toml",
        effective->name, effective->name);
  auto profile = agent::makeOciProfile(*effective, po);
  if (!profile) {
    std::fprintf(stderr, "extsys: %s\n", profile.error().message().c_str());
    return 1;
  }
  for (const auto& w : profile->warnings)
    log::app().warn("{}", w);
  const auto replace = nlohmann::json::error_handler_t::replace;
  std::printf("%s\n", profile->seccomp.dump(2, ' ', false, replace).c_str());
  return 0;
}

}  // namespace extsys::app
