// SPDX-License-Identifier: MIT
// notify_hidden_test.cpp - `extsys run --audit-hidden`: the syscalls a
// cooperative policy hides go to the supervisor (which answers ENOSYS and
// audits them); nothing else changes, and strict policies keep theirs in BPF.
#include <gtest/gtest.h>

#include <cerrno>

#include "filter/rules.h"
#include "policy/personas.h"
#include "policy/toml_loader.h"

namespace extsys::filter {
namespace {

const Rule* ruleFor(const RuleSet& s, const std::string& name) {
  for (const auto& r : s.rules)
    if (r.syscall == name)
      return &r;
  return nullptr;
}

TEST(NotifyHidden, PersonaHiddenSyscallsAreNotified) {
  auto e = policy::makeEffective(policy::personaPolicy({5, 4, 0}),
                                 kernel::featuresForVersion({6, 18, 0}));
  ASSERT_TRUE(e.ok());
  const RuleSet before = buildRules(*e);
  RuleSet after = before;
  notifyHidden(after, *e);
  ASSERT_EQ(after.rules.size(), before.rules.size());
  for (size_t i = 0; i < before.rules.size(); ++i) {
    const Rule& b = before.rules[i];
    const auto id = kernel::syscallByName(b.syscall);
    const bool hidden = id && e->of(*id).call == policy::CallMode::Hide;
    EXPECT_EQ(b.action, hidden ? Action::fail(ENOSYS) : after.rules[i].action) << b.syscall;
    EXPECT_EQ(after.rules[i].action, hidden ? Action::notify() : b.action) << b.syscall;
    EXPECT_EQ(after.rules[i].conditions, b.conditions) << b.syscall;
  }
  // 5.4 has neither openat2 nor mount_setattr; clone3 is restricted, not hidden.
  ASSERT_NE(ruleFor(after, "openat2"), nullptr);
  EXPECT_EQ(ruleFor(after, "openat2")->action, Action::notify());
  EXPECT_EQ(ruleFor(after, "mount_setattr")->action, Action::notify());
  EXPECT_EQ(after.defaultAction, before.defaultAction);
}

TEST(NotifyHidden, StrictPoliciesKeepTheirEnosysInBpf) {
  auto p = policy::parsePolicy("mode = \"strict\"\npersona = \"5.4\"\n", "t.toml");
  ASSERT_TRUE(p.ok()) << p.error().message();
  auto e = policy::makeEffective(*p, kernel::featuresForVersion({6, 18, 0}));
  ASSERT_TRUE(e.ok()) << e.error().message();
  const RuleSet before = buildRules(*e);
  RuleSet after = before;
  notifyHidden(after, *e);
  EXPECT_EQ(after.rules, before.rules);
  ASSERT_NE(ruleFor(after, "openat2"), nullptr);
  EXPECT_EQ(ruleFor(after, "openat2")->action, Action::fail(ENOSYS));
}

}  // namespace
}  // namespace extsys::filter
