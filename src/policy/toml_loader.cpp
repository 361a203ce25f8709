// SPDX-License-Identifier: MIT
// policy/toml_loader.cpp - TOML policy files via toml++ (exceptions are
// caught here and nowhere else).
#include "policy/toml_loader.h"

#include <toml++/toml.h>

#include <algorithm>
#include <iterator>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "base/files.h"
#include "kernel/abi/flag_names.h"
#include "policy/personas.h"

namespace extsys::policy {
namespace {

using kernel::SyscallId;

struct Fail {
  std::string message;
};

class Loader {
public:
  explicit Loader(std::string path) : path_(std::move(path)) {}

  Policy load(const toml::table& root) {
    Policy p;
    p.path = path_;
    for (auto&& [key, node] : root) {
      const std::string k(key.str());
      if (k == "description") {
        p.description = string(node, key);
      } else if (k == "mode") {
        const std::string m = string(node, key);
        if (m == "cooperative")
          p.mode = EnforceMode::Cooperative;
        else if (m == "strict")
          p.mode = EnforceMode::Strict;
        else
          fail(node, "mode must be \"cooperative\" or \"strict\", not \"" + m + "\"");
      } else if (k == "persona") {
        p.persona = persona(node, key);
      } else if (k == "probe_errno") {
        const int64_t v = integer(node, key);
        if (v < 1 || v > 4095)
          fail(node, "probe_errno must be between 1 and 4095");
        p.probeErrno = static_cast<int>(v);
      } else if (k == "hide") {
        p.hide = hideList(node, key);
      } else if (k == "containment") {
        auto floor = parseContainmentFloor(string(node, key));
        if (!floor)
          fail(node, floor.error().message());
        p.containment = *floor;
      } else if (auto id = kernel::syscallByName(k)) {
        const toml::table* t = node.as_table();
        if (t == nullptr)
          fail(node, "'" + k + "' must be a table ([" + k + "])");
        p.syscalls[static_cast<size_t>(*id)] = syscall(*id, *t);
      } else {
        fail(key, "unknown key '" + k + "' (expected description, mode, persona, probe_errno, "
                  "hide, containment, " + syscallTables() + ")");
      }
    }
    checkAgainstPersona(p, root);
    checkStrict(p, root);
    return p;
  }

private:
  // "[openat2], [clone3] or [mount_setattr]": every syscall table a policy may have.
  static std::string syscallTables() {
    std::string out;
    const auto& table = kernel::syscallTable();
    for (size_t i = 0; i < table.size(); ++i)
      out += std::string(i == 0 ? "" : i + 1 == table.size() ? " or " : ", ") + "[" +
             std::string(table[i].name) + "]";
    return out;
  }

  [[noreturn]] void fail(const toml::source_region& where, const std::string& msg) {
    throw Fail{path_ + ":" + std::to_string(where.begin.line) + ":" +
               std::to_string(where.begin.column) + ": " + msg};
  }
  [[noreturn]] void fail(const toml::node& n, const std::string& msg) { fail(n.source(), msg); }
  [[noreturn]] void fail(const toml::key& k, const std::string& msg) { fail(k.source(), msg); }

  // "'KEY' must be WHAT", appended front to back: `"'" + std::string(...)`
  // inserts at the front of a temporary, where GCC 12 at -O3 sees a
  // memcpy that may overlap (a false -Wrestrict in libstdc++).
  static std::string mustBe(const toml::key& k, std::string_view what) {
    std::string msg = "'";
    msg += k.str();
    msg += "' must be ";
    msg += what;
    return msg;
  }

  std::string string(const toml::node& n, const toml::key& k) {
    if (!n.is_string())
      fail(n, mustBe(k, "a string"));
    return *n.value<std::string>();
  }
  int64_t integer(const toml::node& n, const toml::key& k) {
    if (!n.is_integer())
      fail(n, mustBe(k, "an integer"));
    return *n.value<int64_t>();
  }

