/*
 * open_flags.h - the open(2) flags the test programs pass in raw syscalls
 * and compare answers with, as the kernel numbers them on the architecture
 * built for. Most are the same everywhere (asm-generic/fcntl.h); arm64's and
 * powerpc's asm/fcntl.h renumber O_DIRECT, O_LARGEFILE, O_DIRECTORY and
 * O_NOFOLLOW. glibc's <fcntl.h> has each architecture's O_DIRECT,
 * O_DIRECTORY and O_NOFOLLOW; its O_LARGEFILE is 0 on 64-bit ABIs (the
 * kernel adds the flag itself there), so the kernel's value is written out.
 * Include after <fcntl.h> with _GNU_SOURCE (O_DIRECT).
 */
#ifndef EXTSYS_OPEN_FLAGS_H
#define EXTSYS_OPEN_FLAGS_H

#define X_O_DIRECT ((unsigned long long)O_DIRECT)
#define X_O_DIRECTORY ((unsigned long long)O_DIRECTORY)
#define X_O_NOFOLLOW ((unsigned long long)O_NOFOLLOW)
#if defined(__aarch64__) || defined(__arm__)
#define X_O_LARGEFILE 0x20000ULL /* arch/arm64/include/uapi/asm/fcntl.h */
#elif defined(__powerpc__)
#define X_O_LARGEFILE 0x10000ULL /* arch/powerpc/include/uapi/asm/fcntl.h */
#else
#define X_O_LARGEFILE 0x8000ULL /* asm-generic/fcntl.h */
#endif
/* VALID_OPEN_FLAGS (include/linux/fcntl.h): the same bits on every
 * architecture extsys builds for, only permuted. */
#define X_VALID_OPEN_FLAGS 0x7fffc3ULL

#endif
