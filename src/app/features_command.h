// SPDX-License-Identifier: MIT
// app/features_command.h - `extsys features`: what the running kernel
// supports and what probes are answered, as a table or as JSON.
#pragma once

#include <string>

#include "app/cli_fwd.h"

namespace extsys::app {

struct FeaturesOptions {
  bool json = false;
  bool noCache = false;
  std::string policy;
};

CLI::App* addFeaturesCommand(CLI::App& app, FeaturesOptions& options);
int featuresCommand(const FeaturesOptions& options);

}  // namespace extsys::app
