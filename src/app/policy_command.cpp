// SPDX-License-Identifier: MIT
// app/policy_command.cpp - validate and show policies.
#include "app/policy_command.h"

#include <CLI/CLI.hpp>
#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "app/policy_files.h"
#include "app/usage.h"
#include "base/errno_name.h"
#include "config.h"
#include "filter/rules.h"
#include "kernel/discovery/current_features.h"
#include "kernel/features/features_json.h"
#include "kernel/abi/flag_names.h"
#include "policy/personas.h"

namespace extsys::app {

using kernel::SyscallId;

namespace {

// "arg3 with any of 0xc00, arg0 != 0", or "(always)".
std::string describeChecks(const policy::ArgRule& r) {
  std::string out;
  for (const auto& c : r.checks) {
    if (!out.empty())
      out += ", ";
    const std::string arg = "arg" + std::to_string(c.arg);
    switch (c.test) {
      case policy::ArgTest::AnyBitOf:
        out += arg + " with any of " + kernel::hex64(c.value);
        break;
      case policy::ArgTest::Low32Eq:
        out += arg + " == " + kernel::hex64(c.value) + " (low 32 bits)";
        break;
      case policy::ArgTest::NonZero:
        out += arg + " != 0";
        break;
    }
  }
  return out.empty() ? "(always)" : out;
}

}  // namespace

void printEffective(const policy::Policy& p, const policy::EffectivePolicy& e,
                    const kernel::KernelFeatures& k) {
  std::printf("policy %s%s%s\n", p.name.c_str(), p.path.empty() ? " (built in)" : "",
              p.path.empty() ? "" : (" (" + p.path + ")").c_str());
  if (!p.description.empty())
    std::printf("  %s\n", p.description.c_str());
  std::printf("  mode %s, probe errno %d%s\n", policy::name(e.mode), e.probeErrno,
              e.persona ? (", persona " + std::to_string(e.persona->major) + "." +
                           std::to_string(e.persona->minor))
                              .c_str()
                        : "");
  if (e.mode == policy::EnforceMode::Strict)
    std::printf("  containment: at least %s (what this kernel gives: extsys features --policy)\n",
                policy::name(e.containment));
  const kernel::ProbeAnswers kernelAnswers = kernel::buildAnswers(k);
  for (const auto& d : kernel::syscallTable()) {
    const auto& decided = e.of(d.id);
    const auto& a = e.answers[static_cast<size_t>(d.id)];
    const auto& full = kernelAnswers[static_cast<size_t>(d.id)];
    std::printf("  %s: probes %s, calls %s", std::string(d.name).c_str(), policy::name(decided.probe),
                policy::name(decided.call));
    if (decided.call == policy::CallMode::Restrict)
      std::printf(" (violations: %s)", errnoName(decided.denyErrno));
    if (!p.syscalls[static_cast<size_t>(d.id)].reason.empty())
      std::printf("  # %s", p.syscalls[static_cast<size_t>(d.id)].reason.c_str());
    std::printf("\n");
    if (decided.probe == policy::ProbeMode::Emulate && a.present) {
      for (size_t f = 0; f < d.fields.size(); ++f) {
        const auto& field = d.fields[f];
        if (!field.isFlags() || field.offset + field.width > a.ksize)
          continue;
        const uint64_t v = a.field(field.name), hidden = full.field(field.name) & ~v;
        std::printf("    advertise %-12s %s\n", std::string(field.name).c_str(),
                    kernel::describeBits(d.id, field.name, v).c_str());
        if (hidden)
          std::printf("      hidden %-12s %s\n", std::string(field.name).c_str(),
                      kernel::describeBits(d.id, field.name, hidden).c_str());
      }
      if (a.ksize != full.ksize)
        std::printf("    struct size %u (kernel: %u)\n", a.ksize, full.ksize);
    }
    if (decided.call == policy::CallMode::Restrict) {
      for (size_t f = 0; f < d.fields.size(); ++f) {
        const auto& field = d.fields[f];
        if (kernel::flagNames(d.id, field.name).empty() || decided.allow[f] == ~0ULL)
          continue;
        std::printf("    allow     %-12s %s\n", std::string(field.name).c_str(),
                    decided.allow[f] ? kernel::describeBits(d.id, field.name, decided.allow[f]).c_str()
                                : "(nothing)");
      }
      if (decided.maxStructSize)
        std::printf("    struct size at most %u (larger with non-zero tail: E2BIG)\n",
                    decided.maxStructSize);
    }
  }
  // The rule table drops what this architecture has no call for.
  const auto& arch = kernel::nativeArch();
  const std::vector<std::string> absent = filter::buildRules(e, arch).absent;
  auto isAbsent = [&](const std::string& s) {
    return std::find(absent.begin(), absent.end(), s) != absent.end();
  };
  for (const auto& r : e.argRules)
    if (!isAbsent(r.syscall))
      std::printf("  BPF: %s %s -> %s  [%s] # %s\n", r.syscall.c_str(), describeChecks(r).c_str(),
                  errnoName(r.err), r.capability.c_str(), r.why.c_str());
  if (std::any_of(e.enosys.begin(), e.enosys.end(), [&](const auto& s) { return !isAbsent(s); })) {
    std::printf("  BPF: ENOSYS for");
    for (const auto& s : e.enosys)
      if (!isAbsent(s))
        std::printf(" %s", s.c_str());
    std::printf("\n");
  }
  if (e.foreignAbisEnosys)
    std::printf("  BPF: ENOSYS for every %s call\n", std::string(arch.compatAbis).c_str());
  if (!absent.empty()) {
    std::printf("  no rule (%s has no such call):", std::string(arch.name).c_str());
    for (const auto& s : absent)
      std::printf(" %s", s.c_str());
    std::printf("\n");
  }
  for (const auto& n : e.notes)
    std::printf("  note: %s\n", n.c_str());
  if (e.mode == policy::EnforceMode::Cooperative &&
      std::any_of(e.syscalls.begin(), e.syscalls.end(),
                  [](const auto& s) { return s.call == policy::CallMode::Restrict; }))
    std::printf("  note: cooperative restrictions check the struct, then let the call run: "
                "another thread can change it in between. Not a security boundary.\n");
}

PolicyCommands addPolicyCommand(CLI::App& app, PolicyOptions& o) {
  CLI::App* cmd = app.add_subcommand("policy", "Validate and show policies.");
  cmd->require_subcommand(1);
  PolicyCommands c;
  c.check = cmd->add_subcommand(
      "check", "Validate policy files (NAME or FILE) and print each effective policy.");
  c.check->add_option("policy", o.files, "NAME or FILE.toml")->required()->check(nonEmpty());
  c.check->add_flag("-q,--quiet", o.quiet, "only validate; print nothing when valid");
  c.check->footer(
      "Errors are printed as `extsys: FILE:LINE:COL: message`, or `extsys: FILE: message`\n"
      "for a file that is no regular file, larger than 1 MiB or refused. Exit status: 0 if\n"
      "every policy is valid, 2 if any is not (or for a usage error), 1 if this kernel's\n"
      "features cannot be learned.");
  c.list = cmd->add_subcommand(
      "list", "List the policies --policy NAME finds, directory by directory, in search order.");
  c.list->footer(
      "Search order: $EXTSYS_POLICY_DIR; the source tree's policies/ (a binary run from its\n"
      "build tree only); $XDG_CONFIG_HOME/extsys/policies (default\n"
      "$HOME/.config/extsys/policies); /etc/extsys/policies; the installed data directory.\n"
      "A policy found by NAME is used only if it and its directory are owned by root or by\n"
      "you and writable by no one else.");
  // Hidden: what the shell completions ask for (src/app/completions), so they
  // complete exactly the names --policy NAME finds.
  c.list->add_flag("--names", o.names, "only the names, one per line, each once")->group("");
  return c;
}

int policyCheckCommand(const PolicyOptions& o) {
  int rc = 0;
  std::optional<kernel::FeatureLookup> lookup;
  for (const auto& f : o.files) {
    auto p = loadPolicyArg(f);
    if (!p) {
      rc = policyError(p.error().message());
      continue;
    }
    if (o.quiet)
      continue;
    if (!lookup) {
      auto l = kernel::currentKernelFeatures(kernel::CacheMode::Use, EXTSYS_VERSION);
      if (!l) {
        std::fprintf(stderr, "extsys: cannot learn this kernel's features: %s\n",
                     l.error().message().c_str());
        return 1;
      }
      lookup = std::move(*l);
    }
    auto e = policy::makeEffective(*p, lookup->features);
    if (!e) {
      rc = policyError(e.error().message());
      continue;
    }
    printEffective(*p, *e, lookup->features);
  }
  return rc;
}

namespace {

// The NAMEs in DIR (files NAME.toml), sorted; false when DIR cannot be read.
bool policyNamesIn(const std::string& dir, std::vector<std::string>& names) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr)
    return false;
  while (dirent* ent = readdir(d)) {
    std::string n = ent->d_name;
    if (n.size() > 5 && n.ends_with(".toml"))
      names.push_back(n.substr(0, n.size() - 5));
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return true;
}

// policy list --names: every NAME once, for the shell completions.
int printPolicyNames() {
  std::vector<std::string> all;
  for (const auto& dir : policySearchDirs())
    (void)policyNamesIn(dir.path, all);
  for (const auto& v : policy::listedPersonas())
    all.push_back(policy::personaName(v));
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  for (const auto& n : all)
    std::printf("%s\n", n.c_str());
  return 0;
}

}  // namespace

