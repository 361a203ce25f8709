// SPDX-License-Identifier: MIT
// app/features_command.cpp - `extsys features [--json] [--no-cache]`.
#include "app/features_command.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "app/policy_files.h"
#include "app/usage.h"
#include "base/errno_name.h"
#include "config.h"
#include "policy/policy.h"
#include "kernel/abi/answers.h"
#include "kernel/discovery/current_features.h"
#include "kernel/features/features_json.h"
#include "kernel/abi/flag_names.h"
#include "filter/rules.h"
#include "launcher/containment.h"
#include "launcher/process_model.h"

namespace extsys::app {
namespace {

// What `extsys run` (--process-model auto) would do for this user here.
struct ModelView {
  launcher::PtraceAccess access = launcher::currentPtraceAccess();
  launcher::ModelChoice choice = launcher::chooseProcessModel(launcher::ModelRequest::Auto, access);
  std::string model() const { return choice.model ? launcher::name(*choice.model) : "none"; }
};

nlohmann::json modelJson(const ModelView& v) {
  return {{"model", v.model()},
          {"reason", v.choice.reason},
          {"yama_ptrace_scope",
           v.access.yamaScope ? nlohmann::json(*v.access.yamaScope) : nlohmann::json(nullptr)},
          {"cap_sys_ptrace", v.access.capSysPtrace}};
}

// What `extsys run --policy P` would do about a supervisor and containment.
struct RunView {
  bool strict = false;
  bool supervised = true;
  launcher::ContainmentDecision containment;

