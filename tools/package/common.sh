# SPDX-License-Identifier: MIT
# tools/package/common.sh - shared by build-deb and check (sourced, not run):
# how a clean tree is made and how a package build is configured, so that the
# reproducibility check builds exactly as the package does.

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# clean_tree ROOT DEST: DEST becomes a clean copy of the committed tree of the
# checkout ROOT (HEAD; uncommitted changes are not in it), or of ROOT without
# its build directories when ROOT is not a git checkout (a release tarball).
clean_tree() {
  local root="$1" dest="$2"
  mkdir -p "$(dirname "$dest")"
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    local commit
    commit="$(git -C "$root" rev-parse HEAD)"
    if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
      say "note: uncommitted changes in $root are not built (building HEAD, ${commit:0:12})"
    fi
    git clone --quiet --shared --no-checkout "$root" "$dest"
    git -C "$dest" checkout --quiet --detach "$commit"
  else
    mkdir -p "$dest"
    tar -C "$root" --exclude='./build*' --exclude=./.cache -cf - . | tar -C "$dest" -xf -
  fi
}

# source_date_epoch TREE: the commit's time (man page dates, the .deb's
# timestamps), else now.
source_date_epoch() {
  git -C "$1" log -1 --format=%ct 2>/dev/null || date +%s
}

# Debian's hardening flags (dpkg-buildflags, hardening=+all) without its -O2
# and -g: the package is a release build (-O3, no debug info), hardened.
# Prints NAME=VALUE lines for env(1).
release_flags() {
  local v
  for v in CFLAGS CXXFLAGS CPPFLAGS LDFLAGS; do
    printf '%s=%s\n' "$v" "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get "$v" |
      tr ' ' '\n' | grep -vxE -e '-g' -e '-O[0-9s]?' | tr '\n' ' ' | sed 's/ *$//')"
  done
}

# plain_flags: dpkg-buildflags as Debian's own packages get them (-g -O2 ...).
plain_flags() {
  local v
  for v in CFLAGS CXXFLAGS CPPFLAGS LDFLAGS; do
    printf '%s=%s\n' "$v" "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get "$v")"
  done
}

# The meson options of the package build.
package_meson_args=(
  --prefix=/usr --sysconfdir=/etc --localstatedir=/var
  --buildtype=release
  -Dtests=false
  -Dbuild_tree_policies=false
  -Dman=enabled
  -Dzshcompletiondir=/usr/share/zsh/vendor-completions
)

# configure_build SRC BUILD LOG FLAGS-FUNCTION MESON-ARGS...: meson setup with
# the flags FLAGS-FUNCTION prints in the environment, run from SRC.
configure_build() {
  local src="$1" build="$2" log="$3" flags_fn="$4"
  shift 4
  local -a env_flags
  mapfile -t env_flags < <(cd "$src" && "$flags_fn")
  (cd "$src" && env "${env_flags[@]}" meson setup "$build" "$src" "$@") >>"$log" 2>&1
}

# count_warnings LOG: compiler and linker warnings in a build log.
count_warnings() {
  grep -cE '(warning|Warning|WARNING):' "$1" || true
}
