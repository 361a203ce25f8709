// SPDX-License-Identifier: MIT
// filter/rules.cpp - effective policy -> rule table.
#include "filter/rules.h"

#include <algorithm>
#include <cerrno>

#include "kernel/abi/uapi_compat.h"

namespace extsys::filter {
namespace {

using policy::CallMode;
using policy::ProbeMode;

constexpr uint64_t kCheckFields = uapi::kCheckFields;

ArgCondition maskedEq(uint8_t arg, uint64_t mask, uint64_t value) {
  return {arg, CmpOp::MaskedEq, mask, value};
}

// Part 1: the described syscalls.
void addDescribedSyscalls(const policy::EffectivePolicy& p, std::vector<Rule>& out) {
  for (const auto& d : kernel::syscallTable()) {
    const auto& decided = p.of(d.id);
    const std::string name(d.name);
    const bool notifyProbes = decided.probe == ProbeMode::Emulate;
    const bool notifyCalls = decided.call == CallMode::Restrict;
    if (decided.call == CallMode::Hide)
      out.push_back({name, Action::fail(ENOSYS), {}});
    else if (notifyProbes && notifyCalls)
      out.push_back({name, Action::notify(), {}});
    else if (notifyProbes)
      out.push_back({name, Action::notify(), {maskedEq(d.sizeArg, kCheckFields, kCheckFields)}});
    else if (notifyCalls)
      out.push_back({name, Action::notify(), {maskedEq(d.sizeArg, kCheckFields, 0)}});
  }
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

ArgCondition conditionOf(const policy::ArgCheck& c) {
  switch (c.test) {
    case policy::ArgTest::Low32Eq:
      return maskedEq(c.arg, 0xFFFFFFFFULL, c.value);
    case policy::ArgTest::NonZero:
      return {c.arg, CmpOp::Ne, ~0ULL, 0};
    case policy::ArgTest::AnyBitOf:
      break;  // expanded by the caller
  }
  return maskedEq(c.arg, c.value, c.value);
}

// One rule per bit of the rule's AnyBitOf check (if any), each with the
// other checks.
void addArgRule(const policy::ArgRule& r, std::vector<Rule>& out) {
  const Action deny = Action::fail(r.err);
  std::vector<ArgCondition> common;
  const policy::ArgCheck* bits = nullptr;
  for (const auto& c : r.checks) {
    if (c.test == policy::ArgTest::AnyBitOf)
      bits = &c;
    else
      common.push_back(conditionOf(c));
  }
  if (bits == nullptr) {
    out.push_back({r.syscall, deny, common});
    return;
  }
  for (int b = 0; b < 64; ++b) {
    const uint64_t bit = 1ULL << b;
    if ((bits->value & bit) == 0)
      continue;
    std::vector<ArgCondition> conditions{maskedEq(bits->arg, bit, bit)};
    conditions.insert(conditions.end(), common.begin(), common.end());
    out.push_back({r.syscall, deny, std::move(conditions)});
  }
}

// Parts 2 and 3: extra hidden syscalls, then strict mode's register rules.
void addHiddenAndRegisterRules(const policy::EffectivePolicy& p, std::vector<Rule>& out) {
  for (const auto& name : p.enosys)
    out.push_back({name, Action::fail(ENOSYS), {}});
  // Syscalls denied whatever their arguments: other rules would add nothing.
  std::vector<std::string> deniedWhole = p.enosys;
  for (const auto& r : p.argRules)
    if (r.checks.empty())
      deniedWhole.push_back(r.syscall);
  for (const auto& r : p.argRules) {
    if (r.checks.empty()) {
      if (!contains(p.enosys, r.syscall))
        out.push_back({r.syscall, Action::fail(r.err), {}});
      continue;
    }
    if (!contains(deniedWhole, r.syscall))
      addArgRule(r, out);
  }
}

}  // namespace

bool ArgCondition::holds(const uint64_t (&args)[6]) const {
  switch (op) {
    case CmpOp::MaskedEq: return (args[arg] & mask) == value;
    case CmpOp::Ne: return args[arg] != value;
  }
  return false;
}

void notifyHidden(RuleSet& rules, const policy::EffectivePolicy& p) {
  if (p.mode != policy::EnforceMode::Cooperative)
    return;
  for (Rule& r : rules.rules) {
    const auto id = kernel::syscallByName(r.syscall);
    if (id && p.of(*id).call == CallMode::Hide && r.conditions.empty() &&
        r.action == Action::fail(ENOSYS))
      r.action = Action::notify();
  }
}

bool RuleSet::notifies() const {
  return std::any_of(rules.begin(), rules.end(),
                     [](const Rule& r) { return r.action.kind == ActionKind::Notify; });
}

RuleSet buildRules(const policy::EffectivePolicy& p, const kernel::ArchDesc& arch) {
  RuleSet s;
  s.defaultAction = Action::allow();
  s.foreignAbi = p.foreignAbisEnosys ? Action::fail(ENOSYS) : Action::allow();
  addDescribedSyscalls(p, s.rules);
  addHiddenAndRegisterRules(p, s.rules);
  // Calls this architecture does not have: nothing to filter.
  std::vector<Rule> kept;
  for (auto& r : s.rules) {
    if (kernel::archHas(arch, r.syscall))
      kept.push_back(std::move(r));
    else if (!contains(s.absent, r.syscall))
      s.absent.push_back(r.syscall);
  }
  s.rules = std::move(kept);
  std::sort(s.absent.begin(), s.absent.end());
  return s;
}

}  // namespace extsys::filter
