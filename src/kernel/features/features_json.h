// SPDX-License-Identifier: MIT
// kernel/features/features_json.h - KernelFeatures as JSON: the stable schema
// of `extsys features --json` (src/app/features.schema.json).
#pragma once

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "kernel/features/feature_set.h"

namespace extsys::kernel {

inline constexpr const char* kFeaturesSchemaId = "extsys.features/1";

// The full document: kernel, per-syscall facts and answer images, notify.
// (The cache keeps a compact form of its own: kernel/feature_cache.cpp.)
nlohmann::json featuresToJson(const KernelFeatures& f);

std::string hex64(uint64_t v);

}  // namespace extsys::kernel
