// SPDX-License-Identifier: MIT
// app/agent_command.cpp - `extsys agent` and `extsys oci-profile`.
#include "app/agent_command.h"

#include <CLI/CLI.hpp>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <optional>

#include "agent/agent.h"
#include "agent/container_state.h"
#include "agent/oci_profile.h"
#include "app/oci_files.h"
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
      "With --lxc-socket, also (or only) LXC containers' notifications, forwarded by\n"
      "their monitor (lxc.seccomp.notify.proxy = unix:PATH).\n"
      "Usage: extsys agent [--socket PATH] [--lxc-socket PATH] [--policy NAME|FILE] [OPTIONS]");
  cmd->footer(
      "Each container's policy is chosen by its listenerMetadata, 'policy=NAME' (NAME is\n"
      "looked up like --policy NAME; 'default' is the built-in default); without one,\n"
      "--policy applies. Generate the config.json section with `extsys oci-profile`.\n"
      "An LXC container's policy is chosen by its lxc.seccomp.notify.cookie, with the same\n"
      "'policy=NAME' grammar; generate its lxc.seccomp.profile with\n"
      "`extsys oci-profile --format lxc`. LXC reconnects to a restarted agent.\n"
      "Every container is served by its own process, which exits with the container.\n"
      "SIGTERM/SIGINT stop accepting new containers; running ones keep being served.\n"
      "Under systemd, a socket unit may pass the sockets (LISTEN_FDS) instead of --socket\n"
      "(ListenStream=) and --lxc-socket (ListenSequentialPacket=).\n"
      "--log-file and --audit append to a regular file of your own (created mode 0600); a\n"
      "symbolic link, another user's file or one with other hard links is refused.\n\n"
      "Exit status: 0 after SIGTERM/SIGINT; 2 for a usage error or an unusable --policy;\n"
      "1 if the agent cannot start (socket, --log-file, --audit, kernel features).\n\n"
      "Examples:\n"
      "  extsys agent --socket /run/extsys/agent.sock\n"
      "  extsys agent --lxc-socket /run/extsys/lxc.sock\n"
      "  extsys agent --policy kernel-6.1 --audit /var/log/extsys-audit.jsonl");
  cmd->add_option("--socket", o.socket,
                  std::string("UNIX socket to listen on (mode 0600); default: the socket "
                              "systemd passes, else ") +
                      kDefaultAgentSocket)
      ->check(nonEmpty());
  cmd->add_option("--lxc-socket", o.lxcSocket,
                  "UNIX seqpacket socket for LXC's seccomp proxy (lxc.seccomp.notify.proxy = "
                  "unix:PATH; mode 0600); alone, no OCI socket is opened")
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
  for (const auto& [flag, value] : {std::pair{"--socket", &o.socket},
                                     std::pair{"--lxc-socket", &o.lxcSocket}}) {
    if (value->empty())
      continue;
    // A usage error, said before anything starts (bind would only fail later).
    const std::string path = absolutePath(*value);
    if (sockaddr_un addr{}; path.size() >= sizeof addr.sun_path) {
      std::fprintf(stderr,
                   "extsys: agent: %s: %s is longer than %zu bytes, the most a UNIX socket "
                   "path may have\n",
                   flag, path.c_str(), sizeof addr.sun_path - 1);
      return kExitUsage;
    }
  }
  if (!o.socket.empty() && !o.lxcSocket.empty() &&
      absolutePath(o.socket) == absolutePath(o.lxcSocket)) {
    std::fprintf(stderr, "extsys: agent: --socket and --lxc-socket must differ\n");
    return kExitUsage;
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
  // --lxc-socket alone serves LXC only; with socket activation, whatever
  // systemd passes is served.
  a.serveOci = activated || !o.socket.empty() || o.lxcSocket.empty();
  a.socketPath = activated || !a.serveOci
                     ? absolutePath(o.socket)
                     : absolutePath(o.socket.empty() ? kDefaultAgentSocket : o.socket);
  a.lxcSocketPath = absolutePath(o.lxcSocket);
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
      "Usage: extsys oci-profile [--policy NAME|FILE] [--socket PATH] [--base PROFILE]\n"
      "                          [--into config.json]\n"
      "       extsys oci-profile --check FILE [--base PROFILE]\n"
      "       extsys oci-profile --format lxc [--policy NAME|FILE]");
  cmd->footer(
      "Without --base the section replaces the config's linux.seccomp and allows every\n"
      "other call. --base PROFILE composes the rules into an existing seccomp profile\n"
      "(podman's /usr/share/containers/seccomp.json, Docker's default, tools/containerd/\n"
      "runtime-default.json): calls the base denies keep its answer, calls it allows\n"
      "get extsys's (probes: the agent). --into merges the section into config.json in\n"
      "place: numbers exact, everything else byte for byte, the file replaced atomically\n"
      "(a Docker/podman-form base is resolved for that config's capabilities first).\n"
      "--check validates a profile or config.json made by any tool (exact bit-63 values,\n"
      "argument indexes, listenerPath, the base's rules with --base): run it after any\n"
      "merge not made by --into; exit status 0 if it is fine, 1 with findings.\n"
      "listenerMetadata names the policy ('policy=NAME'), so the agent serves the\n"
      "container with the policy the rules were made for. Generate it on the host that\n"
      "runs the containers: the rules depend on this kernel's features.\n\n"
      "Examples:\n"
      "  extsys oci-profile --policy kernel-5.10 --into bundle/config.json\n"
      "  extsys oci-profile --base /usr/share/containers/seccomp.json > seccomp.json\n"
      "  extsys oci-profile --check bundle/config.json\n"
      "  extsys oci-profile --format lxc --policy kernel-5.10 > /etc/lxc/extsys.seccomp\n\n"
      "--format lxc prints the same rules as an LXC seccomp policy (lxc.seccomp.profile,\n"
      "version 2) for containers whose monitor forwards notifications to\n"
      "`extsys agent --lxc-socket` (lxc.seccomp.notify.proxy = unix:PATH); set\n"
      "lxc.seccomp.notify.cookie = policy=NAME so that the agent uses the same policy.");
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
              "cannot be learned,\nor --base/--into cannot be composed or merged (the config "
              "is then unchanged).\n--check: 0 fine, 1 findings, 2 a file cannot be read.");
  cmd->add_flag("--no-cache", o.noCache,
                "discover the kernel's features again instead of using the per-boot cache");
  cmd->add_option("--format", o.format,
                  "oci: the linux.seccomp JSON section (default); lxc: an LXC seccomp policy "
                  "(lxc.seccomp.profile)")
      ->check(CLI::IsMember({"oci", "lxc"}));
  // issue 16: --base, --into, --check
  cmd->add_option("--base", o.base,
                  "compose into this seccomp profile (Docker/podman or OCI form) instead of "
                  "allowing every other call")
      ->check(CLI::ExistingFile);
  cmd->add_option("--into", o.into,
                  "merge into this config.json in place instead of printing")
      ->check(CLI::ExistingFile);
  cmd->add_option("--check", o.check,
                  "check this profile or config.json instead of generating one")
      ->check(CLI::ExistingFile)
      ->excludes("--into");
  return cmd;
}

