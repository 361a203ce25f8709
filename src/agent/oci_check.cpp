// SPDX-License-Identifier: MIT
// agent/oci_check.cpp - `extsys oci-profile --check`: is a profile made by
// any tool still one the agent can serve, and does it keep its base?
#include <algorithm>
#include <map>

#include "agent/oci_compose.h"
#include "kernel/abi/syscalls.h"
#include "kernel/abi/uapi_compat.h"

namespace extsys::agent {
namespace {

std::string str(const ordered_json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

const ordered_json& argsOf(const ordered_json& rule) {
  static const ordered_json none = ordered_json::array();
  auto it = rule.find("args");
  return it != rule.end() && it->is_array() ? *it : none;
}

bool gated(const ordered_json& rule) {
  auto nonEmpty = [&](const char* k) {
    auto it = rule.find(k);
    return it != rule.end() && !it->empty();
  };
  return nonEmpty("includes") || nonEmpty("excludes");
}

bool sameGates(const ordered_json& a, const ordered_json& b) {
  auto get = [](const ordered_json& r, const char* k) {
    auto it = r.find(k);
    return it != r.end() && !it->empty() ? *it : ordered_json();
  };
  return get(a, "includes") == get(b, "includes") && get(a, "excludes") == get(b, "excludes");
}

std::string where(size_t i, const std::string& name) {
  return "syscalls[" + std::to_string(i) + "] (" + name + ")";
}

std::string numberText(const ordered_json& v) { return v.dump(); }

// The described syscall `name`'s size argument, or -1.
int sizeArgOf(const std::string& name) {
  auto id = kernel::syscallByName(name);
  return id ? kernel::describe(*id).sizeArg : -1;
}

// Findings about one argument condition of rule `i` naming `name`.
void checkArg(size_t i, const std::string& name, const ordered_json& a,
              std::vector<Finding>& out) {
  for (const char* k : {"index", "value", "valueTwo"}) {
    if (a.contains(k) && a[k].is_number_float())
      out.push_back({where(i, name), std::string(k) + " is written as a floating-point number (" +
                                         numberText(a[k]) +
                                         "): a tool read it as a double; write the exact integer"});
  }
  const int sizeArg = sizeArgOf(name);
  if (sizeArg < 0 || str(a, "op") != "SCMP_CMP_MASKED_EQ" || !a.contains("value") ||
      !a["value"].is_number())
    return;
  const double approx = a["value"].get<double>();
  if (approx < static_cast<double>(1ULL << 62))
    return;  // not a bit-63 condition
  const bool exact = a["value"].is_number_unsigned() && a["value"].get<uint64_t>() == uapi::kCheckFields;
  if (!exact)
    out.push_back({where(i, name),
                   "the mask is " + numberText(a["value"]) + ", not 9223372036854775808 (2^63)" +
                       (a["value"].is_number_float() ? "" : ": rounded through a double (jq 1.6 "
                                                            "writes 9223372036854776000)") +
                       "; the rule never matches a probe"});
  const auto& two = a.contains("valueTwo") ? a["valueTwo"] : ordered_json(0);
  const bool twoOk = two.is_number_unsigned() &&
                     (two.get<uint64_t>() == uapi::kCheckFields || two.get<uint64_t>() == 0);
  if (!twoOk)
    out.push_back({where(i, name), "valueTwo is " + numberText(two) +
                                       ", neither 9223372036854775808 (2^63, probes) nor 0"});
  if (!a.contains("index") || a["index"] != sizeArg)
    out.push_back({where(i, name), "the bit-63 condition is on argument " +
                                       (a.contains("index") ? a["index"].dump() : "?") +
                                       "; " + name + "'s size argument is " +
                                       std::to_string(sizeArg)});
}

// Is base rule `b`'s answer for `name` still given by some rule of `rules`:
// the same action, errnoRet, gates and arguments (plus, for a described
// syscall, a bit-63-clear condition); or, for a base ALLOW, a denial or a
// notification (the policy restricting the calls)?
bool inForce(const ordered_json& b, const std::string& name, const ordered_json& rules) {
  const int sizeArg = sizeArgOf(name);
  for (const auto& r : rules) {
    const auto ns = namesOf(r);
    if (std::find(ns.begin(), ns.end(), name) == ns.end() || !sameGates(b, r))
      continue;
    const ordered_json& ra = argsOf(r);
    const ordered_json& ba = argsOf(b);
    const bool argsSame = ra == ba;
    bool argsPlusClear = false;
    if (sizeArg >= 0 && ra.size() == ba.size() + 1) {
      const auto& extra = ra.back();
      argsPlusClear = std::equal(ba.begin(), ba.end(), ra.begin()) &&
                      extra.value("index", -1) == sizeArg &&
                      str(extra, "op") == "SCMP_CMP_MASKED_EQ" &&
                      extra.value("value", ordered_json()) == uapi::kCheckFields &&
                      extra.value("valueTwo", ordered_json(0)) == 0;
    }
    if (!argsSame && !argsPlusClear)
      continue;
    const auto none = ordered_json();
    if (str(r, "action") == str(b, "action") &&
        r.value("errnoRet", none) == b.value("errnoRet", none))
      return true;
    // A policy's denial, or its restriction through the agent, narrows the base.
    if (str(b, "action") == "SCMP_ACT_ALLOW" &&
        (str(r, "action") == "SCMP_ACT_ERRNO" || str(r, "action") == "SCMP_ACT_NOTIFY"))
      return true;
  }
  return false;
}

void checkBase(const ordered_json& s, const ordered_json& base, std::vector<Finding>& out) {
  for (const char* k : {"defaultAction", "defaultErrnoRet"})
    if (s.value(k, ordered_json()) != base.value(k, ordered_json()))
      out.push_back({k, std::string("is ") + s.value(k, ordered_json()).dump() +
                            ", the base's is " + base.value(k, ordered_json()).dump()});
  const ordered_json& rules = s.contains("syscalls") ? s["syscalls"] : ordered_json::array();
  const bool runtimeForm =
      !s.contains("archMap") &&
      std::none_of(rules.begin(), rules.end(), [](const ordered_json& r) { return gated(r); });
  if (!runtimeForm || !base.contains("archMap")) {
    for (const char* k : {"architectures", "archMap"})
      if (s.value(k, ordered_json()) != base.value(k, ordered_json()))
        out.push_back({k, "differs from the base's"});
  }
  const ordered_json& baseRules =
      base.contains("syscalls") ? base["syscalls"] : ordered_json::array();
  for (size_t i = 0; i < baseRules.size(); ++i) {
    const auto& b = baseRules[i];
    if (runtimeForm && gated(b))
      continue;  // resolved by the engine per container: not comparable here
    for (const auto& n : namesOf(b))
      if (!inForce(b, n, rules))
        out.push_back({"base syscalls[" + std::to_string(i) + "] (" + n + ")",
                       "no rule gives " + n + " the base's " + str(b, "action") +
                           " any more (same arguments and includes/excludes)"});
  }
}

}  // namespace

std::vector<Finding> checkProfile(const ordered_json& s, const ordered_json* base) {
  std::vector<Finding> out;
  if (!s.is_object() || !s.contains("defaultAction")) {
    out.push_back({"linux.seccomp", "missing or not a seccomp profile (no defaultAction)"});
    return out;
  }
  const ordered_json& rules = s.contains("syscalls") && s["syscalls"].is_array()
                                  ? s["syscalls"] : ordered_json::array();
  bool notifies = false, probesNotified = false;
  std::map<std::string, std::vector<size_t>> byName;
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    for (const auto& n : namesOf(r)) {
      byName[n].push_back(i);
      for (const auto& a : argsOf(r))
        checkArg(i, n, a, out);
      if (str(r, "action") != "SCMP_ACT_NOTIFY")
        continue;
      notifies = true;
      if (sizeArgOf(n) >= 0)
        probesNotified = true;
    }
  }
  // An unconditional rule swallows the syscall's conditional rules in libseccomp.
  for (const auto& [n, idx] : byName) {
    if (sizeArgOf(n) < 0)
      continue;
    for (size_t i : idx) {
      if (str(rules[i], "action") != "SCMP_ACT_NOTIFY" || argsOf(rules[i]).empty())
        continue;
      for (size_t j : idx)
        if (j != i && argsOf(rules[j]).empty())
          out.push_back({where(j, n),
                         "has no condition, so libseccomp keeps it alone for " + n +
                             (sameGates(rules[i], rules[j]) ? "" : " (where both apply)") +
                             " and the probe rule syscalls[" + std::to_string(i) +
                             "] never takes effect"});
    }
  }
  if (notifies) {
    const std::string path = str(s, "listenerPath");
    if (path.empty())
      out.push_back({"listenerPath", "missing: rules notify, but the runtime has nowhere to send "
                                     "the listener (the runtime refuses to start, or drops it)"});
    else if (path.front() != '/')
      out.push_back({"listenerPath", "'" + path + "' is not absolute (crun refuses it)"});
  }
  if (!probesNotified)
    out.push_back({"syscalls", "no rule notifies a probe: the agent answers nothing, probes get "
                               "the kernel's or the profile's own answer"});
  if (base != nullptr)
    checkBase(s, *base, out);
  return out;
}

}  // namespace extsys::agent
