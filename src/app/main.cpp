// SPDX-License-Identifier: MIT
// app/main.cpp - the `extsys` command line.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "app/agent_command.h"
#include "app/features_command.h"
#include "app/policy_command.h"
#include "app/run_command.h"
#include "app/version_info.h"
#include "launcher/launcher.h"

int main(int argc, char** argv) {
  CLI::App app(
      "extsys - CHECK_FIELDS feature probes for openat2, clone3 and mount_setattr, on any "
      "kernel.",
      "extsys");
  app.require_subcommand(1);
  app.footer("Run `extsys COMMAND --help` for a command's options.");
  app.set_version_flag("--version", extsys::app::versionText,
                       "Print the version, the git commit, libseccomp's version and the build's "
                       "features, and exit");

  extsys::app::RunOptions run;
  std::vector<std::string> command = extsys::app::splitCommand(argc, argv);
  CLI::App* runCmd = extsys::app::addRunCommand(app, run);
  extsys::app::FeaturesOptions features;
  CLI::App* featuresCmd = extsys::app::addFeaturesCommand(app, features);
  extsys::app::PolicyOptions policyOptions;
  extsys::app::PolicyCommands policyCmds = extsys::app::addPolicyCommand(app, policyOptions);
  extsys::app::AgentCommandOptions agent;
  CLI::App* agentCmd = extsys::app::addAgentCommand(app, agent);
  extsys::app::OciProfileOptions ociProfile;
  CLI::App* ociProfileCmd = extsys::app::addOciProfileCommand(app, ociProfile);
  CLI::App* versionCmd = app.add_subcommand("version", "Print the same as --version.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // Usage errors of `run` use the launcher's status so they cannot be
    // mistaken for PROGRAM's own exit status.
    if (rc != 0 && runCmd->parsed())
      return extsys::launcher::kExitLauncherFailed;
    return rc == 0 ? 0 : 2;
  }

  if (versionCmd->parsed()) {
    std::printf("%s\n", extsys::app::versionText().c_str());
    return 0;
  }
  if (policyCmds.check->parsed())
    return extsys::app::policyCheckCommand(policyOptions);
  if (policyCmds.list->parsed())
    return extsys::app::policyListCommand(policyOptions);
  if (agentCmd->parsed())
    return extsys::app::agentCommand(std::move(agent));
  if (ociProfileCmd->parsed())
    return extsys::app::ociProfileCommand(ociProfile);
  if (featuresCmd->parsed())
    return extsys::app::featuresCommand(features);
  if (runCmd->parsed()) {
    std::vector<std::string> rest = runCmd->remaining();
    if (!command.empty() && !rest.empty()) {
      std::fprintf(stderr, "extsys: run: unexpected argument '%s' before '--' (see extsys run --help)\n",
                   rest.front().c_str());
      return extsys::launcher::kExitLauncherFailed;
    }
    run.command = command.empty() ? rest : command;
    return extsys::app::runCommand(std::move(run));
  }
  return 2;
}
