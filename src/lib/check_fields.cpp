// SPDX-License-Identifier: MIT
// lib/check_fields.cpp - libextsys: extsys_check_fields(), the CHECK_FIELDS
// answer in-process. The sources, in order: the probe system call itself
// (answered by a CHECK_FIELDS kernel, or by the supervisor of `extsys run`),
// then the supervisor's own code run here: discovery (kernel/discovery, with
// its per-boot cache), the RFC answer images and the kernel's checks
// (kernel/abi/answers), copy_struct_to_user (remote/copy_struct.h).
#include <extsys/check_fields.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <atomic>
#include <optional>

#include "config.h"
#include "kernel/abi/answers.h"
#include "kernel/abi/syscalls.h"
#include "kernel/abi/uapi_compat.h"
#include "kernel/discovery/current_features.h"
#include "kernel/discovery/feature_cache.h"
#include "remote/copy_struct.h"
#include "remote/remote_memory.h"

#define EXTSYS_API extern "C" __attribute__((visibility("default")))

namespace extsys::lib {
namespace {

static_assert(EXTSYS_CHECK_FIELDS == uapi::kCheckFields);
static_assert(EEXTSYS_NOOP == uapi::kEextsysNoop);

constexpr unsigned kKnownFlags = EXTSYS_CF_NO_DISCOVERY | EXTSYS_CF_DISCOVERY_ONLY;

// nr -> descriptor, resolved on first use (libseccomp's table and extsys's
// fallback). No lock and no guarded static: threads that race compute the
// same numbers, and a fork() in the middle leaves nothing held.
std::array<std::atomic<long>, kernel::kSyscallCount> g_nrs;
std::atomic<bool> g_nrsReady{false};

const kernel::SyscallDesc* describeNr(long nr) {
  if (!g_nrsReady.load(std::memory_order_acquire)) {
    for (const auto& d : kernel::syscallTable())
      g_nrs[static_cast<size_t>(d.id)].store(kernel::nativeSyscallNr(d.name),
                                             std::memory_order_relaxed);
    g_nrsReady.store(true, std::memory_order_release);
  }
  for (size_t i = 0; i < g_nrs.size(); ++i) {
    const long n = g_nrs[i].load(std::memory_order_relaxed);
    if (n >= 0 && n == nr)
      return &kernel::syscallTable()[i];
  }
  return nullptr;
}

// The six arguments of the probe: the struct and its size where the
// descriptor says, fd -1 first where the syscall takes a dirfd (every one
// whose struct is not its first argument), every other one 0 (NULL paths
// and names, no flags). No kernel reads any of them before the size, and the
// arguments a kernel checks before the size (flags) pass with 0.
void probeArgs(const kernel::SyscallDesc& d, void* buf, uint64_t size, uint64_t (&args)[6]) {
  for (uint64_t& a : args)
    a = 0;
  if (d.structArg >= 2)
    args[0] = static_cast<uint64_t>(-1);
  args[d.structArg] = reinterpret_cast<uintptr_t>(buf);
  args[d.sizeArg] = size | uapi::kCheckFields;
}

struct Discovered {
  bool ok = false;
  int err = 0;  // why not (errno of the lookup)
  kernel::ProbeAnswers answers{};
};

// Set once, never freed (a fork child keeps it). Not std::call_once: a
// fork() in another thread while discovery runs would leave the child a
// once_flag "in progress" forever; the mutex is made anew in such a child.
std::atomic<Discovered*> g_discovered{nullptr};
pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;

void resetInChild() {
  if (g_discovered.load(std::memory_order_acquire) == nullptr)
    pthread_mutex_init(&g_mutex, nullptr);  // its holder is not in this process
}

// At load time (or a static program's start), before any thread of ours
// can hold the mutex.
__attribute__((constructor)) void registerForkHandler() {
  pthread_atfork(nullptr, nullptr, resetInChild);
}

// Discovery as `extsys run` does it (kernel::currentKernelFeatures): the
// per-boot cache read when valid, else the recipes and one throw-away probe
// child; the cache written only without a seccomp filter on this process,
// exactly when extsys would write it. At most once per process.
const Discovered& discovered() {
  if (Discovered* d = g_discovered.load(std::memory_order_acquire))
    return *d;
  pthread_mutex_lock(&g_mutex);
  if (g_discovered.load(std::memory_order_acquire) == nullptr) {
    auto* d = new Discovered;
    auto lookup = kernel::currentKernelFeatures(kernel::CacheMode::Use, EXTSYS_VERSION);
    if (lookup) {
      d->ok = true;
      d->answers = kernel::buildAnswers(lookup->features);
    } else {
      d->err = lookup.error().err() != 0 ? lookup.error().err() : EIO;
    }
    g_discovered.store(d, std::memory_order_release);
  }
  pthread_mutex_unlock(&g_mutex);
  return *g_discovered.load(std::memory_order_acquire);
}

uint64_t pageSize() {
  const long p = sysconf(_SC_PAGESIZE);  // from the auxiliary vector: no system call
  return p > 0 ? static_cast<uint64_t>(p) : 4096;
}

// process_vm_writev to ourselves: the kernel's copy_to_user() rules (EFAULT
// on unmapped or read-only memory, never a signal), as the supervisor writes.
// Where it is not allowed (a seccomp profile that keeps it for
// CAP_SYS_PTRACE, as Docker's), read(2) from a pipe does the same copy.
struct SelfWriter {
  long write(uint64_t addr, const void* src, size_t len) const {
    const long n = remote::ProcessWriter(getpid()).write(addr, src, len);
    if (n >= 0 || (errno != EPERM && errno != ENOSYS))
      return n;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
      return -1;
    long done = ::write(p[1], src, len);  // len <= one page: fits in the pipe
    if (done == static_cast<long>(len))
      done = ::read(p[0], reinterpret_cast<void*>(static_cast<uintptr_t>(addr)), len);
    const int err = errno;
    close(p[0]);
    close(p[1]);
    errno = err;
    return done;
  }
};

int fail(int err, int* source, int src) {
  if (source != nullptr)
    *source = src;
  errno = err;
  return -1;
}

int answerInProcess(const kernel::SyscallDesc& d, const uint64_t (&args)[6], int* source,
                    int fallbackErr) {
  const Discovered& disc = discovered();
  if (!disc.ok)  // no discovery: what the system call said (E2BIG: no CHECK_FIELDS)
    return fail(fallbackErr != 0 ? fallbackErr : disc.err, source, EXTSYS_SOURCE_NONE);
  const kernel::ProbeAnswer& a = disc.answers[static_cast<size_t>(d.id)];
  if (!a.present)
    return fail(ENOSYS, source, EXTSYS_SOURCE_DISCOVERY);
  const kernel::ProbeVerdict v = kernel::checkProbe(d, a, args, pageSize());
  if (v.err != 0)
    return fail(v.err, source, EXTSYS_SOURCE_DISCOVERY);
  SelfWriter w;
  const int err = remote::copyStructToUser(w, args[d.structArg], v.usize,
                                           std::span<const uint8_t>(a.image.data(), a.ksize),
                                           remote::zeroPage());
  if (err != 0)  // EFAULT; anything else (ESRCH, EPERM) cannot be for ourselves
    return fail(EFAULT, source, EXTSYS_SOURCE_DISCOVERY);
  if (source != nullptr)
    *source = EXTSYS_SOURCE_DISCOVERY;
  return 0;
}

int sourceOfSyscall() {
  return kernel::currentSeccompFilterCount() > 0 ? EXTSYS_SOURCE_SUPERVISOR
                                                 : EXTSYS_SOURCE_KERNEL;
}

}  // namespace
}  // namespace extsys::lib

