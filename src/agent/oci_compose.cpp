// SPDX-License-Identifier: MIT
// agent/oci_compose.cpp - rule table + base profile -> one profile.
#include "agent/oci_compose.h"

#include <seccomp.h>
#include <sys/utsname.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <map>

#include "kernel/abi/syscalls.h"
#include "kernel/abi/uapi_compat.h"

namespace extsys::agent {
namespace {

Error bad(const std::string& why) { return Error(EINVAL, why); }


std::string actionOf(const ordered_json& rule) {
  auto it = rule.find("action");
  return it != rule.end() && it->is_string() ? it->get<std::string>() : "";
}

bool isAllow(const std::string& action) { return action == "SCMP_ACT_ALLOW"; }

ordered_json toOrdered(const nlohmann::json& j) { return ordered_json::parse(j.dump()); }

// `rule` for `name` alone, with `action` (errnoRet as `errnoRet`, 0: none)
// and `args`.
ordered_json withName(const ordered_json& rule, const std::string& name) {
  ordered_json out = ordered_json::object();
  for (const auto& [k, v] : rule.items()) {
    if (k == "name")
      continue;
    out[k] = k == "names" ? ordered_json::array({name}) : v;
  }
  if (!out.contains("names"))
    out["names"] = ordered_json::array({name});
  return out;
}

void setAction(ordered_json& rule, const ordered_json& from) {
  rule["action"] = from["action"];
  if (from.contains("errnoRet"))
    rule["errnoRet"] = from["errnoRet"];
  else
    rule.erase("errnoRet");
}

// The one condition of an extsys rule in OCI form, and its complement.
struct Split {
  ordered_json cond, complement;
  int arg = 0;
};

Result<Split> splitOf(const filter::Rule& r) {
  const auto& c = r.conditions.front();
  Split s;
  s.arg = c.arg;
  s.cond = toOrdered(ociRule(r))["args"][0];
  s.complement = s.cond;
  if (c.op == filter::CmpOp::Ne) {
    s.complement["op"] = "SCMP_CMP_EQ";
  } else if (std::has_single_bit(c.mask)) {
    s.complement["valueTwo"] = c.value ^ c.mask;
  } else {
    return bad("extsys's rule for " + r.syscall + " compares several bits at once; it cannot " +
               "be composed into a base rule");
  }
  return s;
}

bool usesArg(const ordered_json& rule, int arg) {
  auto it = rule.find("args");
  if (it == rule.end() || !it->is_array())
    return false;
  return std::any_of(it->begin(), it->end(), [arg](const ordered_json& a) {
    return a.contains("index") && a["index"] == arg;
  });
}

ordered_json withArg(ordered_json rule, const ordered_json& cond) {
  if (!rule.contains("args") || !rule["args"].is_array())
    rule["args"] = ordered_json::array();
  rule["args"].push_back(cond);
  return rule;
}

}  // namespace

// A rule's syscall names: "names", or the older single "name".
std::vector<std::string> namesOf(const ordered_json& rule) {
  std::vector<std::string> out;
  if (auto it = rule.find("names"); it != rule.end() && it->is_array()) {
    for (const auto& n : *it)
      if (n.is_string())
        out.push_back(n.get<std::string>());
  } else if (auto one = rule.find("name"); one != rule.end() && one->is_string()) {
    out.push_back(one->get<std::string>());
  }
  return out;
}

Result<ordered_json> composeWithBase(const ordered_json& base, const filter::RuleSet& rules,
                                     const ProfileOptions& o, std::vector<std::string>& warnings) {
  if (!base.is_object() || !base.contains("defaultAction") || !base["defaultAction"].is_string())
    return bad("the base profile has no defaultAction: not a seccomp profile");
  if (base.contains("syscalls") && !base["syscalls"].is_array())
    return bad("the base profile's syscalls is not an array");
  if (base.contains("listenerPath"))
    return bad("the base profile already has a listenerPath: compose into a profile without one");
  if (!(rules.foreignAbi == filter::Action::allow()))
    return bad("a strict policy (foreign ABIs closed) cannot be composed with --base: the "
               "base's architectures would reopen them");
  // extsys's rules by syscall, in table order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<filter::Rule>> ours;
  for (const auto& r : rules.rules) {
    if (!ours.contains(r.syscall))
      order.push_back(r.syscall);
    ours[r.syscall].push_back(r);
  }
  std::map<std::string, bool> named;  // named by some base rule
  ordered_json out = ordered_json::object();
  ordered_json syscalls = ordered_json::array();
  const ordered_json empty = ordered_json::array();
  for (const auto& r : base.contains("syscalls") ? base["syscalls"] : empty) {
    const auto names = namesOf(r);
    std::vector<std::string> rest, touched;
    for (const auto& n : names)
      (ours.contains(n) ? touched : rest).push_back(n);
    if (touched.empty()) {
      syscalls.push_back(r);
      continue;
    }
    if (!rest.empty()) {
      ordered_json kept = r;
      kept.erase("name");
      kept["names"] = rest;
      syscalls.push_back(std::move(kept));
    }
    for (const auto& x : touched) {
      named[x] = true;
      ordered_json mine = withName(r, x);
      if (!isAllow(actionOf(r))) {
        syscalls.push_back(std::move(mine));  // the base denies it: its answer stays
        continue;
      }
      const auto& table = ours[x];
      if (table.size() != 1)
        return bad("extsys's table has " + std::to_string(table.size()) + " rules for " + x +
                   ", which the base allows: --base composes one rule per syscall");
      const ordered_json rendered = toOrdered(ociRule(table.front()));
      if (table.front().conditions.empty()) {
        setAction(mine, rendered);
        syscalls.push_back(std::move(mine));
        continue;
      }
      if (table.front().conditions.size() != 1)
        return bad("extsys's rule for " + x + " has several conditions; it cannot be composed");
      auto split = splitOf(table.front());
      if (!split)
        return std::move(split).error();
      if (usesArg(r, split->arg))
        return bad("a base rule for " + x + " already compares argument " +
                   std::to_string(split->arg) + ", which extsys's rule needs");
      // Allowed calls first: on an ABI where libseccomp cannot compare 64-bit
      // arguments both rules lose their condition, and the first one added
      // stays (the base's answer).
      syscalls.push_back(withArg(mine, split->complement));
      ordered_json probe = withArg(mine, split->cond);
      setAction(probe, rendered);
      syscalls.push_back(std::move(probe));
    }
  }
  const bool defaultAllows = isAllow(base["defaultAction"].get<std::string>());
  for (const auto& x : order) {
    if (named[x])
      continue;
    if (defaultAllows) {
      for (const auto& r : ours[x])
        syscalls.push_back(toOrdered(ociRule(r)));
    } else {
      warnings.push_back("the base denies " + x + " (its defaultAction " +
                         base["defaultAction"].get<std::string>() +
                         "): its probes get the base's answer, not the agent's");
    }
  }
  const bool notifies = std::any_of(syscalls.begin(), syscalls.end(), [](const ordered_json& r) {
    return actionOf(r) == "SCMP_ACT_NOTIFY";
  });
  for (const auto& [k, v] : base.items()) {
    if (k == "syscalls")
      continue;
    out[k] = v;
  }
  if (notifies && !o.listenerPath.empty())
    out["listenerPath"] = o.listenerPath;
  if (notifies && !o.listenerMetadata.empty())
    out["listenerMetadata"] = o.listenerMetadata;
  out["syscalls"] = std::move(syscalls);
  return out;
}

namespace {

// libseccomp's name of the native architecture, and Go's (Docker's
// includes.arches).
std::pair<std::string, std::string> nativeArch() {
  switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64: return {"SCMP_ARCH_X86_64", "amd64"};
    case SCMP_ARCH_AARCH64: return {"SCMP_ARCH_AARCH64", "arm64"};
    case SCMP_ARCH_RISCV64: return {"SCMP_ARCH_RISCV64", "riscv64"};
    case SCMP_ARCH_PPC64LE: return {"SCMP_ARCH_PPC64LE", "ppc64le"};
    case SCMP_ARCH_S390X: return {"SCMP_ARCH_S390X", "s390x"};
    default: return {"", ""};
  }
}

bool contains(const ordered_json& list, const std::string& s) {
  return list.is_array() && std::find(list.begin(), list.end(), s) != list.end();
}

// "6.18.3-foo" >= "5.8"?
bool kernelAtLeast(const std::string& min) {
  utsname u{};
  uname(&u);
  int a = 0, b = 0, x = 0, y = 0;
  std::sscanf(u.release, "%d.%d", &a, &b);
  std::sscanf(min.c_str(), "%d.%d", &x, &y);
  return a != x ? a > x : b >= y;
}

bool gatesHold(const ordered_json& rule, const std::vector<std::string>& caps) {
  const std::string arch = nativeArch().second;
  auto hasCap = [&](const ordered_json& c) {
    return c.is_string() && std::find(caps.begin(), caps.end(), c.get<std::string>()) != caps.end();
  };
  if (auto in = rule.find("includes"); in != rule.end() && in->is_object()) {
    if (in->contains("caps") && !std::all_of((*in)["caps"].begin(), (*in)["caps"].end(), hasCap))
      return false;
    if (in->contains("arches") && !contains((*in)["arches"], arch))
      return false;
    if (in->contains("minKernel") && (*in)["minKernel"].is_string() &&
        !kernelAtLeast((*in)["minKernel"].get<std::string>()))
      return false;
  }
  if (auto ex = rule.find("excludes"); ex != rule.end() && ex->is_object()) {
    if (ex->contains("caps") && std::any_of((*ex)["caps"].begin(), (*ex)["caps"].end(), hasCap))
      return false;
    if (ex->contains("arches") && contains((*ex)["arches"], arch))
      return false;
  }
  return true;
}

}  // namespace

Result<ordered_json> resolveForContainer(const ordered_json& profile,
                                         const std::vector<std::string>& caps) {
  ordered_json out = ordered_json::object();
  for (const auto& [k, v] : profile.items()) {
    if (k == "archMap") {
      const std::string native = nativeArch().first;
      for (const auto& m : v) {
        if (!m.is_object() || m.value("architecture", "") != native)
          continue;
        ordered_json arches = ordered_json::array({native});
        for (const auto& sub : m.value("subArchitectures", ordered_json::array()))
          arches.push_back(sub);
        out["architectures"] = arches;
      }
    } else if (k == "defaultErrno") {
      continue;  // Docker's name for defaultErrnoRet; runtimes do not read it
    } else if (k == "syscalls") {
      ordered_json rules = ordered_json::array();
      for (const auto& r : v) {
        if (!gatesHold(r, caps))
          continue;
        ordered_json kept = r;
        kept.erase("includes");
        kept.erase("excludes");
        kept.erase("comment");
        rules.push_back(std::move(kept));
      }
      out[k] = std::move(rules);
    } else {
      out[k] = v;
    }
  }
  return out;
}

}  // namespace extsys::agent
