// SPDX-License-Identifier: MIT
// rules_test - one rule table, two renderings. For the built-in default
// policy, every shipped policy and every test policy, on several kernels:
// the seccomp program `extsys run` loads (run through a cBPF interpreter)
// and the OCI linux.seccomp section (run through a small interpreter of the
// rules as a runtime's libseccomp applies them) must give the same verdict
// as the rule table itself for every row of (syscall, arguments); and every
// syscall the table names must be in both.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "agent/oci_profile.h"
#include "filter/rules.h"
#include "filter/seccomp_filter.h"
#include "kernel/abi/syscalls.h"
#include "policy/strict.h"
#include "policy/toml_loader.h"
#include "unit/bpf_interpreter.h"

namespace extsys::filter {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Call {
  int nr;
  uint64_t args[6];
};

uint32_t verdictOf(const Action& a) {
  switch (a.kind) {
    case ActionKind::Allow: return SECCOMP_RET_ALLOW;
    case ActionKind::Notify: return SECCOMP_RET_USER_NOTIF;
    case ActionKind::Errno: return SECCOMP_RET_ERRNO | (static_cast<uint32_t>(a.err) & 0xFFFF);
  }
  return SECCOMP_RET_KILL_PROCESS;
}

// The table's own meaning: the action of the rules that match (they never
// disagree, see filter/rules.h), else the default action.
uint32_t tableVerdict(const RuleSet& s, const Call& c) {
  std::optional<uint32_t> found;
  for (const auto& r : s.rules) {
    if (kernel::nativeSyscallNr(r.syscall) != c.nr)
      continue;
    const bool match = std::all_of(r.conditions.begin(), r.conditions.end(),
                                   [&](const auto& k) { return k.holds(c.args); });
    if (!match)
      continue;
    if (found && *found != verdictOf(r.action))
      ADD_FAILURE() << "two rules of " << r.syscall << " disagree";
    found = verdictOf(r.action);
  }
  return found.value_or(verdictOf(s.defaultAction));
}

uint32_t ociAction(const json& rule, const char* key) {
  const std::string a = rule.at(key).get<std::string>();
  if (a == "SCMP_ACT_ALLOW")
    return SECCOMP_RET_ALLOW;
  if (a == "SCMP_ACT_NOTIFY")
    return SECCOMP_RET_USER_NOTIF;
  if (a == "SCMP_ACT_ERRNO") {
    if (!rule.contains("errnoRet")) {
      ADD_FAILURE() << "SCMP_ACT_ERRNO without errnoRet: " << rule.dump();
      return 0;
    }
    return SECCOMP_RET_ERRNO | (rule["errnoRet"].get<uint32_t>() & 0xFFFF);
  }
  ADD_FAILURE() << "unexpected action " << a;
  return 0;
}

// linux.seccomp as a runtime applies it on the native ABI: rules by name,
// all conditions of a rule must hold; overlapping rules that disagree would
// leave the outcome to libseccomp's precedence, so they fail the test.
uint32_t ociVerdict(const json& s, const Call& c) {
  std::optional<uint32_t> found;
  for (const auto& r : s.at("syscalls")) {
    bool named = false;
    for (const auto& n : r.at("names"))
      named = named || kernel::nativeSyscallNr(n.get<std::string>()) == c.nr;
    if (!named)
      continue;
    bool match = true;
    for (const auto& k : r.value("args", json::array())) {
      const auto index = k.at("index").get<unsigned>();
      if (index > 5) {
        ADD_FAILURE() << "argument index " << index;
        return 0;
      }
      const std::string op = k.at("op").get<std::string>();
      if (op == "SCMP_CMP_MASKED_EQ") {
        match = match && (c.args[index] & k.at("value").get<uint64_t>()) ==
                             k.at("valueTwo").get<uint64_t>();
      } else if (op == "SCMP_CMP_NE") {
        EXPECT_FALSE(k.contains("valueTwo")) << r.dump();
        match = match && c.args[index] != k.at("value").get<uint64_t>();
      } else {
        ADD_FAILURE() << "unexpected op " << op << ": " << r.dump();
      }
    }
    if (!match)
      continue;
    const uint32_t v = ociAction(r, "action");
    if (found && *found != v)
      ADD_FAILURE() << "two OCI rules disagree: " << r.dump();
    found = v;
  }
  return found.value_or(ociAction(s, "defaultAction"));
}

// An LXC policy (version 2, `extsys oci-profile --format lxc`) read back the
// way LXC 5.0's parse_config_v2 reads it: a version line "2", "denylist"
// (default allow), then `NAME ACTION [ARG]...` with ACTION notify, errno E
// or allow, each ARG "[INDEX,VALUE,OP]" or "[INDEX,VALUE,OP,MASK]" - for
// SCMP_CMP_MASKED_EQ LXC hands libseccomp (MASK, VALUE).
struct LxcRule {
  int nr = -1;
  uint32_t action = 0;
  struct Cmp {
    unsigned index;
    std::string op;
    uint64_t value, mask;
  };
  std::vector<Cmp> args;
};

std::vector<LxcRule> parseLxc(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "2");
  std::getline(in, line);
  EXPECT_EQ(line, "denylist");
  std::vector<LxcRule> out;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    EXPECT_NE(line[0], '[') << "no architecture sections: " << line;
    LxcRule r;
    const size_t bracket = line.find('[');
    std::istringstream head(line.substr(0, bracket));
    std::string name, action;
    head >> name >> action;
    r.nr = kernel::nativeSyscallNr(name);
    EXPECT_GE(r.nr, 0) << line;
    if (action == "notify") {
      r.action = SECCOMP_RET_USER_NOTIF;
    } else if (action == "allow") {
      r.action = SECCOMP_RET_ALLOW;
    } else if (action == "errno") {
      int e = -1;
      head >> e;
      EXPECT_GT(e, 0) << line;
      r.action = SECCOMP_RET_ERRNO | (static_cast<uint32_t>(e) & 0xFFFF);
    } else {
      ADD_FAILURE() << "action of " << line;
    }
    std::string rest;
    EXPECT_FALSE(head >> rest) << "junk before the arguments: " << line;
    for (size_t at = bracket; at != std::string::npos; at = line.find('[', at + 1)) {
      const size_t end = line.find(']', at);
      if (end == std::string::npos) {
        ADD_FAILURE() << "unclosed [ in " << line;
        break;
      }
      // LXC: sscanf "[%i,%23[^,],%30[^0-9^,],%23[^,]" with values in base 0.
      unsigned index = 99;
      char v[24] = {}, op[31] = {}, m[24] = {'0'};
      const std::string arg = line.substr(at, end - at);
      const int n = std::sscanf(arg.c_str(), "[%u,%23[^,],%30[^0-9^,],%23[^,]", &index, v, op, m);
      EXPECT_TRUE(n == 3 || n == 4) << arg;
      EXPECT_LT(index, 6u) << arg;
      r.args.push_back({index, op, std::stoull(v, nullptr, 0), std::stoull(m, nullptr, 0)});
    }
    EXPECT_LE(r.args.size(), 6u) << line;
    out.push_back(std::move(r));
  }
  return out;
}

