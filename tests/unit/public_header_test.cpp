// SPDX-License-Identifier: MIT
// public_header_test - <extsys/check_fields.h> says what extsys itself uses:
// the struct sizes of the descriptor table, the RFC's bit and errno, and
// the answer errno the supervisor sends by default.
#include <extsys/check_fields.h>
#include <gtest/gtest.h>

#include <vector>

#include "kernel/abi/syscalls.h"
#include "kernel/abi/uapi_compat.h"
#include "supervisor/probe_handler.h"

namespace extsys::kernel {
namespace {

std::vector<uint32_t> sizes(SyscallId id) {
  auto s = describe(id).sizes;
  return {s.begin(), s.end()};
}

TEST(PublicHeader, StructSizesAreTheTable) {
  using V = std::vector<uint32_t>;
  EXPECT_EQ(sizes(SyscallId::Openat2), V{EXTSYS_OPEN_HOW_SIZE_VER0});
  EXPECT_EQ(sizes(SyscallId::Clone3), (V{EXTSYS_CLONE_ARGS_SIZE_VER0, EXTSYS_CLONE_ARGS_SIZE_VER1,
                                         EXTSYS_CLONE_ARGS_SIZE_VER2}));
  EXPECT_EQ(sizes(SyscallId::MountSetattr), V{EXTSYS_MOUNT_ATTR_SIZE_VER0});
  EXPECT_EQ(sizes(SyscallId::OpenTreeAttr), V{EXTSYS_MOUNT_ATTR_SIZE_VER0});
  EXPECT_EQ(sizes(SyscallId::Setxattrat), V{EXTSYS_XATTR_ARGS_SIZE_VER0});
  EXPECT_EQ(sizes(SyscallId::Getxattrat), V{EXTSYS_XATTR_ARGS_SIZE_VER0});
  EXPECT_EQ(sizes(SyscallId::FileGetattr), V{EXTSYS_FILE_ATTR_SIZE_VER0});
  EXPECT_EQ(sizes(SyscallId::FileSetattr), V{EXTSYS_FILE_ATTR_SIZE_VER0});
  EXPECT_EQ(sizes(SyscallId::LandlockCreateRuleset),
            (V{EXTSYS_LANDLOCK_RULESET_ATTR_SIZE_VER0, EXTSYS_LANDLOCK_RULESET_ATTR_SIZE_VER1,
               EXTSYS_LANDLOCK_RULESET_ATTR_SIZE_VER2}));
}

TEST(PublicHeader, BitAndErrnoAreTheSupervisors) {
  EXPECT_EQ(EXTSYS_CHECK_FIELDS, uapi::kCheckFields);
  EXPECT_EQ(EEXTSYS_NOOP, uapi::kEextsysNoop);
  EXPECT_EQ(EEXTSYS_NOOP, supervisor::ProbeConfig{}.probeErrno);
}

}  // namespace
}  // namespace extsys::kernel
