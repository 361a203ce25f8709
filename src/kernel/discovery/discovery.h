// SPDX-License-Identifier: MIT
// kernel/discovery/discovery.h - what the running kernel supports, found by
// safe active probes (src/kernel/discovery/RECIPES.md): no file is opened or
// created, no mount changed, and the only process created is one throw-away
// child. Results are intersected with the bits extsys knows (some kernels
// accept unknown bits silently) and compared with the version table.
#pragma once

#include "kernel/features/feature_set.h"
#include "kernel/discovery/probe_backend.h"

namespace extsys::kernel {

struct DiscoveryOptions {
  bool canMount = false;  // CAP_SYS_ADMIN in our mount namespace's user namespace
};

KernelFeatures discover(ProbeBackend& kernel, KernelVersion version, DiscoveryOptions options);

}  // namespace extsys::kernel