uint32_t lxcVerdict(const std::vector<LxcRule>& rules, const Call& c) {
  std::optional<uint32_t> found;
  for (const auto& r : rules) {
    if (r.nr != c.nr)
      continue;
    bool match = true;
    for (const auto& k : r.args) {
      if (k.index > 5)
        return 0;
      if (k.op == "SCMP_CMP_MASKED_EQ")
        match = match && (c.args[k.index] & k.mask) == k.value;
      else if (k.op == "SCMP_CMP_NE")
        match = match && c.args[k.index] != k.value;
      else
        ADD_FAILURE() << "unexpected op " << k.op;
    }
    if (!match)
      continue;
    if (found && *found != r.action)
      ADD_FAILURE() << "two LXC rules of nr " << r.nr << " disagree";
    found = r.action;
  }
  return found.value_or(SECCOMP_RET_ALLOW);  // denylist: allow the rest
}

// Rows: every named syscall plus controls, with every single bit of every
// argument, each condition met and missed, all zeros, all ones, and
// pseudo-random arguments.
std::vector<Call> rowsFor(const RuleSet& s) {
  std::set<std::string> names{"getppid", "read", "openat", "clone", "mount"};
  for (const auto& d : kernel::syscallTable())
    names.insert(std::string(d.name));
  for (const auto& r : s.rules)
    names.insert(r.syscall);
  std::vector<Call> rows;
  uint64_t seed = 0x9E3779B97F4A7C15ULL;
  auto random = [&] {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  };
  for (const auto& name : names) {
    const int nr = kernel::nativeSyscallNr(name);
    EXPECT_GE(nr, 0) << name;
    rows.push_back({nr, {}});
    rows.push_back({nr, {~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL, ~0ULL}});
    // A value of the argument that meets the condition, one that misses it.
    auto meet = [&](const ArgCondition& k) {
      return k.op == CmpOp::Ne ? k.value ^ (1ULL << (random() % 64))
                               : k.value | (~k.mask & random());
    };
    auto miss = [](const ArgCondition& k) {
      return k.op == CmpOp::Ne ? k.value : k.value ^ (k.mask & (~k.mask + 1));  // lowest mask bit
    };
    for (const auto& r : s.rules) {
      if (r.syscall != name)
        continue;
      Call all{nr, {}};  // every condition met at once
      for (const auto& k : r.conditions)
        all.args[k.arg] = meet(k);
      rows.push_back(all);
      for (const auto& k : r.conditions) {
        Call met{nr, {}};
        met.args[k.arg] = k.op == CmpOp::Ne ? ~k.value : k.value;
        Call metWithNoise{nr, {}};
        metWithNoise.args[k.arg] = meet(k);
        Call missed = all;
        missed.args[k.arg] = miss(k);
        Call highHalf = all;  // the upper half of a register the kernel reads as an int
        highHalf.args[k.arg] ^= 1ULL << 32;
        rows.insert(rows.end(), {met, metWithNoise, missed, highHalf});
      }
    }
    for (int a = 0; a < 6; ++a)
      for (int b = 0; b < 64; ++b) {
        Call c{nr, {}};
        c.args[a] = 1ULL << b;
        rows.push_back(c);
      }
    for (int i = 0; i < 8; ++i) {
      Call c{nr, {}};
      for (auto& arg : c.args)
        arg = random() & random();
      rows.push_back(c);
    }
  }
  return rows;
}