namespace {

// --format lxc (issue 21): the rule table as LXC's policy text.
// What both profile formats start from: --policy applied to this kernel,
// its name checked to be one the agent can read back from `where` (the
// container's listenerMetadata or LXC cookie, "policy=NAME"). On failure the
// reason has been printed and `status` is the exit status.
struct ProfilePolicy {
  std::optional<policy::EffectivePolicy> effective;
  int status = 0;
};

ProfilePolicy profilePolicy(const OciProfileOptions& o, const char* where) {
  auto lookup = features(o.noCache);
  if (!lookup) {
    std::fprintf(stderr, "extsys: %s\n", lookup.error().message().c_str());
    return {std::nullopt, 1};
  }
  auto effective = effectiveFor(o.policy, lookup->features, 0);
  if (!effective)
    return {std::nullopt, policyError(effective.error().message())};
  if (auto md = agent::parseAgentMetadata("policy=" + effective->name); !md)
    return {std::nullopt, policyError(std::string("oci-profile: the policy's name cannot go into ") +
                                      where + ", so the agent could not find it (" +
                                      md.error().message() + ")")};
  return {std::move(*effective), 0};
}

int lxcProfileCommand(const OciProfileOptions& o) {
  if (!o.check.empty() || !o.into.empty() || !o.base.empty()) {
    std::fprintf(stderr, "extsys: oci-profile: --format lxc takes no --check, --into or --base\n");
    return kExitUsage;
  }
  // The agent reads the cookie back with the listenerMetadata grammar.
  auto [effective, status] = profilePolicy(o, "lxc.seccomp.notify.cookie");
  if (!effective)
    return status;
  const auto profile = agent::makeLxcProfile(filter::buildRules(*effective), effective->name);
  for (const auto& w : profile.warnings)
    log::app().warn("{}", w);
  std::fputs(profile.text.c_str(), stdout);
  return 0;
}

}  // namespace

int ociProfileCommand(const OciProfileOptions& o) {
  if (o.format == "lxc")
    return lxcProfileCommand(o);
  if (!o.check.empty())  // issue 16
    return checkCommand(o.check, o.base);
  const std::string listenerPath = absolutePath(o.socket);
  if (sockaddr_un addr{}; listenerPath.size() >= sizeof addr.sun_path) {
    std::fprintf(stderr,
                 "extsys: oci-profile: --socket: %s is longer than %zu bytes, the most a UNIX "
                 "socket path may have\n",
                 listenerPath.c_str(), sizeof addr.sun_path - 1);
    return kExitUsage;
  }
  auto [effective, status] = profilePolicy(o, "listenerMetadata");
  if (!effective)
    return status;
  agent::ProfileOptions po;
  po.listenerPath = listenerPath;
  po.listenerMetadata = "policy=" + effective->name;
  if (o.policy.find('/') != std::string::npos || o.policy.ends_with(".toml"))
    log::app().warn(
        "the agent looks policies up by NAME: '{}' must be in its policy "
        "directory (e.g. $EXTSYS_POLICY_DIR) as {}.toml",
        effective->name, effective->name);
  // issue 16: --base, --into
  std::optional<agent::ordered_json> config;
  if (!o.into.empty()) {
    auto c = readJsonFile(o.into);
    if (!c) {
      std::fprintf(stderr, "extsys: oci-profile: --into: %s\n", c.error().message().c_str());
      return 1;
    }
    config = std::move(*c);
  }
  auto section = seccompSection(filter::buildRules(*effective), effective->name, po, o.base,
                                config ? &*config : nullptr);
  if (!section) {
    std::fprintf(stderr, "extsys: oci-profile: %s\n", section.error().message().c_str());
    return 1;
  }
  if (config) {
    if (auto st = mergeIntoConfig(o.into, *section); !st) {
      std::fprintf(stderr, "extsys: oci-profile: --into: %s\n", st.error().message().c_str());
      return 1;
    }
    return 0;
  }
  const auto replace = nlohmann::json::error_handler_t::replace;
  std::printf("%s\n", section->dump(2, ' ', false, replace).c_str());
  return 0;
}

}  // namespace extsys::app
