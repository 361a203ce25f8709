// SPDX-License-Identifier: MIT
// remote/remote_memory.h - writes into a target's memory with process_vm_writev.
//
// Why not /proc/<pid>/mem: it writes with FOLL_FORCE and so succeeds on
// read-only mappings where the kernel's copy_to_user() gives EFAULT.
// process_vm_writev honours page protections exactly like copy_to_user().
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace extsys::remote {

class ProcessWriter {
public:
  explicit ProcessWriter(pid_t pid) : pid_(pid) {}

  // One process_vm_writev for the whole region. Returns bytes written (short
  // when a page part-way is unmapped or read-only) or -1 with errno:
  // EFAULT (bad address), ESRCH (target gone), EPERM (no permission).
  long write(uint64_t addr, const void* src, size_t len) const;

private:
  pid_t pid_;
};

// A page of zeros for tail clearing, sized for the largest page size Linux
// uses (64 KiB). Lives in .bss: untouched pages cost no memory.
std::span<const uint8_t> zeroPage();

// Reads from a target's memory with process_vm_readv. Returns bytes read
// (short when a page part-way is unreadable) or -1 with errno.
class ProcessReader {
public:
  explicit ProcessReader(pid_t pid) : pid_(pid) {}
  long read(uint64_t addr, void* dst, size_t len) const;

private:
  pid_t pid_;
};

}  // namespace extsys::remote
