// SPDX-License-Identifier: MIT
// app/main.cpp - the `extsys` command line.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string_view>

#include "app/agent_command.h"
#include "app/features_command.h"
#include "app/matrix_command.h"
#include "app/policy_command.h"
#include "app/run_command.h"
#include "app/usage.h"
#include "app/version_info.h"

int main(int argc, char** argv) {
  CLI::App app(
      "extsys - CHECK_FIELDS feature probes for openat2, clone3, mount_setattr and the other "
      "extensible-struct syscalls, on any kernel.",
      "extsys");
  app.footer(
      "Run `extsys help COMMAND` or `extsys COMMAND --help` for a command's options.\n\n"
      "Exit status: 0 on success; 2 for a usage error on any command (unknown command or\n"
      "option, bad value, invalid or unusable policy: nothing was started); 1 when a\n"
      "command other than run fails. run: PROGRAM's own status, else 125 (extsys failed),\n"
      "126 (PROGRAM cannot be executed), 127 (PROGRAM not found).");
  app.set_version_flag("-V,--version", extsys::app::versionText,
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
  // extsys matrix (issue 23)
  extsys::app::MatrixOptions matrix;
  CLI::App* matrixCmd = extsys::app::addMatrixCommand(app, matrix);
  CLI::App* versionCmd = app.add_subcommand("version", "Print the same as --version.");
  extsys::app::addHelpCommand(app);

  if (int rc = extsys::app::checkCommandWords(app, argc, argv); rc >= 0)
    return rc;
  // `help run`: CLI11 would take "run" for the run command itself.
  if (argc >= 2 && std::string_view(argv[1]) == "help")
    return extsys::app::helpCommand(app, std::vector<std::string>(argv + 2, argv + argc));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return extsys::app::reportParseError(app, e);
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
  // extsys matrix (issue 23): COMMAND after `--` as for run.
  if (matrixCmd->parsed()) {
    std::vector<std::string> rest = matrixCmd->remaining();
    if (!command.empty() && !rest.empty()) {
      std::fprintf(stderr, "extsys: matrix: %s '%s' before '--' (see extsys matrix --help)\n",
                   rest.front().starts_with("-") ? "unknown option" : "unexpected argument",
                   rest.front().c_str());
      return extsys::app::kExitUsage;
    }
    matrix.command = command.empty() ? rest : command;
    return extsys::app::matrixCommand(std::move(matrix));
  }
  if (runCmd->parsed()) {
    std::vector<std::string> rest = runCmd->remaining();
    if (!command.empty() && !rest.empty()) {
      std::fprintf(stderr, "extsys: run: %s '%s' before '--' (see extsys run --help)\n",
                   rest.front().starts_with("-") ? "unknown option" : "unexpected argument",
                   rest.front().c_str());
      return extsys::app::kExitUsage;
    }
    run.command = command.empty() ? rest : command;
    return extsys::app::runCommand(std::move(run));
  }
  return extsys::app::missingCommand(app, "");
}
