// SPDX-License-Identifier: MIT
// policy/personas.cpp - built-in personas, derived from the version table.
#include "policy/personas.h"

#include <charconv>
#include <iterator>

namespace extsys::policy {
namespace {

// Every series ends at its last minor (3.19, 4.20, 5.19, 6.19).
constexpr int kLastMinor[] = {19, 20, 19, 19};  // of 3.x, 4.x, 5.x, 6.x
int lastMinor(int major) {
  if (major == kNewestPersona.major)
    return kNewestPersona.minor;
  const int i = major - 3;
  return i >= 0 && i < static_cast<int>(std::size(kLastMinor)) ? kLastMinor[i] : -1;
}

}  // namespace

bool knownPersonaRelease(kernel::KernelVersion v) {
  return v.patch == 0 && v >= kOldestPersona && v <= kNewestPersona && v.minor <= lastMinor(v.major);
}

std::string knownPersonaReleases() {
  std::string out;
  for (int major = kOldestPersona.major; major <= kNewestPersona.major; ++major)
    out += (out.empty() ? "" : ", ") + std::to_string(major) + ".0-" + std::to_string(major) +
           "." + std::to_string(lastMinor(major));
  return out;
}

std::string personaLabel(kernel::KernelVersion v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor);
}

std::string personaName(kernel::KernelVersion v) { return "kernel-" + personaLabel(v); }

std::optional<kernel::KernelVersion> parsePersonaName(std::string_view name) {
  constexpr std::string_view kPrefix = "kernel-";
  if (!name.starts_with(kPrefix))
    return std::nullopt;
  name.remove_prefix(kPrefix.size());
  kernel::KernelVersion v;
  const char* end = name.data() + name.size();
  auto [dot, ec] = std::from_chars(name.data(), end, v.major);
  if (ec != std::errc() || dot == end || *dot != '.' || dot == name.data())
    return std::nullopt;
  auto [last, ec2] = std::from_chars(dot + 1, end, v.minor);
  if (ec2 != std::errc() || last != end || last == dot + 1)
    return std::nullopt;
  // Canonical spelling only: "kernel-05.10" or "kernel-5.010" is no name.
  if (personaName(v) != std::string(kPrefix) + std::string(name))
    return std::nullopt;
  if (!knownPersonaRelease(v))
    return std::nullopt;
  return v;
}

Policy personaPolicy(kernel::KernelVersion v) {
  Policy p;
  p.name = personaName(v);
  p.description = "Linux " + personaLabel(v) +
                  " persona (built in): its features in probes, newer flags EINVAL, newer "
                  "syscalls ENOSYS";
  p.mode = EnforceMode::Cooperative;
  p.persona = kernel::KernelVersion{v.major, v.minor, 0};
  return p;
}

std::vector<kernel::KernelVersion> listedPersonas() {
  std::vector<kernel::KernelVersion> out;
  for (const auto& v : kernel::personaVersions())
    if (knownPersonaRelease(v))
      out.push_back(v);
  return out;
}

}  // namespace extsys::policy
