# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2154,SC2034  # its variables are the sourcing script's
# tools/oldkernel/lib.sh - the helper functions of run-kernel-tests, sourced
# by it: Debian packages (kernels, a foreign guest's programs) and the
# copying of files and their libraries into the guest's root. They use its
# variables ($cache, $work, $debarch, $arch, $foreign, $U, $R, $build_dir,
# $src_root) and its say/fatal.

# ---------------------------------------------------------------- packages
# Kernels and a foreign guest's programs are Debian packages of $debarch:
# fetched with apt-get download into $cache/debs, unpacked, never installed.
# An image's version: the bzImage header (the string at 0x200 + the u16 at
# 0x20e), else the "Linux version" banner of an uncompressed image (arm64).
vmlinuz_version() {
  python3 - "$1" <<'EOF'
import re, struct, sys
d = open(sys.argv[1], "rb").read()
try:
    if d[0x202:0x206] != b"HdrS":
        raise ValueError
    off = struct.unpack_from("<H", d, 0x20e)[0] + 0x200
    print(d[off:off + 256].split(b"\0")[0].split(b" ")[0].decode())
except Exception:
    m = re.search(rb"Linux version (\S+) \(", d)
    if m:
        print(m[1].decode(errors="replace"))
EOF
}

# fetch_debs PKG...: sets debs[] and vers[] (PKG:$debarch at apt's candidate
# version, downloaded into $cache/debs once, all in one apt-get call; with no
# candidate, e.g. offline, the newest cached .deb), or prints why not and
# returns 1.
fetch_debs() {
  local i pkg v d todo=() pol
  command -v apt-get >/dev/null && command -v apt-cache >/dev/null && command -v dpkg-deb >/dev/null \
    || { echo "apt-get/apt-cache/dpkg-deb are missing: cannot fetch $*"; return 1; }
  debs=() vers=()
  pol="$(apt-cache policy "${@/%/:$debarch}" 2>/dev/null)"
  for pkg in "$@"; do
    v="$(awk -v p="$pkg:$debarch:" -v q="$pkg:" '$0 == p || $0 == q { f = 1; next } /^[^ ]/ { f = 0 } f && /Candidate:/ { print $2; exit }' <<<"$pol")"
    if [ -z "$v" ] || [ "$v" = "(none)" ]; then
      d="$(ls "$cache/debs/${pkg}"_*_{"$debarch",all}.deb 2>/dev/null | sort -V | tail -n 1 || true)"
      [ -n "$d" ] || { echo "package '$pkg:$debarch' is not known to apt-cache (no candidate; is its archive in sources.list, has apt-get update run$( [ "$foreign" = 1 ] && echo ", is the $debarch architecture added (dpkg --add-architecture $debarch)")?) and is not in $cache/debs"; return 1; }
      say "$pkg: apt-cache has no candidate; using the cached ${d##*/}"
      v="$(dpkg-deb -f "$d" Version)"
    else
      d="$(ls "$cache/debs/${pkg}_${v//:/%3a}"_{"$debarch",all}.deb 2>/dev/null | head -n 1 || true)"
      [ -n "$d" ] || todo+=("$pkg:$debarch=$v")
    fi
    debs+=("$d") vers+=("$v")
  done
  if [ ${#todo[@]} -gt 0 ]; then
    say "downloading ${todo[*]} (apt-get download; not installed)"
    (cd "$cache/debs" && apt-get download -q "${todo[@]}" >"$work/apt-download.log" 2>&1) \
      || { tail -n 5 "$work/apt-download.log"; echo "apt-get download ${todo[*]} failed"; return 1; }
    for i in "${!debs[@]}"; do
      [ -n "${debs[$i]}" ] && continue
      pkg="${*:$((i + 1)):1}"
      debs[$i]="$(ls "$cache/debs/${pkg}_${vers[$i]//:/%3a}"_{"$debarch",all}.deb 2>/dev/null | head -n 1 || true)"
      [ -n "${debs[$i]}" ] || { echo "apt-get download $pkg:$debarch=${vers[$i]} left no .deb in $cache/debs"; return 1; }
    done
  fi
}

# fetch_package NAME: sets kpath/klabel/kdesc, or prints why not and returns 1.
# Metapackages are followed to the image package they depend on.
fetch_package() {
  local pkg="$1" dir img next deb ver
  for _ in 1 2 3 4; do
    fetch_debs "$pkg" || return 1
    deb="${debs[0]}" ver="${vers[0]}"
    dir="$cache/kernels/${pkg}_${ver//:/%3a}"
    if ls "$dir"/boot/vmlinuz-* >/dev/null 2>&1 || dpkg-deb -c "$deb" | grep -E ' \./boot/vmlinuz-' >/dev/null; then
      if ! ls "$dir"/boot/vmlinuz-* >/dev/null 2>&1; then
        rm -rf "$dir"; mkdir -p "$dir"
        dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" --wildcards './boot/vmlinuz-*' './boot/config-*' \
          || { echo "cannot unpack ./boot/vmlinuz-* from $deb"; return 1; }
      fi
      img="$(ls "$dir"/boot/vmlinuz-* | head -n 1)"
      kpath="$img"
      klabel="${img##*/vmlinuz-}"
      kdesc="$pkg $ver"
      return 0
    fi
    # A metapackage: follow its first dependency on a kernel image package.
    next="$(dpkg-deb -f "$deb" Depends | tr ',|' '\n\n' | sed 's/(.*//; s/ //g; s/:.*//' | grep -E '^linux-image-' | head -n 1 || true)"
    [ -n "$next" ] || { echo "package $pkg $ver has no ./boot/vmlinuz-* and depends on no linux-image-* package"; return 1; }
    say "$pkg $ver -> $next"
    pkg="$next"
  done
  echo "gave up following kernel metapackages from $1"
  return 1
}

# ---------------------------------------------------------------- the guest's files
# guest_lib NAME: where the guest's loader finds library NAME, and the file
# to copy there: from $U, else from the :$debarch packages installed on the host.
guest_lib() {
  local d
  for d in /lib/$arch-linux-gnu /usr/lib/$arch-linux-gnu /lib /usr/lib; do
    if [ -e "$U$d/$1" ]; then echo "$d/$1 $U$d/$1"; return 0; fi
    if [ -e "$d/$1" ] && [[ "$d" == *-linux-gnu ]]; then echo "$d/$1 $d/$1"; return 0; fi
  done
  return 1
}
# copy_libs_foreign ELF [lenient]: its loader and NEEDED libraries, recursively
# (ldd cannot read a foreign ELF). lenient: a missing library is only noted
# (Python's extension modules: only those a test imports must load).
copy_libs_foreign() {
  local f="$1" lenient="${2:-}" interp n where
  interp="$(readelf -lW "$f" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')"
  if [ -n "$interp" ] && [ ! -e "$R$interp" ]; then
    where="$(guest_lib "${interp##*/}")" || fatal "the loader $interp of $f is missing (not in $U nor installed as :$debarch)"
    mkdir -p "$(dirname "$R$interp")"; cp -L "${where#* }" "$R$interp"; chmod 755 "$R$interp"
  fi
  # The build tree's own libraries (libextsys.so.0): through the ELF's
  # RUNPATH ($ORIGIN-relative, as meson writes it), at the same path.
  local runpath d
  runpath="$(readelf -dW "$f" 2>/dev/null | sed -n 's/.*(RUNPATH).*\[\(.*\)\]$/\1/p' | tr ':' ' ')"
  for n in $(readelf -dW "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
    where=""
    for d in $runpath; do
      d="${d//\$ORIGIN/$(dirname "$f")}"
      if [ -e "$d/$n" ]; then where="$(realpath -m "$d")/$n $d/$n"; break; fi
    done
    if [ -z "$where" ] && ! where="$(guest_lib "$n")"; then
      [ -n "$lenient" ] && { echo "$n (${f##*/})" >>"$work/missing-libs"; continue; }
      fatal "library $n of $f is missing for $arch (not in $U nor installed as :$debarch)"
    fi
    [ -e "$R${where%% *}" ] && continue
    mkdir -p "$(dirname "$R${where%% *}")"
    cp -L "${where#* }" "$R${where%% *}"; chmod a+rX "$R${where%% *}"
    copy_libs_foreign "${where#* }" "$lenient"
  done
}
# copy_libs ELF: every library ldd names for a dynamic ELF, at its own path.
copy_libs() {
  local f="$1" lib libs
  [ "$(head -c 4 "$f" | tr -d '\177')" = ELF ] || return 0
  [ "$foreign" = 1 ] && { copy_libs_foreign "$@"; return; }
  libs="$(ldd "$f" 2>/dev/null)" || return 0   # static
  for lib in $(grep -o '/[^ ]*' <<<"$libs"); do
    [ -e "$R$lib" ] && continue
    [ -f "$lib" ] || fatal "library $lib of $f is missing on the host"
    mkdir -p "$(dirname "$R$lib")"
    cp -L "$lib" "$R$lib"
    chmod a+rX "$R$lib"
  done
}
# guest_file PATH: for a foreign arch, the file to copy to PATH. Build and
# source files are themselves; a system program is the guest's own from $U
# (symlinks followed inside $U), else the host's when it is not an ELF.
guest_file() {
  local p="$1" t n=0
  case "$p" in "$build_dir"/*|"$src_root"/*) echo "$p"; return 0 ;; esac
  [ "$foreign" = 1 ] || { echo "$p"; return 0; }
  for p in "$1" "$(readlink -f "$1")"; do
    while [ -L "$U$p" ] && [ $n -lt 20 ]; do
      t="$(readlink "$U$p")"; n=$((n + 1))
      case "$t" in /*) p="$t" ;; *) p="$(dirname "$p")/$t" ;; esac
    done
    [ -f "$U$p" ] && { echo "$U$p"; return 0; }
  done
  [ -d "$1" ] || [ "$(head -c 4 "$1" | tr -d '\177')" != ELF ] && { echo "$1"; return 0; }
  return 1
}
# copy_file PATH: the file (or directory tree) at the same path in the
# guest, with the libraries of a dynamic ELF.
copy_file() {
  local f dest="$R$1"
  f="$(guest_file "$1")" || { echo "note: no $arch build of $1 (tests that need it fail or skip)" >>"$work/notes"; return 0; }
  mkdir -p "$(dirname "$dest")"
  if [ -d "$f" ]; then
    mkdir -p "$dest"
    cp -rL "$f/." "$dest/"
    chmod -R a+rX "$dest"
    return
  fi
  rm -f "$dest"   # may be a busybox applet link: never write through it
  cp -L "$f" "$dest"
  chmod a+rX "$dest"
  copy_libs "$f"
}

# resolve_kernel K: sets kpath/klabel/kdesc from a path or a package name.
resolve_kernel() {
  local k="$1"
  kpath="" klabel="" kdesc=""
  if [[ "$k" == /* ]]; then
    [ -r "$k" ] || { echo "kernel image $k does not exist or is not readable"; return 1; }
    kpath="$k"
    klabel="$(vmlinuz_version "$k")"
    [ -n "$klabel" ] || klabel="$(basename "$k")"
    kdesc="$k"
  else
    fetch_package "$k" || return 1
  fi
  klabel="${klabel//[^A-Za-z0-9._+-]/_}"
}
