#!/usr/bin/env python3
"""check_fields.py - CHECK_FIELDS from Python with ctypes and libextsys.

Asks which clone3 flags this kernel accepts (struct clone_args, 88 bytes) and
whether openat2 knows RESOLVE_CACHED; prints one line each and exits 0, or 1
when a probe fails. LIBEXTSYS names the library file (default: libextsys.so.0,
found by the dynamic loader).
"""
import ctypes
import os
import sys

SYS_openat2, SYS_clone3 = 437, 435  # the same on x86_64 and the generic table
RESOLVE_CACHED = 0x20
SOURCES = {0: "none", 1: "kernel", 2: "supervisor", 3: "discovery"}

lib = ctypes.CDLL(os.environ.get("LIBEXTSYS", "libextsys.so.0"), use_errno=True)
lib.extsys_check_fields_ex.argtypes = [ctypes.c_long, ctypes.c_void_p, ctypes.c_size_t,
                                       ctypes.c_uint, ctypes.POINTER(ctypes.c_int)]
lib.extsys_check_fields_ex.restype = ctypes.c_int


def probe(nr, size):
    """The answer as bytes, and its source; raises OSError on -1."""
    buf = ctypes.create_string_buffer(size)
    source = ctypes.c_int(0)
    if lib.extsys_check_fields_ex(nr, buf, size, 0, ctypes.byref(source)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return buf.raw, SOURCES.get(source.value, "?")


def u64(raw, offset):
    return int.from_bytes(raw[offset:offset + 8], sys.byteorder)


def main():
    try:
        how, src = probe(SYS_openat2, 24)           # flags, mode, resolve
        print(f"openat2 resolve 0x{u64(how, 16):x} RESOLVE_CACHED "
              f"{'yes' if u64(how, 16) & RESOLVE_CACHED else 'no'} ({src})")
        args, src = probe(SYS_clone3, 88)           # flags first
        print(f"clone3 flags 0x{u64(args, 0):x} ({src})")
    except OSError as e:
        print(f"probe failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