int policyListCommand(const PolicyOptions& o) {
  if (o.names)
    return printPolicyNames();
  std::printf("Built-in personas: kernel-X.Y for every release %s-%s, no file. Listed: the\n"
              "releases where the version table changes something (the others behave like\n"
              "the one listed before them):\n",
              policy::personaLabel(policy::kOldestPersona).c_str(),
              policy::personaLabel(policy::kNewestPersona).c_str());
  std::map<std::string, std::string> seen;  // name -> the directory it is taken from
  for (const auto& v : policy::listedPersonas()) {
    const policy::Policy p = policy::personaPolicy(v);
    std::printf("  %-20s %s\n", p.name.c_str(), p.description.c_str());
  }
  std::printf("\nWhere `--policy NAME` looks for NAME.toml, first match wins:\n");
  for (const auto& dir : policySearchDirs()) {
    std::printf("\n%s  (%s)", dir.path.c_str(), dir.origin.c_str());
    std::vector<std::string> names;
    if (!policyNamesIn(dir.path, names)) {
      std::printf(": %s\n", errno == ENOENT ? "does not exist" : std::strerror(errno));
      continue;
    }
    std::printf("\n");
    if (names.empty())
      std::printf("  (no policies)\n");
    for (const auto& n : names) {
      auto p = loadFoundPolicy(dir.path, dir.path + "/" + n + ".toml");
      std::string what = p ? p->description : "INVALID: " + p.error().message();
      if (policy::parsePersonaName(n))
        what = "(not used: built-in persona) " + what;
      else if (auto it = seen.find(n); it != seen.end())
        what = "(not used: " + it->second + " has it first) " + what;
      else
        seen.emplace(n, dir.path);
      std::printf("  %-20s %s\n", n.c_str(), what.c_str());
    }
  }
  return 0;
}

}  // namespace extsys::app
