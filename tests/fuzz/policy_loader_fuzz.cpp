// SPDX-License-Identifier: MIT
// policy_loader_fuzz - libFuzzer harness for the TOML policy loader.
//
// The input is policy text. parsePolicy must never crash, throw or leak; an
// error must read "PATH:LINE:COL: message". A policy it accepts is applied
// to several kernels with makeEffective, and what the README and
// policies/README.md promise is checked (abort on any violation):
//   - call = hide  =>  probe = hide
//   - call = restrict  =>  every flag field of the answer image lies within
//     the allowed bits (what a program is told agrees with what it may use)
//   - strict mode: no syscall is left "restrict" (translated to hide plus BPF
//     register rules), io_uring and foreign ABIs are closed
//   - probe_errno in 1..4095, deny_errno EINVAL or EPERM
//   - the answer image never advertises a bit the kernel does not have
//   - a persona's missing syscall is hidden for probes and calls alike
// Built as a libFuzzer target with clang (-Dfuzz=true) and, with any
// compiler, as a replay test over tests/fuzz/corpus/policy_loader.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "kernel/abi/answers.h"
#include "kernel/features/feature_set.h"
#include "kernel/abi/flag_names.h"
#include "kernel/abi/syscalls.h"
#include "policy/policy.h"
#include "policy/toml_loader.h"

