// SPDX-License-Identifier: MIT
// app/run_command.cpp - `extsys run [options] -- PROGRAM [ARGS...]`.
#include "app/run_command.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "app/policy_files.h"
#include "app/usage.h"
#include "base/files.h"
#include "base/log.h"
#include "config.h"
#include "filter/seccomp_filter.h"
#include "kernel/discovery/current_features.h"
#include "launcher/launcher.h"
#include "launcher/process_model.h"
#include "supervisor/supervisor.h"

namespace extsys::app {
namespace {

// Everything the supervisor process does, from start-up to exit. The
// effective policy and its answer images were built before the fork.
int superviseMain(launcher::Handshake& h, const RunOptions& o, policy::EffectivePolicy effective,
                  bool kernelHasSyncWakeUp, const std::string& modelLine) {
  const std::string policyName = effective.name;
  auto fail = [&](const Error& e) {
    h.ready(e);
    return 1;
  };
  // Not dumpable: a same-uid PROGRAM cannot ptrace the supervisor, read or
  // write its memory (process_vm_*, /proc/PID/mem) or take its fds
  // (pidfd_getfd). In place the supervisor is born so (the launcher set it
  // before the fork, since PROGRAM does not wait for us); in the ancestor
  // model this comes before PROGRAM exists. Signals are not covered by
  // this; see launcher/containment.h.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    return fail(Error::fromErrno(errno, "prctl(PR_SET_DUMPABLE, 0)"));
  supervisor::SupervisorOptions so = supervisorOptions(o.supervisor, kernelHasSyncWakeUp);
  so.auditPath = o.audit;
  auto sup = supervisor::Supervisor::create(std::move(effective), so);
  if (!sup)
    return fail(sup.error());

  auto listener = h.awaitListener();
  if (!listener)
    return 0;  // the launcher failed and said why

  const bool logToStderr = o.logFile == "-";
  if (!o.logFile.empty() && !logToStderr) {
    if (auto st = log::toFile(o.logFile, "supervisor"); !st)
      return fail(st.error());
  } else if (logToStderr) {
    (void)log::toStderr("supervisor");
  }
  h.ready(okStatus());
  launcher::detachStdio(logToStderr ? launcher::KeepStderr::Yes : launcher::KeepStderr::No);
  if (o.logFile.empty())
    log::toNowhere();
  log::supervisor().info("serving {} (policy {}, {})", o.command.front(), policyName, modelLine);

  if (auto st = (*sup)->serve(std::move(*listener)); !st) {
    log::supervisor().error("Failed to serve the listener: {}", st.error().message());
    return 1;
  }
  const auto& c = (*sup)->counters();
  log::supervisor().info(
      "no tasks left: {} worker(s); answered {}, rejected {}, faulted {}, gone {}, "
      "unwritable {}, calls allowed {}, denied {}",
      (*sup)->workersStarted(), c.answered, c.rejected, c.faulted, c.gone, c.unwritable, c.allowed,
      c.denied);
  return 0;
}

// A message that ends the run: always printed, whatever --log-level says.
int fatal(int status, const std::string& message) {
  std::fprintf(stderr, "extsys: %s\n", message.c_str());
  return status;
}

}  // namespace

Status checkOutputFile(const std::string& path) {
  if (path.empty() || path == "-")
    return okStatus();
  auto fd = openAppendFile(path);
  if (!fd)
    return std::move(fd).error();
  return okStatus();
}

std::string absolutePath(const std::string& path) {
  if (path.empty() || path == "-" || path.front() == '/')
    return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr)
    return path;
  return std::string(cwd) + "/" + path;
}

