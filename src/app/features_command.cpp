// SPDX-License-Identifier: MIT
// app/features_command.cpp - `extsys features [--json] [--no-cache]`.
#include "app/features_command.h"

#include <fmt/format.h>

#include <cstdio>

#include "app/policy_files.h"
#include "config.h"
#include "policy/policy.h"
#include "kernel/abi/answers.h"
#include "kernel/discovery/current_features.h"
#include "kernel/features/features_json.h"
#include "kernel/abi/flag_names.h"
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

using kernel::SyscallId;

// Prints NAME VALUE BITS with the bit names wrapped under the BITS column.
void row(const char* syscall, std::string_view field, const std::string& value,
         const std::vector<std::string>& bits) {
  constexpr size_t kWidth = 100, kIndent = 52;
  std::string line = fmt::format("  {:<15}{:<13}{:<22}", syscall, field, value);
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
  std::printf("Kernel %s (%s)\n", f.release.c_str(), f.version.str().c_str());
  std::printf("Discovery: cache %s%s%s, %.0f us\n\n", kernel::cacheStateName(l.cache),
              l.cacheDir.empty() ? "" : (" in " + l.cacheDir).c_str(),
              l.cacheNote.empty() ? "" : (" (" + l.cacheNote + ")").c_str(), l.micros);
  std::printf("CHECK_FIELDS answers under `extsys run%s` (RFC v3 formula on this kernel%s):\n",
              e.name == "default" ? "" : (" --policy " + e.name).c_str(),
              e.name == "default" ? "" : ", then the policy");
  std::printf("  %-15s%-13s%-22s%s\n", "SYSCALL", "FIELD", "VALUE", "BITS");
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
    bool first = true;
    for (const auto& field : d.fields) {
      if (field.offset + 8u > a.ksize)
        continue;
      const uint64_t v = a.field(field.name);
      std::vector<std::string> bits = kernel::bitNames(d.id, field.name, v);
      if (kernel::flagNames(d.id, field.name).empty())
        bits = {v == ~0ULL ? "(all ones: field known)" : ""};
      row(first ? name.c_str() : "", field.name, kernel::hex64(v), bits);
      first = false;
      const uint64_t hidden = full[static_cast<size_t>(d.id)].field(field.name) & ~v;
      if (hidden && !kernel::flagNames(d.id, field.name).empty())
        row("", "  hidden", kernel::hex64(hidden), kernel::bitNames(d.id, field.name, hidden));
    }
    row("", "struct size", std::to_string(a.ksize), {});
  }
  std::printf("\nWhere the facts come from:\n");
  for (const auto& d : kernel::syscallTable()) {
    const auto& r = f.report(d.id);
    std::printf("  %-15s%s%s%s\n", std::string(d.name).c_str(), kernel::sourceName(r.source),
                r.note.empty() ? "" : ": ", r.note.c_str());
    for (const auto& x : r.disagreements)
      std::printf("  %-15s  probe and version table disagree on %s: table %s, probe %s (probe used)\n",
                  "", x.field.c_str(), kernel::hex64(x.table).c_str(), kernel::hex64(x.probe).c_str());
    if (r.unknownAccepted)
      std::printf("  %-15s  the kernel also accepts bits extsys does not know: %s (not reported)\n", "",
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
  std::printf("\nProcess model of `extsys run` for this user: %s\n  %s\n", mv.model().c_str(),
              mv.choice.reason.c_str());
}

}  // namespace

CLI::App* addFeaturesCommand(CLI::App& app, FeaturesOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "features", "Show what this kernel supports and what CHECK_FIELDS probes are answered.");
  cmd->add_flag("--json", o.json,
                "print JSON (schema extsys.features/1, see src/app/features.schema.json)");
  cmd->add_flag("--no-cache", o.noCache, "discover again; neither read nor write the cache");
  cmd->add_option("--policy", o.policy,
                  "show the answers under this policy (NAME or FILE), with what it hides");
  cmd->footer(
      "Facts come from safe active probes (no file opened, no mount changed, one throw-away\n"
      "child process), cached per boot in /run/extsys (root) or $XDG_RUNTIME_DIR/extsys.\n"
      "What needs privilege and cannot be probed is reported as coming from the version table.");
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
  if (!policy) {
    std::fprintf(stderr, "%s\n", policy.error().message().c_str());
    return 2;
  }
  auto effective = policy::makeEffective(*policy, lookup->features);
  if (!effective) {
    std::fprintf(stderr, "%s\n", effective.error().message().c_str());
    return 2;
  }
  if (o.json) {
    nlohmann::json j = kernel::featuresToJson(lookup->features);
    if (!o.policy.empty()) {
      nlohmann::json ps = nlohmann::json::object();
      for (const auto& d : kernel::syscallTable()) {
        const auto& decided = effective->of(d.id);
        const auto& a = effective->answers[static_cast<size_t>(d.id)];
        nlohmann::json fields = nlohmann::json::object();
        for (const auto& field : d.fields)
          if (field.offset + 8u <= a.ksize)
            fields[std::string(field.name)] = kernel::hex64(a.field(field.name));
        ps[std::string(d.name)] = {{"probe", policy::name(decided.probe)},
                                   {"call", policy::name(decided.call)},
                                   {"answer_size", a.ksize},
                                   {"answer", fields}};
      }
      j["policy"] = {{"name", policy->name},
                     {"mode", policy::name(effective->mode)},
                     {"probe_errno", effective->probeErrno},
                     {"syscalls", ps}};
    }
    j["extsys_version"] = EXTSYS_VERSION;
    j["process_model"] = modelJson(ModelView{});
    j["cache"] = {{"state", kernel::cacheStateName(lookup->cache)},
                  {"dir", lookup->cacheDir},
                  {"note", lookup->cacheNote}};
    std::puts(j.dump(2).c_str());
  } else {
    printTable(*lookup, *effective, ModelView{});
  }
  return 0;
}

}  // namespace extsys::app