  kernel::KernelVersion persona(const toml::node& n, const toml::key& k) {
    const std::string s = string(n, k);
    auto v = kernel::KernelVersion::parse(s);
    if (!v || s.find_first_not_of("0123456789.") != std::string::npos ||
        std::count(s.begin(), s.end(), '.') != 1)
      fail(n, "persona must be a kernel version \"MAJOR.MINOR\" such as \"5.10\", not \"" + s + "\"");
    if (!knownRelease(*v))
      fail(n, "persona " + s + " is not a kernel release extsys knows (" + knownReleases() + ")");
    return *v;
  }

  static bool knownRelease(kernel::KernelVersion v) { return knownPersonaRelease(v); }
  static std::string knownReleases() { return knownPersonaReleases(); }

  std::vector<std::string> hideList(const toml::node& n, const toml::key& k) {
    const toml::array* a = n.as_array();
    if (a == nullptr)
      fail(n, mustBe(k, "an array of syscall names"));
    std::vector<std::string> out;
    for (const toml::node& e : *a) {
      if (!e.is_string())
        fail(e, "hide: syscall names are strings");
      const std::string name = *e.value<std::string>();
      if (kernel::syscallByName(name))
        fail(e, "hide: use [" + name + "] call = \"hide\" for " + name);
      // A syscall this architecture lacks (open on aarch64) is accepted, so
      // that one policy serves every architecture: its rule is dropped.
      if (!kernel::syscallKnown(name))
        fail(e, "hide: unknown syscall '" + name + "'");
      out.push_back(name);
    }
    return out;
  }

  template <typename Enum>
  Enum choice(const toml::node& n, const toml::key& k,
              std::initializer_list<std::pair<const char*, Enum>> options) {
    const std::string s = string(n, k);
    std::string expected;
    for (const auto& [text, value] : options) {
      if (s == text)
        return value;
      expected += std::string(expected.empty() ? "\"" : ", \"") + text + "\"";
    }
    fail(n, std::string(k.str()) + " must be one of " + expected + ", not \"" + s + "\"");
  }

  // A mask: an integer, "all", "none", or an array of flag names and integers.
  uint64_t mask(SyscallId id, std::string_view field, const toml::node& n) {
    const std::string where = std::string(kernel::describe(id).name) + "." + std::string(field);
    auto number = [&](const toml::node& e) -> uint64_t {
      const int64_t v = *e.value<int64_t>();
      if (v < 0)
        fail(e, where + ": masks are non-negative");
      return static_cast<uint64_t>(v);
    };
    auto flag = [&](const toml::node& e) -> uint64_t {
      const std::string s = *e.value<std::string>();
      if (auto m = kernel::flagByName(id, field, s))
        return *m;
      std::string known;
      for (const auto& f : kernel::flagNames(id, field))
        known += (known.empty() ? "" : ", ") + std::string(f.name);
      fail(e, "unknown flag '" + s + "' for " + where + " (known: " + known + ")");
    };
    if (n.is_integer())
      return number(n);
    if (n.is_string()) {
      const std::string s = *n.value<std::string>();
      if (s == "all")
        return ~0ULL;
      if (s == "none")
        return 0;
      return flag(n);
    }
    const toml::array* a = n.as_array();
    if (a == nullptr)
      fail(n, where + " must be a list of flag names or numbers, a number, \"all\" or \"none\"");
    uint64_t m = 0;
    for (const toml::node& e : *a) {
      if (e.is_integer())
        m |= number(e);
      else if (e.is_string())
        m |= flag(e);
      else
        fail(e, where + ": list entries are flag names or numbers");
    }
    return m;
  }