  explicit RunView(const policy::EffectivePolicy& e)
      : strict(e.mode == policy::EnforceMode::Strict),
        supervised(!strict || filter::buildRules(e).notifies()) {
    if (strict)
      containment = launcher::decideContainment(e.containment, launcher::probeContainment(), e.name);
  }
  std::string level() const {
    if (!strict)
      return "none";
    return containment.refusal.empty() ? launcher::containmentLevelName(containment.planned.level)
                                       : "refused";
  }
};

nlohmann::json runJson(const policy::EffectivePolicy& e, const RunView& v) {
  nlohmann::json j{{"supervisor", v.supervised}};
  if (v.strict)
    j["containment"] = {{"accepts", policy::name(e.containment)},
                        {"level", v.level()},
                        {"landlock_abi", v.containment.planned.landlockAbi},
                        {"reason", v.containment.planned.reason},
                        {"refusal", v.containment.refusal},
                        {"warning", v.containment.warning}};
  return j;
}

using kernel::SyscallId;

// Prints NAME VALUE BITS with the bit names wrapped under the BITS column; a
// syscall name wider than its column gets a line of its own.
void row(const char* syscall, std::string_view field, const std::string& value,
         const std::vector<std::string>& bits) {
  constexpr size_t kWidth = 100, kIndent = 58;
  if (std::string_view(syscall).size() >= 15) {
    std::printf("  %s\n", syscall);
    syscall = "";
  }
  std::string line = fmt::format("  {:<15}{:<19}{:<22}", syscall, field, value);
  size_t col = line.size();
  for (const auto& b : bits) {
    if (col + b.size() + 1 > kWidth && col > kIndent) {
      line.pop_back();  // the separator
      std::puts(line.c_str());
      line = std::string(kIndent, ' ');
      col = kIndent;
    }
    line += b + " ";
    col += b.size() + 1;
  }
  while (!line.empty() && line.back() == ' ')
    line.pop_back();
  std::puts(line.c_str());
}

void printTable(const kernel::FeatureLookup& l, const policy::EffectivePolicy& e,
                const ModelView& mv) {
  const auto& f = l.features;
  std::printf("Kernel %s (%s), Landlock ABI %s\n", f.release.c_str(), f.version.str().c_str(),
              f.landlockAbi > 0 ? std::to_string(f.landlockAbi).c_str() : "none");
  std::printf("Discovery: cache %s%s%s, %.0f us\n\n", kernel::cacheStateName(l.cache),
              l.cacheDir.empty() ? "" : (" in " + l.cacheDir).c_str(),
              l.cacheNote.empty() ? "" : (" (" + l.cacheNote + ")").c_str(), l.micros);
  std::printf("CHECK_FIELDS answers under `extsys run%s` (RFC v3 formula on this kernel%s):\n",
              e.name == "default" ? "" : (" --policy " + e.name).c_str(),
              e.name == "default" ? "" : ", then the policy");
  std::printf("  %-15s%-19s%-22s%s\n", "SYSCALL", "FIELD", "VALUE", "BITS");
  const kernel::ProbeAnswers& answers = e.answers;
  const kernel::ProbeAnswers full = kernel::buildAnswers(f);
  for (const auto& d : kernel::syscallTable()) {
    const auto& a = answers[static_cast<size_t>(d.id)];
    const auto& decided = e.of(d.id);
    const std::string name(d.name);
    if (decided.probe == policy::ProbeMode::Hide) {
      row(name.c_str(), "-", "ENOSYS", {"(hidden by the policy)"});
      continue;
    }
    if (decided.probe == policy::ProbeMode::Passthrough) {
      row(name.c_str(), "-", "kernel", {"(the policy passes probes to the kernel)"});
      continue;
    }
    if (!a.present) {
      row(name.c_str(), "-", "ENOSYS", {"(the syscall does not exist here)"});
      continue;
    }
    if (a.disabledErrno != 0) {
      row(name.c_str(), "-", errnoName(a.disabledErrno), {"(present, but switched off)"});
      continue;
    }
    bool first = true;
    for (size_t i = 0; i < d.fields.size(); ++i) {
      const kernel::FieldDesc& field = d.fields[i];
      if (field.offset + field.width > a.ksize)
        continue;
      const uint64_t v = a.field(i);
      std::vector<std::string> bits = kernel::bitNames(d.id, field.name, v);
      if (!field.isFlags())
        bits = {v == field.allOnes() ? "(all ones: field known)" : ""};
      row(first ? name.c_str() : "", field.name, kernel::hex64(v), bits);
      first = false;
      const uint64_t hidden = full[static_cast<size_t>(d.id)].field(i) & ~v;
      if (hidden && field.isFlags())
        row("", "  hidden", kernel::hex64(hidden), kernel::bitNames(d.id, field.name, hidden));
    }
    row("", "struct size", std::to_string(a.ksize), {});
    for (size_t i = 0; i < d.args.size(); ++i) {
      const kernel::ArgCheck& c = d.args[i];
      if (!c.beforeSize || c.fixedMask)
        continue;  // only the arguments a probe is checked against
      const std::string label = "arg " + std::string(c.name);
      row("", label, kernel::hex64(a.argMasks[i]),
          kernel::argBitNames(d.id, c.name, a.argMasks[i]));
    }
  }
  std::printf("\nWhere the facts come from:\n");
  for (const auto& d : kernel::syscallTable()) {
    const auto& r = f.report(d.id);
    std::printf("  %-24s%s%s%s\n", std::string(d.name).c_str(), kernel::sourceName(r.source),
                r.note.empty() ? "" : ": ", r.note.c_str());
    for (const auto& x : r.disagreements)
      std::printf("  %-24s  probe and version table disagree on %s: table %s, probe %s (probe used)\n",
                  "", x.field.c_str(), kernel::hex64(x.table).c_str(), kernel::hex64(x.probe).c_str());
    if (r.unknownAccepted)
      std::printf("  %-24s  the kernel also accepts bits extsys does not know: %s (not reported)\n", "",
                  kernel::hex64(r.unknownAccepted).c_str());
  }
  const auto& n = f.notify;
  auto yn = [](bool b) { return b ? "yes" : "no"; };
  std::printf("\nSeccomp user notification (%s%s):\n", n.tested ? "tested" : "not tested",
              n.note.empty() ? "" : ("; " + n.note).c_str());
  std::printf("  listener %s, POLLHUP %s, ADDFD %s, ADDFD_FLAG_SEND %s, WAIT_KILLABLE_RECV %s, "
              "SYNC_WAKE_UP %s\n",
              yn(n.listener), yn(n.pollhup), yn(n.addfd), yn(n.addfdSend), yn(n.waitKillableRecv),
              yn(n.syncWakeUp));
  const RunView rv(e);
  if (!rv.supervised) {
    std::printf("\nNo supervisor under `extsys run --policy %s`: its filter notifies nothing "
                "(every call is decided in BPF); PROGRAM runs in place, with no extsys process "
                "beside it\n", e.name.c_str());
  } else {
    std::printf("\nProcess model of `extsys run` for this user: %s\n  %s\n", mv.model().c_str(),
                mv.choice.reason.c_str());
  }
  if (rv.strict) {
    const auto& c = rv.containment;
    std::printf("\nContainment under `extsys run --policy %s` (accepts %s): %s\n  %s\n",
                e.name.c_str(), policy::name(e.containment), rv.level().c_str(),
                c.refusal.empty() ? c.planned.reason.c_str() : c.refusal.c_str());
    if (!c.warning.empty())
      std::printf("  weaker: %s\n", c.warning.c_str());
  }
}

}  // namespace

CLI::App* addFeaturesCommand(CLI::App& app, FeaturesOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "features", "Show what this kernel supports and what CHECK_FIELDS probes are answered.");
  cmd->add_flag("--json", o.json,
                "print JSON (schema extsys.features/1, see src/app/features.schema.json)");
  cmd->add_flag("--no-cache", o.noCache, "discover again; neither read nor write the cache");
  cmd->add_option("--policy", o.policy,
                  "show the answers under this policy (NAME or FILE), with what it hides")
      ->check(nonEmpty());
  cmd->footer(
      "Facts come from safe active probes (no file opened, no mount changed, one throw-away\n"
      "child process), cached per boot in /run/extsys (root) or $XDG_RUNTIME_DIR/extsys.\n"
      "What needs privilege and cannot be probed is reported as coming from the version table.\n"
      "Under a seccomp filter (inside `extsys run`, a container) discovery sees what the filter\n"
      "answers: it runs afresh and the cache is neither read nor written (cache \"filtered\").\n\n"
      "Exit status: 0; 2 for a usage error or a policy that is invalid or unusable; 1 if this\n"
      "kernel's features cannot be learned.");
  return cmd;
}

