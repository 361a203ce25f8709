// SPDX-License-Identifier: MIT
// kernel/discovery.h - what the running kernel supports, found by safe active
// probes (spec/kernel-features.md section 3): no file is opened or created,
// no mount changed, and the only process created is one throw-away child.
// Results are intersected with the bits extsys knows (some kernels accept
// unknown bits silently) and compared with the version table.
#pragma once

#include "kernel/feature_set.h"
#include "kernel/probe_backend.h"

namespace extsys::kernel {

struct DiscoveryOptions {
  bool canMount = false;  // CAP_SYS_ADMIN in our mount namespace's user namespace
};

KernelFeatures discover(ProbeBackend& kernel, KernelVersion version, DiscoveryOptions options);

}  // namespace extsys::kernel