  FieldMasks masks(SyscallId id, const toml::node& n, const std::string& table) {
    const toml::table* t = n.as_table();
    const std::string sys(kernel::describe(id).name);
    if (t == nullptr)
      fail(n, "'" + table + "' must be a table of field masks ([" + sys + "." + table + "])");
    FieldMasks out;
    const auto& fields = kernel::describe(id).fields;
    for (auto&& [key, value] : *t) {
      const std::string f(key.str());
      size_t idx = fields.size();
      for (size_t i = 0; i < fields.size(); ++i)
        if (fields[i].name == f)
          idx = i;
      if (idx == fields.size() || kernel::flagNames(id, f).empty()) {
        std::string known;
        for (const auto& fd : fields)
          if (!kernel::flagNames(id, fd.name).empty())
            known += (known.empty() ? "" : ", ") + std::string(fd.name);
        fail(key, idx == fields.size()
                      ? "unknown field '" + f + "' in " + sys + "." + table + " (expected " + known + ")"
                      : sys + "." + f + " is not a flag field (flag fields: " + known + ")");
      }
      out[idx] = mask(id, f, value);
    }
    return out;
  }

  SyscallPolicy syscall(SyscallId id, const toml::table& t) {
    SyscallPolicy written;
    const std::string sys(kernel::describe(id).name);
    const toml::node* advertiseNode = nullptr;
    const toml::node* allowNode = nullptr;
    const toml::node* forbidNode = nullptr;
    FieldMasks forbid;
    const toml::node* probeNode = nullptr;
    const toml::node* callNode = nullptr;
    const toml::node* denyNode = nullptr;
    for (auto&& [key, node] : t) {
      const std::string k(key.str());
      if (k == "probe") {
        probeNode = &node;
        written.probe = choice<ProbeMode>(node, key, {{"emulate", ProbeMode::Emulate},
                                                 {"passthrough", ProbeMode::Passthrough},
                                                 {"hide", ProbeMode::Hide}});
      } else if (k == "call") {
        callNode = &node;
        written.call = choice<CallMode>(node, key, {{"allow", CallMode::Allow},
                                               {"hide", CallMode::Hide},
                                               {"restrict", CallMode::Restrict}});
      } else if (k == "deny_errno") {
        denyNode = &node;
        written.denyErrno = choice<int>(node, key, {{"EINVAL", EINVAL}, {"EPERM", EPERM}});
      } else if (k == "reason") {
        written.reason = string(node, key);
      } else if (k == "advertise") {
        advertiseNode = &node;
        written.advertise = masks(id, node, "advertise");
      } else if (k == "allow") {
        allowNode = &node;
        written.allow = masks(id, node, "allow");
      } else if (k == "forbid") {
        forbidNode = &node;
        forbid = masks(id, node, "forbid");
      } else {
        fail(key, "unknown key '" + k + "' in [" + sys +
                      "] (expected probe, call, advertise, allow, forbid, deny_errno or reason)");
      }
    }
    // forbid narrows allow: what is not forbidden stays allowed.
    for (size_t f = 0; f < kMaxFields; ++f)
      if (forbid[f])
        written.allow[f] = written.allow[f].value_or(~0ULL) & ~*forbid[f];
    const CallMode call = written.call.value_or(CallMode::Allow);
    if (call == CallMode::Restrict && !kernel::describe(id).readsStruct)
      fail(*callNode, sys + ": the kernel only writes the struct of " + sys +
                          ", so calls have nothing to restrict; use call = \"allow\" or \"hide\"");
    if (call == CallMode::Hide && written.probe && *written.probe != ProbeMode::Hide)
      fail(*probeNode, sys + ": call = \"hide\" makes the syscall look absent, so probes must "
                             "be hidden too (remove probe or set probe = \"hide\")");
    if (written.probe == ProbeMode::Hide && call != CallMode::Hide)
      fail(*probeNode, sys + ": probe = \"hide\" tells programs " + sys + " does not exist, but "
                             "call = \"" + name(call) + "\" lets them use it; set call = \"hide\"");
    if (allowNode && call != CallMode::Restrict)
      fail(*allowNode, sys + ".allow only applies with call = \"restrict\"");
    if (forbidNode && call != CallMode::Restrict)
      fail(*forbidNode, sys + ".forbid only applies with call = \"restrict\"");
    if (denyNode && call != CallMode::Restrict)
      fail(*denyNode, sys + ".deny_errno only applies with call = \"restrict\"");
    if (advertiseNode && written.probe && *written.probe != ProbeMode::Emulate)
      fail(*advertiseNode, sys + ".advertise only applies to emulated probes (probe = \"emulate\")");
    if (advertiseNode && (allowNode || forbidNode)) {
      const auto& fields = kernel::describe(id).fields;
      const toml::table& adv = *advertiseNode->as_table();
      for (size_t f = 0; f < fields.size(); ++f) {
        if (!written.advertise[f] || !written.allow[f])
          continue;
        const uint64_t extra = *written.advertise[f] & ~*written.allow[f];
        if (extra != 0 && *written.advertise[f] != ~0ULL)
          fail(*adv.get(fields[f].name),
               sys + ".advertise." + std::string(fields[f].name) + " tells programs about " +
                   kernel::describeBits(id, fields[f].name, extra) +
                   ", which calls may not use (allow/forbid." + std::string(fields[f].name) + ")");
      }
    }
    return written;
  }

