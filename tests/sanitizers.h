// SPDX-License-Identifier: MIT
// tests/sanitizers.h - which sanitizer this test binary (and so extsys, built
// with the same -Dsanitize) carries. A few tests measure things a sanitizer
// runtime changes by design: address space (ASan's shadow memory reserves
// terabytes), resident memory (ASan's quarantine keeps freed blocks) and
// process ids (TSan starts a background thread). Those checks, and only
// those, step aside under the sanitizer that breaks them.
#pragma once

namespace extsys::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif
#else
inline constexpr bool kThreadSanitizer = false;
#endif

inline constexpr bool kAnySanitizer = kAddressSanitizer || kThreadSanitizer;

}  // namespace extsys::test