struct Case {
  std::string name;
  policy::Policy policy;
};

std::vector<Case> allPolicies() {
  std::vector<Case> out{{"default", policy::defaultPolicy()}};
  std::vector<std::string> files;
  for (const char* dir : {"policies", "tests/data/policies"})
    for (const auto& e : fs::directory_iterator(fs::path(EXTSYS_SOURCE_ROOT) / dir))
      if (e.path().extension() == ".toml")
        files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto p = policy::loadPolicyFile(f);
    EXPECT_TRUE(p.ok()) << f << ": " << (p ? "" : p.error().message());
    if (p)
      out.push_back({fs::path(f).filename().string(), std::move(*p)});
  }
  return out;
}

class BothRenderings : public ::testing::TestWithParam<kernel::KernelVersion> {};

TEST_P(BothRenderings, DecideEveryRowAsTheTableSays) {
  const auto policies = allPolicies();
  // default, the shipped policies and the test policies
  ASSERT_GE(policies.size(), 8u);
  const uint32_t nativeArch = seccomp_arch_native();
  for (const auto& [name, pol] : policies) {
    SCOPED_TRACE(name + " on " + GetParam().str());
    auto eff = policy::makeEffective(pol, kernel::featuresForVersion(GetParam()));
    ASSERT_TRUE(eff.ok()) << eff.error().message();
    const RuleSet rules = buildRules(*eff);
    auto bpf = buildFilter(rules);
    ASSERT_TRUE(bpf.ok()) << bpf.error().message();
    auto oci = agent::makeOciProfile(rules, eff->name, {"/run/extsys.sock", "policy=x"});
    ASSERT_TRUE(oci.ok()) << oci.error().message();
    const json& seccomp = oci->seccomp;

    const auto rows = rowsFor(rules);
    EXPECT_GE(rows.size(), 2000u);
    int mismatches = 0;
    for (const Call& c : rows) {
      seccomp_data d{};
      d.arch = nativeArch;
      d.nr = c.nr;
      std::copy(std::begin(c.args), std::end(c.args), std::begin(d.args));
      const uint32_t want = tableVerdict(rules, c);
      const uint32_t fromBpf = test_support::runBpf(bpf->insns, d);
      const uint32_t fromOci = ociVerdict(seccomp, c);
      if (fromBpf != want || fromOci != want) {
        if (++mismatches <= 5)
          ADD_FAILURE() << "nr " << c.nr << " args " << std::hex << c.args[0] << ' ' << c.args[1]
                        << ' ' << c.args[2] << ' ' << c.args[3] << ' ' << c.args[4] << ' '
                        << c.args[5] << ": table " << want << ", BPF " << fromBpf << ", OCI "
                        << fromOci;
      }
    }
    EXPECT_EQ(mismatches, 0) << "of " << rows.size() << " rows";

    // Foreign ABIs: the program's bad-architecture action; the profile
    // lists their architectures exactly when they are allowed.
    seccomp_data i386{};
    i386.arch = AUDIT_ARCH_I386;
    i386.nr = 20;
    EXPECT_EQ(test_support::runBpf(bpf->insns, i386), verdictOf(rules.foreignAbi));
    const size_t arches = seccomp.value("architectures", json::array()).size();
    if (rules.foreignAbi == Action::allow())
      EXPECT_GT(arches, 1u);
    else
      EXPECT_EQ(arches, 1u);
    EXPECT_EQ(seccomp.contains("listenerPath"), rules.notifies());
  }
}