CLI::App* addRunCommand(CLI::App& app, RunOptions& o) {
  CLI::App* run = app.add_subcommand(
      "run",
      "Run PROGRAM with CHECK_FIELDS probes answered.\n"
      "Usage: extsys run [OPTIONS] [--] PROGRAM [ARGS...]");
  run->footer(
      "Every openat2, clone3 and mount_setattr call whose size argument has bit 63\n"
      "(CHECK_FIELDS) set is answered as the RFC v3 kernel would, and so are\n"
      "open_tree_attr, setxattrat, getxattrat, file_getattr, file_setattr and\n"
      "landlock_create_ruleset (extsys's proposal, src/kernel/abi/CHECK_FIELDS.md);\n"
      "all other calls go straight to the kernel unless a policy restricts them.\n\n"
      "Process model (--process-model, default auto; `extsys features` shows which):\n"
      "  in-place  extsys becomes PROGRAM: same pid, parent, process group, terminal\n"
      "            and exit status. Used without Yama, with ptrace_scope=0, or with\n"
      "            CAP_SYS_PTRACE (root).\n"
      "  ancestor  for Yama ptrace_scope=1 without CAP_SYS_PTRACE, where only an\n"
      "            ancestor may write into a process: PROGRAM runs as a child of the\n"
      "            supervisor, in extsys's process group and terminal; extsys stays in\n"
      "            front, forwards the signals sent to it, stops when PROGRAM stops and\n"
      "            exits with PROGRAM's status (death by a signal included).\n"
      "  With ptrace_scope=2 (and no CAP_SYS_PTRACE) or 3 no model can answer probes:\n"
      "  extsys exits 125 unless a model is forced.\n\n"
      "Strict policies (sandbox-strict) are a sandbox: PROGRAM runs in a Landlock domain\n"
      "that keeps it from ptrace, /proc/PID/mem, process_vm_*, pidfd_getfd, signals and\n"
      "abstract unix sockets to any process outside its own tree (Landlock ABI 6, Linux\n"
      "6.12). On Landlock ABI 1-5 only the ptrace-class part holds: extsys refuses to\n"
      "start (125) unless --containment ptrace-only; without Landlock, unless\n"
      "--containment none. A weaker containment is always logged. A policy whose filter\n"
      "notifies nothing (sandbox-strict) runs without a supervisor: PROGRAM execs in\n"
      "place and nothing of extsys stays behind. See policies/README.md.\n\n"
      "no_new_privs is set only where the kernel requires it to install the filter\n"
      "(no CAP_SYS_ADMIN) and under a strict policy; root with a cooperative policy\n"
      "runs set-id programs normally, and --nested=passthrough never sets it.\n\n"
      "--log-file and --audit append to a regular file of your own, created mode 0600;\n"
      "a symbolic link, another user's file or one with other hard links is refused.\n\n"
      "Exit status: PROGRAM's, or 2 for a usage error (unknown option, bad value, no\n"
      "PROGRAM, a policy that is invalid, not found, not a regular file or refused),\n"
      "125 if extsys failed (e.g. --audit or --log-file cannot be opened), 126 if\n"
      "PROGRAM cannot be executed (or its #! interpreter), 127 if it (or its\n"
      "interpreter) was not found. With 2 and 125 nothing was started.\n\n"
      "Examples:\n"
      "  extsys run -- ./my-program --its-flag\n"
      "  extsys run --policy kernel-5.10 -- ./my-program   # test fallbacks as on 5.10\n"
      "  extsys run --policy sandbox-strict --audit /tmp/audit.jsonl -- ./untrusted\n"
      "  extsys run --probe-errno 200 -- ./my-program   # avoid 134 (EFTYPE on 7.2+)");
  run->add_option("--policy", o.policy,
                  "policy NAME (searched as `extsys policy list` shows) or FILE.toml; default: "
                  "advertise everything, restrict nothing")
      ->check(nonEmpty());
  run->add_option("--audit", o.audit, "append one JSON line per supervisor decision to FILE")
      ->check(nonEmpty());
  run->add_option("--probe-errno", o.probeErrno,
                  "errno a successful probe returns (default: the policy's, else 134 = "
                  "EEXTSYS_NOOP of the RFC; on Linux >= 7.2, 134 also means EFTYPE)")
      ->check(CLI::Range(1, 4095));
  run->add_option("--log-level", o.logLevel, "trace|debug|info|warn|error|off (default warn)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "critical",
                             "off"}));
  run->add_option("--log-file", o.logFile,
                  "where the supervisor (and, in the ancestor model, extsys itself) logs "
                  "once PROGRAM runs; '-' keeps stderr (which then stays open as long as "
                  "the supervisor lives). Default: start-up errors only")
      ->check(nonEmpty());
  run->add_option("--nested", o.nested,
                  "when PROGRAM is already under another seccomp listener: fail (exit 125) "
                  "or passthrough (run it without extsys, and without no_new_privs)")
      ->check(CLI::IsMember({"fail", "passthrough"}));
  run->add_option("--process-model", o.processModel,
                  "auto (default: from Yama's ptrace_scope and CAP_SYS_PTRACE), in-place or "
                  "ancestor (see below)")
      ->check(CLI::IsMember({"auto", "in-place", "ancestor"}));
  run->add_option("--containment", o.containment,
                  "strict policies: the weakest containment to accept where the kernel gives "
                  "less - full (default), ptrace-only or none (see below); overrides the "
                  "policy's containment key")
      ->check(CLI::IsMember({"full", "ptrace-only", "none"}));
  run->add_flag("--audit-hidden", o.auditHidden,
                "with --audit: also record the probes and calls of the syscalls the policy "
                "hides (ENOSYS), by having the supervisor answer them instead of the filter "
                "(cooperative policies; extsys matrix uses it)");
  run->add_flag("--no-cache", o.noCache,
               "discover the kernel's features again instead of using the per-boot cache");
  addSupervisorFlags(run, o.supervisor, "at once");
  // PROGRAM and its arguments are split off before parsing (see
  // splitCommand); without `--`, the first non-option ends extsys's options.
  run->prefix_command();
  return run;
}

