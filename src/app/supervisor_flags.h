// SPDX-License-Identifier: MIT
// app/supervisor_flags.h - the supervisor's tuning flags, shared by
// `extsys run` and `extsys agent`: --sync-wakeup and --threads.
#pragma once

#include <string>

#include "app/cli_fwd.h"
#include "supervisor/supervisor.h"

namespace extsys::app {

struct SupervisorFlags {
  std::string syncWakeUp = "auto";  // auto | on | off
  unsigned threads = 0;             // 0: supervisor::defaultWorkers()
};

// Registers --sync-wakeup and --threads on `cmd`; `perWhat` ends the
// --threads help ("at once", "for one container at once").
void addSupervisorFlags(CLI::App* cmd, SupervisorFlags& flags, const std::string& perWhat);

// The supervisor options the flags ask for on this kernel (page size from
// sysconf; `auto` turns SYNC_WAKE_UP on where the kernel has it).
supervisor::SupervisorOptions supervisorOptions(const SupervisorFlags& flags,
                                                bool kernelHasSyncWakeUp);

}  // namespace extsys::app