using namespace extsys;

EXTSYS_API int extsys_check_fields_ex(long nr, void* buf, size_t size, unsigned flags,
                                      int* source) {
  const int savedErrno = errno;
  if (source != nullptr)
    *source = EXTSYS_SOURCE_NONE;
  if ((flags & ~lib::kKnownFlags) != 0 ||
      (flags & (EXTSYS_CF_NO_DISCOVERY | EXTSYS_CF_DISCOVERY_ONLY)) ==
          (EXTSYS_CF_NO_DISCOVERY | EXTSYS_CF_DISCOVERY_ONLY))
    return lib::fail(EINVAL, source, EXTSYS_SOURCE_NONE);
  const kernel::SyscallDesc* d = lib::describeNr(nr);
  if (d == nullptr)
    return lib::fail(ENOSYS, source, EXTSYS_SOURCE_NONE);
  uint64_t args[6];
  lib::probeArgs(*d, buf, size, args);

  int callErr = 0;
  if ((flags & EXTSYS_CF_DISCOVERY_ONLY) == 0) {
    // The probe itself. A kernel without CHECK_FIELDS refuses bit 63 as a
    // size above the page (E2BIG) before it looks at anything else; clone3
    // therefore never creates a process here.
    const long rc = syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
    callErr = rc < 0 ? errno : 0;
    if (rc >= 0) {
      // Not a probe answer: nothing a kernel does with bit 63. Be tidy.
      if (rc > 0 && d->id != kernel::SyscallId::Clone3)
        close(static_cast<int>(rc));
      if (d->id == kernel::SyscallId::Clone3) {
        if (rc == 0)
          _exit(127);  // a child after all: it must not run the caller's code
        waitpid(static_cast<pid_t>(rc), nullptr, __WALL);
      }
      return lib::fail(EPROTO, source, EXTSYS_SOURCE_NONE);
    }
    if (callErr == EEXTSYS_NOOP) {
      // Answered, bytes written: the kernel, or whoever traps this syscall
      // for us. Nobody else returns 134 for bit 63.
      if (source != nullptr)
        *source = lib::sourceOfSyscall();
      errno = savedErrno;
      return 0;
    }
    if (callErr == ENOSYS)  // not in this kernel (or hidden by the persona)
      return lib::fail(ENOSYS, source, lib::sourceOfSyscall());
    // E2BIG from a kernel without CHECK_FIELDS, or a refusal (EINVAL, E2BIG,
    // EFAULT, EOPNOTSUPP) that in-process discovery gives again, with the
    // same checks in the same order.
    if ((flags & EXTSYS_CF_NO_DISCOVERY) != 0)
      return lib::fail(callErr, source, lib::sourceOfSyscall());
  }
  const int rc = lib::answerInProcess(*d, args, source, callErr);
  if (rc == 0)
    errno = savedErrno;
  return rc;
}

EXTSYS_API int extsys_check_fields(long nr, void* buf, size_t size, unsigned flags) {
  return extsys_check_fields_ex(nr, buf, size, flags, nullptr);
}

EXTSYS_API const char* extsys_source_name(int source) {
  switch (source) {
    case EXTSYS_SOURCE_NONE: return "none";
    case EXTSYS_SOURCE_KERNEL: return "kernel";
    case EXTSYS_SOURCE_SUPERVISOR: return "supervisor";
    case EXTSYS_SOURCE_DISCOVERY: return "discovery";
    default: return nullptr;
  }
}
