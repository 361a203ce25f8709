// SPDX-License-Identifier: MIT
// app/policy_command.h - `extsys policy check FILE...` and `extsys policy list`.
#pragma once

#include <string>
#include <vector>

#include "app/cli_fwd.h"
#include "policy/policy.h"

namespace extsys::app {

struct PolicyOptions {
  std::vector<std::string> files;
  bool quiet = false;
  bool names = false;  // policy list --names: bare names, for shell completion
};

struct PolicyCommands {
  CLI::App* check = nullptr;
  CLI::App* list = nullptr;
};

PolicyCommands addPolicyCommand(CLI::App& app, PolicyOptions& options);
int policyCheckCommand(const PolicyOptions& options);
int policyListCommand(const PolicyOptions& options);

// The effective policy as text: per syscall probes, calls, masks; BPF rules.
void printEffective(const policy::Policy& p, const policy::EffectivePolicy& e,
                    const kernel::KernelFeatures& k);

}  // namespace extsys::app