// Issue 21: the LXC rendering decides every row as the table does, and has
// exactly one line per rule of the table.
TEST_P(BothRenderings, LxcPolicyDecidesEveryRowAsTheTableSays) {
  for (const auto& [name, pol] : allPolicies()) {
    SCOPED_TRACE(name + " on " + GetParam().str());
    auto eff = policy::makeEffective(pol, kernel::featuresForVersion(GetParam()));
    ASSERT_TRUE(eff.ok()) << eff.error().message();
    const RuleSet rules = buildRules(*eff);
    ASSERT_EQ(rules.defaultAction, Action::allow()) << "denylist means default allow";
    const auto lxc = agent::makeLxcProfile(rules, eff->name);
    const auto parsed = parseLxc(lxc.text);
    ASSERT_EQ(parsed.size(), rules.rules.size()) << lxc.text;
    int mismatches = 0;
    const auto rows = rowsFor(rules);
    for (const Call& c : rows) {
      const uint32_t want = tableVerdict(rules, c);
      const uint32_t got = lxcVerdict(parsed, c);
      if (got != want && ++mismatches <= 5)
        ADD_FAILURE() << "nr " << c.nr << " args " << std::hex << c.args[0] << ' ' << c.args[1]
                      << ' ' << c.args[2] << ' ' << c.args[3] << ": table " << want << ", LXC "
                      << got;
    }
    EXPECT_EQ(mismatches, 0) << "of " << rows.size() << " rows";
    // What LXC cannot say is said on stderr, not silently dropped.
    const bool warned = std::any_of(lxc.warnings.begin(), lxc.warnings.end(), [](const auto& w) {
      return w.find("foreign ABIs") != std::string::npos;
    });
    EXPECT_EQ(warned, rules.foreignAbi != Action::allow());
  }
}

TEST_P(BothRenderings, NameEverySyscallOfTheTable) {
  for (const auto& [name, pol] : allPolicies()) {
    SCOPED_TRACE(name + " on " + GetParam().str());
    auto eff = policy::makeEffective(pol, kernel::featuresForVersion(GetParam()));
    ASSERT_TRUE(eff.ok()) << eff.error().message();
    const RuleSet rules = buildRules(*eff);
    auto pfc = filterPfc(rules);
    ASSERT_TRUE(pfc.ok()) << pfc.error().message();
    auto oci = agent::makeOciProfile(rules, eff->name, {});
    ASSERT_TRUE(oci.ok()) << oci.error().message();
    std::multiset<std::string> inOci;
    for (const auto& r : oci->seccomp["syscalls"])
      for (const auto& n : r["names"])
        inOci.insert(n.get<std::string>());
    std::multiset<std::string> inTable;
    for (const auto& r : rules.rules)
      inTable.insert(r.syscall);
    EXPECT_EQ(inOci, inTable) << "the profile has a rule per table rule, no more";
    for (const auto& n : inTable)
      EXPECT_NE(pfc->find("($syscall == " + std::to_string(kernel::nativeSyscallNr(n)) + ")"),
                std::string::npos)
          << n << " is not in the seccomp program";
  }
}