std::vector<std::string> splitCommand(int& argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "run" || std::string_view(argv[i]) == "matrix") {
      for (int j = i + 1; j < argc; ++j)
        if (std::string_view(argv[j]) == "--") {
          std::vector<std::string> command(argv + j + 1, argv + argc);
          argc = j;
          return command;
        }
      return {};
    }
    if (argv[i][0] != '-')
      return {};  // another subcommand
  }
  return {};
}

int runCommand(RunOptions o) {
  if (o.command.empty())
    return fatal(kExitUsage,
                 "run: no PROGRAM given (usage: extsys run [OPTIONS] -- PROGRAM [ARGS...])");
  if (!o.command.front().empty() && o.command.front().front() == '-')
    return fatal(kExitUsage, "run: unknown option '" + o.command.front() +
                                 "' (see extsys run --help)");
  auto level = log::parseLevel(o.logLevel);
  if (!level)
    return fatal(kExitUsage, "run: " + level.error().message());
  log::setLevel(*level);
  auto request = launcher::parseModelRequest(o.processModel);
  if (!request)
    return fatal(kExitUsage, "run: " + request.error().message());
  if (o.audit == "-")
    return fatal(kExitUsage, "run: --audit needs a FILE ('-' is not supported; --log-file - "
                             "keeps the log on stderr)");
  auto policy = loadPolicyArg(o.policy);
  if (!policy)
    return policyError(policy.error().message());  // nothing started
  if (!o.containment.empty()) {
    if (policy->mode != policy::EnforceMode::Strict)
      return fatal(kExitUsage, "run: --containment applies to strict policies; policy " +
                                   policy->name + " is cooperative (not a sandbox: nothing to contain)");
    policy->containment = *policy::parseContainmentFloor(o.containment);  // checked by CLI11
  }
  o.logFile = absolutePath(o.logFile);
  o.audit = absolutePath(o.audit);
  // Opened here as the supervisor will open them, so that a path that cannot
  // be used stops everything with its own message (the supervisor, which
  // opens them again, could only report it through the handshake).
  for (const std::string* path : {&o.audit, &o.logFile})
    if (auto st = checkOutputFile(*path); !st)
      return fatal(launcher::kExitLauncherFailed, st.error().message());

  auto lookup = kernel::currentKernelFeatures(
      o.noCache ? kernel::CacheMode::Bypass : kernel::CacheMode::Use, EXTSYS_VERSION);
  if (!lookup)
    return fatal(launcher::kExitLauncherFailed,
                 "cannot learn this kernel's features: " + lookup.error().message());
  for (const auto& d : kernel::syscallTable())
    for (const auto& x : lookup->features.report(d.id).disagreements)
      log::app().warn("{} {}: probe and version table disagree (table {:#x}, probe {:#x}); "
                      "using the probe", d.name, x.field, x.table, x.probe);
  auto effective = policy::makeEffective(*policy, lookup->features);
  if (!effective)
    return policyError(effective.error().message());
  if (o.probeErrno != 0)
    effective->probeErrno = o.probeErrno;

  launcher::LaunchSpec spec;
  spec.argv = o.command;
  spec.nested = o.nested == "passthrough" ? launcher::NestedMode::Passthrough
                                          : launcher::NestedMode::Fail;
  filter::RuleSet rules = filter::buildRules(*effective);
  if (o.auditHidden && !o.audit.empty())
    filter::notifyHidden(rules, *effective);
  // A strict policy whose filter notifies nothing needs no supervisor: no
  // process of extsys stays, so there is none to attack either.
  spec.supervised = rules.notifies() || effective->mode != policy::EnforceMode::Strict;
  std::string modelLine;
  if (spec.supervised) {
    const launcher::ModelChoice choice =
        launcher::chooseProcessModel(*request, launcher::currentPtraceAccess());
    if (!choice.model)
      return fatal(launcher::kExitLauncherFailed, "run: " + choice.reason);
    spec.model = *choice.model;
    // With a log file, the supervisor says it there (extsys's stderr is
    // PROGRAM's).
    modelLine = fmt::format("process model: {} ({})", launcher::name(spec.model), choice.reason);
    if (o.logFile.empty() || o.logFile == "-")
      log::app().info("{}", modelLine);
    if (!choice.warning.empty())
      log::app().warn("{}", choice.warning);
  } else {
    log::app().info("no supervisor: policy {} decides every call in BPF (its filter notifies "
                    "nothing); {} runs in place", effective->name, o.command.front());
    if (!o.audit.empty())
      log::app().warn("--audit {}: policy {} has no supervisor, so there are no decisions to "
                      "record (nothing is written)", o.audit, effective->name);
  }
  if (effective->mode == policy::EnforceMode::Strict) {
    const auto d = launcher::decideContainment(effective->containment,
                                               launcher::probeContainment(), effective->name);
    if (!d.refusal.empty())
      return fatal(launcher::kExitLauncherFailed, "run: " + d.refusal);
    if (!d.warning.empty())
      log::app().warn("{}", d.warning);
    log::app().info("containment: {} ({})", launcher::containmentLevelName(d.planned.level),
                    d.planned.reason);
    spec.containment = d.planned.level;
  }
  // A strict policy is a sandbox: set-id programs must not gain privileges
  // in it. Otherwise only where the kernel demands it.
  spec.noNewPrivs = effective->mode == policy::EnforceMode::Strict
                        ? launcher::NoNewPrivs::Always
                        : launcher::NoNewPrivs::WhenRequired;
  spec.frontLog = o.logFile;
  auto program = filter::buildFilter(rules);
  if (!program)
    return fatal(launcher::kExitLauncherFailed,
                 "cannot build the seccomp filter: " + program.error().message());
  spec.program = std::move(*program);
  const bool sync = lookup->features.notify.syncWakeUp;
  return launcher::launch(spec, [&](launcher::Handshake& h) {
    return superviseMain(h, o, std::move(*effective), sync, modelLine);
  });
}

}  // namespace extsys::app
