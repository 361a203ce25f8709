// SPDX-License-Identifier: MIT
// kernel/features_json.h - KernelFeatures as JSON: the stable schema of
// `extsys features --json` (src/app/features.schema.json) and of the cache.
#pragma once

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "kernel/feature_set.h"

namespace extsys::kernel {

inline constexpr const char* kFeaturesSchemaId = "extsys.features/1";

// The full document: kernel, per-syscall facts and answer images, notify.
nlohmann::json featuresToJson(const KernelFeatures& f);

// Reads back what featuresToJson wrote (the cache). Any missing or
// malformed member is an error: a cache we cannot fully trust is not used.
[[nodiscard]] Result<KernelFeatures> featuresFromJson(const nlohmann::json& j);

std::string hex64(uint64_t v);

}  // namespace extsys::kernel