// The capability table (policy/strict.h) drives the rule table. Under a
// policy that forbids everything a policy can, every route of the table is a
// rule - and so, by the two tests above, in the run filter and in the OCI
// profile - except where the architecture never had its syscall.
TEST(CapabilityTable, EveryRouteIsARuleOfBothRenderings) {
  auto p = policy::loadPolicyFile(std::string(EXTSYS_SOURCE_ROOT) +
                                  "/tests/data/policies/strict-forbid-all.toml");
  ASSERT_TRUE(p.ok()) << p.error().message();
  auto eff = policy::makeEffective(*p, kernel::featuresForVersion({6, 18, 0}));
  ASSERT_TRUE(eff.ok()) << eff.error().message();
  const RuleSet rules = buildRules(*eff);
  auto pfc = filterPfc(rules);
  ASSERT_TRUE(pfc.ok()) << pfc.error().message();
  auto oci = agent::makeOciProfile(rules, eff->name, {});
  ASSERT_TRUE(oci.ok()) << oci.error().message();
  std::set<std::string> inOci;
  for (const auto& r : oci->seccomp["syscalls"])
    for (const auto& n : r["names"])
      inOci.insert(n.get<std::string>());
  size_t checked = 0;
  for (const auto& route : policy::strict::routes()) {
    const std::string name(route.syscall);
    SCOPED_TRACE(name + " (" + policy::strict::name(route.capability) + ")");
    const int nr = kernel::nativeSyscallNr(name);
    if (nr < 0) {
      EXPECT_EQ(route.arches, policy::strict::Arches::LegacyOnly)
          << "a route names a syscall this architecture does not know";
      continue;
    }
    const bool hidden = route.shape == policy::strict::Shape::Hide;
    const bool ruled = std::any_of(rules.rules.begin(), rules.rules.end(), [&](const Rule& r) {
      return r.syscall == name && (r.action == Action::fail(ENOSYS)) == hidden;
    });
    EXPECT_TRUE(ruled) << "the route is not in the rule table";
    EXPECT_TRUE(inOci.count(name)) << "not in the OCI profile";
    EXPECT_NE(pfc->find("($syscall == " + std::to_string(nr) + ")"), std::string::npos)
        << "not in the seccomp program";
    ++checked;
  }
  EXPECT_GE(checked, 25u);
  EXPECT_EQ(rules.foreignAbi, Action::fail(ENOSYS));
}

// Names only syscalls an architecture has: a route libseccomp resolves for
// x86_64 but not for aarch64 must be marked LegacyOnly (dropped there), and
// a LegacyOnly route must be exactly such a call. A name libseccomp knows for
// neither is newer than this libseccomp (kernel/abi/syscalls.cpp resolves it
// from its own table on x86_64).
TEST(CapabilityTable, LegacyOnlyMarksExactlyTheCallsArm64Lacks) {
  for (const auto& route : policy::strict::routes()) {
    const std::string name(route.syscall);
    const bool x86 = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str()) >= 0;
    const bool arm64 = seccomp_syscall_resolve_name_arch(SCMP_ARCH_AARCH64, name.c_str()) >= 0;
    const bool legacy = route.arches == policy::strict::Arches::LegacyOnly;
    if (legacy) {
      EXPECT_TRUE(x86 && !arm64) << name << " is marked LegacyOnly";
    } else {
      EXPECT_EQ(x86, arm64) << name << ": one architecture lacks it, but it is not LegacyOnly";
#if defined(__x86_64__)
      if (!x86) {
        EXPECT_GE(kernel::nativeSyscallNr(name), 0) << name << " is unknown here";
      }
#endif
    }
  }
}

// The documentation lists what the table does: every route's syscall and
// every capability is named in policies/README.md ("What strict mode
// forbids"), so a route added here without its line there fails.
TEST(CapabilityTable, PoliciesReadmeNamesEveryRoute) {
  std::ifstream in(std::string(EXTSYS_SOURCE_ROOT) + "/policies/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const size_t from = doc.find("### What strict mode forbids");
  ASSERT_NE(from, std::string::npos);
  const std::string section = doc.substr(from, doc.find("\n### ", from + 1) - from);
  for (const auto& route : policy::strict::routes()) {
    EXPECT_NE(section.find("`" + std::string(route.syscall) + "`"), std::string::npos)
        << route.syscall;
    EXPECT_NE(section.find(std::string("**") + policy::strict::name(route.capability)),
              std::string::npos)
        << policy::strict::name(route.capability);
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, BothRenderings,
                         ::testing::Values(kernel::KernelVersion{5, 10, 0},
                                           kernel::KernelVersion{6, 1, 0},
                                           kernel::KernelVersion{6, 18, 0}),
                         [](const auto& p) {
                           return "linux_" + std::to_string(p.param.major) + "_" +
                                  std::to_string(p.param.minor);
                         });

}  // namespace
}  // namespace extsys::filter