int featuresCommand(const FeaturesOptions& o) {
  auto lookup = kernel::currentKernelFeatures(o.noCache ? kernel::CacheMode::Bypass
                                                        : kernel::CacheMode::Use,
                                              EXTSYS_VERSION);
  if (!lookup) {
    std::fprintf(stderr, "extsys: features: %s\n", lookup.error().message().c_str());
    return 1;
  }
  auto policy = loadPolicyArg(o.policy);
  if (!policy)
    return policyError(policy.error().message());
  auto effective = policy::makeEffective(*policy, lookup->features);
  if (!effective)
    return policyError(effective.error().message());
  if (o.json) {
    nlohmann::json j = kernel::featuresToJson(lookup->features);
    if (!o.policy.empty()) {
      nlohmann::json ps = nlohmann::json::object();
      for (const auto& d : kernel::syscallTable()) {
        const auto& decided = effective->of(d.id);
        const auto& a = effective->answers[static_cast<size_t>(d.id)];
        nlohmann::json fields = nlohmann::json::object();
        for (const auto& field : d.fields)
          if (field.offset + field.width <= a.ksize)
            fields[std::string(field.name)] = kernel::hex64(a.field(field.name));
        ps[std::string(d.name)] = {{"probe", policy::name(decided.probe)},
                                   {"call", policy::name(decided.call)},
                                   {"answer_size", a.ksize},
                                   {"answer", fields}};
      }
      j["policy"] = {{"name", policy->name},
                     {"mode", policy::name(effective->mode)},
                     {"probe_errno", effective->probeErrno},
                     {"syscalls", ps},
                     {"run", runJson(*effective, RunView(*effective))}};
    }
    j["extsys_version"] = EXTSYS_VERSION;
    j["process_model"] = modelJson(ModelView{});
    j["cache"] = {{"state", kernel::cacheStateName(lookup->cache)},
                  {"dir", lookup->cacheDir},
                  {"note", lookup->cacheNote}};
    // Names come from file names and uname: bytes that are not UTF-8 become
    // U+FFFD instead of an exception.
    std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    printTable(*lookup, *effective, ModelView{});
  }
  return 0;
}

}  // namespace extsys::app
