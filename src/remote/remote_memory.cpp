// SPDX-License-Identifier: MIT
// remote/remote_memory.cpp - process_vm_writev writer.
#include "remote/remote_memory.h"

#include <sys/uio.h>

#include <cerrno>

namespace extsys::remote {

long ProcessWriter::write(uint64_t addr, const void* src, size_t len) const {
  iovec local{const_cast<void*>(src), len};
  iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(addr)), len};
  errno = 0;
  return static_cast<long>(process_vm_writev(pid_, &local, 1, &remote, 1, 0));
}

std::span<const uint8_t> zeroPage() {
  alignas(4096) static const uint8_t kZeros[65536] = {};
  return {kZeros, sizeof kZeros};
}

long ProcessReader::read(uint64_t addr, void* dst, size_t len) const {
  iovec local{dst, len};
  iovec remote{reinterpret_cast<void*>(static_cast<uintptr_t>(addr)), len};
  errno = 0;
  return static_cast<long>(process_vm_readv(pid_, &local, 1, &remote, 1, 0));
}

}  // namespace extsys::remote
