// SPDX-License-Identifier: MIT
// agent/oci_profile.cpp - rule table -> OCI linux.seccomp.
#include "agent/oci_profile.h"

#include <seccomp.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "kernel/abi/arch.h"

namespace extsys::agent {
namespace {

using nlohmann::json;

const char* ociAction(filter::ActionKind k) {
  switch (k) {
    case filter::ActionKind::Allow: return "SCMP_ACT_ALLOW";
    case filter::ActionKind::Notify: return "SCMP_ACT_NOTIFY";
    case filter::ActionKind::Errno: return "SCMP_ACT_ERRNO";
  }
  return "SCMP_ACT_KILL_PROCESS";
}

const char* ociOp(filter::CmpOp op) {
  switch (op) {
    case filter::CmpOp::MaskedEq: return "SCMP_CMP_MASKED_EQ";
    case filter::CmpOp::Ne: return "SCMP_CMP_NE";
  }
  return "?";
}

// Names the runtime's libseccomp may not know are skipped by runc and crun
// (crun warns): say so, since the rule then does not exist.
void warnUnknownNames(const filter::RuleSet& rules, std::vector<std::string>& warnings) {
  std::vector<std::string> unknown;
  for (const auto& r : rules.rules) {
    if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, r.syscall.c_str()) < 0 &&
        std::find(unknown.begin(), unknown.end(), r.syscall) == unknown.end())
      unknown.push_back(r.syscall);
  }
  for (const auto& name : unknown)
    warnings.push_back("syscall '" + name + "' is unknown to this host's libseccomp: a " +
                       "runtime linked with it skips its rule (the call is then allowed)");
}

}  // namespace

nlohmann::json ociRule(const filter::Rule& r) {
  nlohmann::json out{{"names", nlohmann::json::array({r.syscall})},
                     {"action", ociAction(r.action.kind)}};
  if (!r.conditions.empty()) {
    nlohmann::json args = nlohmann::json::array();
    // As libseccomp's datum_a and datum_b: MASKED_EQ takes (mask, value),
    // NE takes (value).
    for (const auto& c : r.conditions) {
      if (c.op == filter::CmpOp::Ne)
        args.push_back({{"index", c.arg}, {"value", c.value}, {"op", ociOp(c.op)}});
      else
        args.push_back(
            {{"index", c.arg}, {"value", c.mask}, {"valueTwo", c.value}, {"op", ociOp(c.op)}});
    }
    out["args"] = std::move(args);
  }
  if (r.action.kind == filter::ActionKind::Errno)
    out["errnoRet"] = r.action.err;
  return out;
}

std::vector<std::string> ociArchitectures(bool includeCompat) {
  const auto& arch = kernel::nativeArch();
  std::vector<std::string> out{std::string(arch.ociArch)};
  if (includeCompat)
    for (const auto& c : arch.ociCompat)
      if (!c.empty())
        out.emplace_back(c);
  return out;
}

Result<Profile> makeOciProfile(const filter::RuleSet& rules, const std::string& policyName,
                               const ProfileOptions& o) {
  Profile out;
  warnUnknownNames(rules, out.warnings);
  json seccomp{{"defaultAction", ociAction(rules.defaultAction.kind)}};
  // Listing an architecture applies the rules to it; the ones not listed get
  // the runtime's bad-architecture action (src/agent/README.md).
  const auto arches = ociArchitectures(rules.foreignAbi == filter::Action::allow());
  if (!arches.empty())
    seccomp["architectures"] = arches;
  if (rules.notifies()) {
    if (!o.listenerPath.empty())
      seccomp["listenerPath"] = o.listenerPath;
    if (!o.listenerMetadata.empty())
      seccomp["listenerMetadata"] = o.listenerMetadata;
  } else {
    out.warnings.push_back("policy '" + policyName + "' notifies nothing (every rule is decided " +
                           "in BPF): no listenerPath, containers do not need the agent");
  }
  json syscalls = json::array();
  for (const auto& r : rules.rules)
    syscalls.push_back(ociRule(r));
  seccomp["syscalls"] = std::move(syscalls);
  out.seccomp = std::move(seccomp);
  return out;
}

LxcProfile makeLxcProfile(const filter::RuleSet& rules, const std::string& policyName) {
  LxcProfile out;
  warnUnknownNames(rules, out.warnings);
  out.text = "2\ndenylist\n# extsys: policy " + policyName +
             " (extsys oci-profile --format lxc); every other call is allowed\n";
  if (rules.foreignAbi != filter::Action::allow())
    out.warnings.push_back("policy '" + policyName + "' closes the foreign ABIs (32-bit calls), " +
                           "which LXC's policy format cannot express: under LXC they get the " +
                           "same rules as native calls, no more");
  if (!rules.notifies())
    out.warnings.push_back("policy '" + policyName + "' notifies nothing (every rule is decided " +
                           "in BPF): LXC needs no lxc.seccomp.notify.proxy");
  char buf[96];
  for (const auto& r : rules.rules) {
    std::string line = r.syscall;
    switch (r.action.kind) {
      case filter::ActionKind::Allow: line += " allow"; break;
      case filter::ActionKind::Notify: line += " notify"; break;
      case filter::ActionKind::Errno: line += " errno " + std::to_string(r.action.err); break;
    }
    for (const auto& c : r.conditions) {
      if (c.op == filter::CmpOp::Ne)
        std::snprintf(buf, sizeof buf, " [%u,%#" PRIx64 ",SCMP_CMP_NE]", c.arg, c.value);
      else
        std::snprintf(buf, sizeof buf, " [%u,%#" PRIx64 ",SCMP_CMP_MASKED_EQ,%#" PRIx64 "]",
                      c.arg, c.value, c.mask);
      line += buf;
    }
    out.text += line + "\n";
  }
  return out;
}

Result<Profile> makeOciProfile(const policy::EffectivePolicy& p, const ProfileOptions& o) {
  return makeOciProfile(filter::buildRules(p), p.name, o);
}

}  // namespace extsys::agent
