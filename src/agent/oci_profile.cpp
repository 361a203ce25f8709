// SPDX-License-Identifier: MIT
// agent/oci_profile.cpp - effective policy -> OCI linux.seccomp.
#include "agent/oci_profile.h"

#include <seccomp.h>

#include <algorithm>
#include <cerrno>

#include "kernel/syscalls.h"
#include "kernel/uapi_compat.h"

namespace extsys::agent {
namespace {

using nlohmann::json;
constexpr uint64_t kCF = uapi::kCheckFields;

json maskedEq(unsigned index, uint64_t mask, uint64_t value) {
  return json{{"index", index}, {"value", mask}, {"valueTwo", value}, {"op", "SCMP_CMP_MASKED_EQ"}};
}

json rule(const std::string& name, const char* action, std::vector<json> args = {}) {
  json r{{"names", json::array({name})}, {"action", action}};
  if (!args.empty())
    r["args"] = std::move(args);
  return r;
}

json errnoRule(const std::string& name, int err, std::vector<json> args = {}) {
  json r = rule(name, "SCMP_ACT_ERRNO", std::move(args));
  r["errnoRet"] = err;
  return r;
}

}  // namespace

std::vector<std::string> ociArchitectures(bool includeCompat) {
  switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64:
      if (includeCompat)
        return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
      return {"SCMP_ARCH_X86_64"};
    case SCMP_ARCH_AARCH64:
      if (includeCompat)
        return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
      return {"SCMP_ARCH_AARCH64"};
    case SCMP_ARCH_RISCV64:
      return {"SCMP_ARCH_RISCV64"};
    case SCMP_ARCH_PPC64LE:
      return {"SCMP_ARCH_PPC64LE"};
    case SCMP_ARCH_S390X:
      if (includeCompat)
        return {"SCMP_ARCH_S390X", "SCMP_ARCH_S390"};
      return {"SCMP_ARCH_S390X"};
    default:
      return {};  // the runtime's native architecture only
  }
}

Result<Profile> makeOciProfile(const policy::EffectivePolicy& p, const ProfileOptions& o) {
  using policy::CallMode;
  using policy::ProbeMode;
  Profile out;
  json rules = json::array();
  bool notifies = false;

  // Same rules, same order as filter::buildFilter.
  for (const auto& d : kernel::syscallTable()) {
    const auto& es = p.of(d.id);
    const std::string name(d.name);
    const bool notifyProbes = es.probe == ProbeMode::Emulate;
    const bool notifyCalls = es.call == CallMode::Restrict;
    if (es.call == CallMode::Hide)
      rules.push_back(errnoRule(name, ENOSYS));
    else if (notifyProbes && notifyCalls)
      rules.push_back(rule(name, "SCMP_ACT_NOTIFY"));
    else if (notifyProbes)
      rules.push_back(rule(name, "SCMP_ACT_NOTIFY", {maskedEq(d.sizeArg, kCF, kCF)}));
    else if (notifyCalls)
      rules.push_back(rule(name, "SCMP_ACT_NOTIFY", {maskedEq(d.sizeArg, kCF, 0)}));
    notifies = notifies || (es.call != CallMode::Hide && (notifyProbes || notifyCalls));
  }
  std::vector<std::string> unconditional = p.enosys;
  for (const auto& name : p.enosys)
    rules.push_back(errnoRule(name, ENOSYS));
  for (const auto& r : p.argRules)
    if (r.forbidden == 0)
      unconditional.push_back(r.syscall);
  for (const auto& r : p.argRules) {
    const bool always =
        std::find(unconditional.begin(), unconditional.end(), r.syscall) != unconditional.end();
    if (r.forbidden == 0) {
      if (std::count(p.enosys.begin(), p.enosys.end(), r.syscall) == 0)
        rules.push_back(errnoRule(r.syscall, r.err));
      continue;
    }
    if (always)
      continue;
    for (unsigned b = 0; b < 64; ++b) {
      const uint64_t bit = 1ULL << b;
      if (r.forbidden & bit)
        rules.push_back(errnoRule(r.syscall, r.err, {maskedEq(r.arg, bit, bit)}));
    }
  }

  // Names the runtime's libseccomp may not know are skipped by runc and crun
  // (crun warns): say so, since the rule then does not exist.
  std::vector<std::string> unknown;
  for (const auto& r : rules) {
    const std::string name = r["names"][0].get<std::string>();
    if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name.c_str()) < 0 &&
        std::find(unknown.begin(), unknown.end(), name) == unknown.end())
      unknown.push_back(name);
  }
  for (const auto& name : unknown)
    out.warnings.push_back("syscall '" + name + "' is unknown to this host's libseccomp: a " +
                           "runtime linked with it skips its rule (the call is then allowed)");

  json s{{"defaultAction", "SCMP_ACT_ALLOW"}};
  const auto arches = ociArchitectures(!p.foreignAbisEnosys);
  if (!arches.empty())
    s["architectures"] = arches;
  if (notifies) {
    if (!o.listenerPath.empty())
      s["listenerPath"] = o.listenerPath;
    if (!o.listenerMetadata.empty())
      s["listenerMetadata"] = o.listenerMetadata;
  } else {
    out.warnings.push_back("policy '" + p.name + "' notifies nothing (every rule is decided in " +
                           "BPF): no listenerPath, containers do not need the agent");
  }
  s["syscalls"] = std::move(rules);
  out.seccomp = std::move(s);
  return out;
}

}  // namespace extsys::agent