  void checkAgainstPersona(const Policy& p, const toml::table& root) {
    if (!p.persona)
      return;
    const kernel::KernelFeatures f = kernel::featuresForVersion(*p.persona);
    for (const auto& d : kernel::syscallTable()) {
      const SyscallPolicy& written = p.syscalls[static_cast<size_t>(d.id)];
      if (f.of(d.id).present || (!written.probe && !written.call) ||
          (written.call == CallMode::Hide && written.probe.value_or(ProbeMode::Hide) == ProbeMode::Hide))
        continue;
      fail(*root.get(d.name), "persona " + p.persona->str().substr(0, p.persona->str().rfind('.')) +
                                  " has no " + std::string(d.name) +
                                  ": it is hidden; only call = \"hide\" fits");
    }
  }

  void checkStrict(const Policy& p, const toml::table& root) {
    if (p.mode != EnforceMode::Strict) {
      if (p.containment)
        fail(*root.get("containment"), "containment needs mode = \"strict\" (cooperative "
                                       "policies contain nothing)");
      return;
    }
    for (const auto& d : kernel::syscallTable()) {
      const SyscallPolicy& written = p.syscalls[static_cast<size_t>(d.id)];
      const CallMode call = written.call.value_or(p.persona ? CallMode::Restrict : CallMode::Allow);
      if (call == CallMode::Restrict && written.probe && *written.probe != ProbeMode::Hide)
        fail(*root.get(d.name)->as_table()->get("probe"),
             std::string(d.name) + ": strict mode hides a restricted " + std::string(d.name) +
                 " (its flags live in memory), so its probes are hidden too; remove probe");
    }
  }

  std::string path_;
};

}  // namespace

Result<Policy> parsePolicy(std::string_view text, const std::string& path) {
  try {
    toml::table root = toml::parse(text, path);
    Loader loader(path);
    Policy p = loader.load(root);
    const size_t slash = path.rfind('/');
    std::string stem = path.substr(slash == std::string::npos ? 0 : slash + 1);
    if (stem.size() > 5 && stem.ends_with(".toml"))
      stem.resize(stem.size() - 5);
    p.name = stem;
    return p;
  } catch (const toml::parse_error& e) {
    return Error(EINVAL, path + ":" + std::to_string(e.source().begin.line) + ":" +
                             std::to_string(e.source().begin.column) + ": " +
                             std::string(e.description()));
  } catch (const Fail& f) {
    return Error(EINVAL, f.message);
  }
}

Result<Policy> loadPolicyFile(const std::string& path) {
  // A directory, a FIFO, /dev/zero or a huge file is an error, not a policy.
  auto text = readRegularFile(path, kMaxPolicyBytes);
  if (!text)
    return std::move(text).error();
  return parsePolicy(*text, path);
}

}  // namespace extsys::policy