namespace {

using extsys::kernel::KernelFeatures;
using extsys::kernel::KernelVersion;
using extsys::kernel::ProbeAnswer;
using extsys::kernel::SyscallDesc;
using extsys::policy::CallMode;
using extsys::policy::EffectivePolicy;
using extsys::policy::EnforceMode;
using extsys::policy::Policy;
using extsys::policy::ProbeMode;

constexpr const char* kPath = "fuzz/policy.toml";

[[noreturn]] void violated(const char* what, const std::string& detail) {
  std::fprintf(stderr, "policy_loader_fuzz: invariant violated: %s\n  %s\n", what, detail.c_str());
  std::abort();
}

void require(bool ok, const char* what, const std::string& detail = {}) {
  if (!ok)
    violated(what, detail);
}

bool isDigits(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

// "PATH:LINE:COL: message" with LINE, COL >= 1 and a non-empty message.
void checkErrorMessage(const std::string& msg) {
  const std::string prefix = std::string(kPath) + ":";
  require(msg.starts_with(prefix), "error message does not start with PATH:", msg);
  std::string_view rest(msg);
  rest.remove_prefix(prefix.size());
  const size_t c1 = rest.find(':');
  require(c1 != std::string_view::npos, "error message has no LINE:", msg);
  const std::string_view line = rest.substr(0, c1);
  rest.remove_prefix(c1 + 1);
  const size_t c2 = rest.find(": ");
  require(c2 != std::string_view::npos, "error message has no COL: ", msg);
  const std::string_view col = rest.substr(0, c2);
  require(isDigits(line) && isDigits(col), "LINE:COL are not numbers", msg);
  require(line.find_first_not_of('0') != std::string_view::npos &&
              col.find_first_not_of('0') != std::string_view::npos,
          "LINE or COL is 0 (no source position)", msg);
  require(rest.size() > c2 + 2, "error message is empty after LINE:COL: ", msg);
}

uint64_t fieldValue(const ProbeAnswer& a, const extsys::kernel::FieldDesc& f) {
  uint64_t v = 0;
  if (f.width == 8) {
    std::memcpy(&v, a.image.data() + f.offset, 8);
  } else {
    uint32_t w;
    std::memcpy(&w, a.image.data() + f.offset, 4);
    v = w;
  }
  return v;
}

bool isFlagField(const SyscallDesc& d, std::string_view field) {
  return !extsys::kernel::flagNames(d.id, field).empty();
}

void checkEffective(const Policy& p, const KernelFeatures& k, const EffectivePolicy& e,
                    const std::string& where) {
  const auto base = extsys::kernel::buildAnswers(k);
  require(e.probeErrno >= 1 && e.probeErrno <= 4095, "probeErrno outside 1..4095",
          where + " probeErrno=" + std::to_string(e.probeErrno));
  require(e.probeErrno == p.probeErrno.value_or(134), "probeErrno differs from the policy", where);
  require(e.mode == p.mode, "mode differs from the policy", where);

  for (const auto& d : extsys::kernel::syscallTable()) {
    const size_t i = static_cast<size_t>(d.id);
    const auto& decided = e.syscalls[i];
    const ProbeAnswer& a = e.answers[i];
    const std::string ctx = where + " " + std::string(d.name);
    require(a.id == d.id, "answer image for the wrong syscall", ctx);
    require(a.ksize <= extsys::kernel::kMaxImageSize && a.ksize <= base[i].ksize,
            "answer ksize larger than the kernel's", ctx);
    require(!a.present || base[i].present, "a syscall the kernel lacks is answered", ctx);
    if (decided.call == CallMode::Hide)
      require(decided.probe == ProbeMode::Hide, "call = hide but probe is not hidden", ctx);
    if (p.mode == EnforceMode::Strict)
      require(decided.call != CallMode::Restrict, "strict mode left a syscall restricted", ctx);
    require(decided.denyErrno == EINVAL || decided.denyErrno == EPERM, "deny_errno not EINVAL/EPERM", ctx);
    if (p.persona && !a.present)
      require(decided.probe == ProbeMode::Hide && decided.call == CallMode::Hide,
              "a syscall the persona lacks is not hidden", ctx);
    for (size_t f = 0; f < d.fields.size(); ++f) {
      const auto& fd = d.fields[f];
      if (fd.offset + fd.width > a.ksize || !isFlagField(d, fd.name))
        continue;
      const uint64_t advertised = fieldValue(a, fd);
      const std::string fctx = ctx + "." + std::string(fd.name) + " advertised=0x" + [&] {
        char b[24];
        std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(advertised));
        return std::string(b);
      }();
      require((advertised & ~fieldValue(base[i], fd)) == 0,
              "the answer advertises a bit the kernel does not have", fctx);
      if (decided.call == CallMode::Restrict)
        require((advertised & ~decided.allow[f]) == 0,
                "call = restrict but the answer advertises a bit calls may not use", fctx);
      const auto& adv = p.syscalls[i].advertise[f];
      if (adv)
        require((advertised & ~*adv) == 0, "the answer advertises a bit outside advertise", fctx);
    }
  }
  if (p.mode == EnforceMode::Strict) {
    require(e.foreignAbisEnosys, "strict mode left the i386/x32 ABIs open", where);
    for (const char* s : {"io_uring_setup", "io_uring_enter", "io_uring_register"}) {
      bool found = false;
      for (const auto& n : e.enosys)
        found = found || n == s;
      require(found, "strict mode left io_uring open", where + " " + s);
    }
  } else {
    require(e.argRules.empty(), "cooperative mode produced BPF register rules", where);
  }
  for (size_t j = 1; j < e.enosys.size(); ++j)
    require(e.enosys[j - 1] < e.enosys[j], "enosys list not sorted and unique", where);
  for (const auto& h : p.hide) {
    bool found = false;
    for (const auto& n : e.enosys)
      found = found || n == h;
    require(found, "a hidden syscall is missing from enosys", where + " " + h);
  }
  for (const auto& r : e.argRules) {
    require(r.err == EINVAL || r.err == EPERM, "register rule errno not EINVAL/EPERM",
            where + " " + r.syscall);
    require(!r.capability.empty(), "register rule names no capability", where + " " + r.syscall);
    for (const auto& c : r.checks) {
      require(c.arg < 6, "register rule on an argument that does not exist",
              where + " " + r.syscall);
      require(c.test != extsys::policy::ArgTest::AnyBitOf || c.value != 0,
              "register rule forbids nothing", where + " " + r.syscall);
    }
    require(!r.checks.empty() || r.syscall == "creat", "register rule refuses every call",
            where + " " + r.syscall);
  }
}

const KernelFeatures* kernels() {
  static const KernelFeatures k[] = {
      extsys::kernel::featuresForVersion({5, 4, 0}),
      extsys::kernel::featuresForVersion({6, 1, 0}),
      extsys::kernel::featuresForVersion({6, 18, 0}),
      extsys::kernel::featuresForVersion({7, 2, 0}),
  };
  return k;
}
constexpr size_t kKernelCount = 4;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = extsys::policy::parsePolicy(text, kPath);
  if (!parsed) {
    require(parsed.error().err() == EINVAL, "parse error without EINVAL", parsed.error().message());
    checkErrorMessage(parsed.error().message());
    return 0;
  }
  const Policy& p = *parsed;
  require(p.path == kPath && p.name == "policy", "policy path/name not taken from the path", p.name);
  if (p.probeErrno)
    require(*p.probeErrno >= 1 && *p.probeErrno <= 4095, "parsed probe_errno outside 1..4095",
            std::to_string(*p.probeErrno));
  if (p.persona)
    require(*p.persona >= extsys::policy::kOldestPersona &&
                *p.persona <= extsys::policy::kNewestPersona,
            "persona outside the known range", p.persona->str());
  for (size_t i = 0; i < kKernelCount; ++i) {
    const KernelFeatures& k = kernels()[i];
    auto e = extsys::policy::makeEffective(p, k);
    const std::string where = "kernel " + k.version.str();
    require(e.ok(), "makeEffective failed", where + ": " + (e ? std::string() : e.error().message()));
    checkEffective(p, k, *e, where);
  }
  return 0;
}
