#!/usr/bin/env python3
"""lib_install_check.py BUILD_DIR SOURCE_ROOT - libextsys as a user gets it.

`meson install` into a temporary DESTDIR, then: the header, the soname and
only the public API exported (readelf/nm on the installed library), and the C
example built with `pkg-config --cflags --libs extsys` (dynamic) and
`pkg-config --static` (a static program), both run and answering. Exit 0 or
1 with what is wrong; 77 (skip) without pkg-config or a C compiler.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

PUBLIC = {"extsys_check_fields", "extsys_check_fields_ex", "extsys_source_name"}


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def main():
    build, src = sys.argv[1], sys.argv[2]
    cc = shutil.which("cc") or shutil.which("gcc")
    if not shutil.which("pkg-config") or not cc:
        print("pkg-config or cc missing: skipped")
        return 77
    fails = []
    with tempfile.TemporaryDirectory() as dest:
        r = run(["meson", "install", "-C", build, "--no-rebuild", "--quiet", "--destdir", dest])
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            return 1
        header = glob.glob(dest + "/**/include/extsys/check_fields.h", recursive=True)
        pcs = glob.glob(dest + "/**/pkgconfig/extsys.pc", recursive=True)
        sos = glob.glob(dest + "/**/libextsys.so.0.*", recursive=True)
        static = glob.glob(dest + "/**/libextsys.a", recursive=True)
        man = glob.glob(dest + "/**/man3/extsys_check_fields.3", recursive=True)
        for what, found in [("include/extsys/check_fields.h", header), ("extsys.pc", pcs),
                            ("libextsys.so.0.*", sos), ("libextsys.a", static),
                            ("man3/extsys_check_fields.3", man)]:
            if len(found) != 1:
                fails.append(f"installed {what}: {found}")
        if fails:
            print("\n".join(fails))
            return 1
        so = sos[0]
        soname = run(["readelf", "-d", so]).stdout
        if "Library soname: [libextsys.so.0]" not in soname:
            fails.append("soname is not libextsys.so.0:\n" + soname)
        syms = run(["nm", "-D", "--defined-only", so]).stdout.split("\n")
        exported = {l.split()[-1].split("@")[0] for l in syms if len(l.split()) == 3
                    and l.split()[1] in "TtDdBbRrWwVviu"}
        if exported != PUBLIC:
            fails.append(f"exported: {sorted(exported)}, want {sorted(PUBLIC)}")
        # pkg-config against the installed tree (prefix rewritten into DESTDIR).
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pcs[0]),
                   PKG_CONFIG_SYSROOT_DIR=dest)
        flags = run(["pkg-config", "--cflags", "--libs", "extsys"], env=env)
        sflags = run(["pkg-config", "--static", "--cflags", "--libs", "extsys"], env=env)
        if flags.returncode or sflags.returncode:
            fails.append("pkg-config: " + flags.stderr + sflags.stderr)
            print("\n".join(fails))
            return 1
        example = os.path.join(src, "tools", "examples", "openat2_cached.c")
        dyn, stat = os.path.join(dest, "ex-dyn"), os.path.join(dest, "ex-static")
        r = run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", dyn, example]
                + flags.stdout.split())
        if r.returncode:
            fails.append("cc (pkg-config --libs): " + r.stderr)
        r = run([cc, "-static", "-o", stat, example] + sflags.stdout.split())
        if r.returncode:
            fails.append("cc -static (pkg-config --static --libs): " + r.stderr)
        libdir = os.path.dirname(so)
        for exe, extra in [(dyn, {"LD_LIBRARY_PATH": libdir}), (stat, {})]:
            if not os.path.exists(exe):
                continue
            r = run([exe, "/proc/self/status"], env=dict(os.environ, **extra))
            if r.returncode != 0 or "probe: resolve bits" not in r.stdout:
                fails.append(f"{os.path.basename(exe)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
        if "not a dynamic executable" not in run(["ldd", stat]).stdout + run(["ldd", stat]).stderr \
                and os.path.exists(stat):
            fails.append("ex-static is dynamic")
    if fails:
        print("\n".join(fails))
        return 1
    print("installed: header, soname libextsys.so.0, 3 exported symbols, extsys.pc; "
          "the example built and run dynamic and static")
    return 0


if __name__ == "__main__":
    sys.exit(main())
