# shellcheck shell=bash
# Shared by rootfs/build.sh, rootfs/pack.sh and rootfs/verify.sh (sourced, not run): messages, and mounts into a tree
# that are always undone. `chroot_mount ROOT` mounts /proc, /sys, /dev, /dev/pts into ROOT; `bind_mount`
# and `tmpfs_mount` add more; `unmount_all` (run by the EXIT trap that `install_cleanup_trap` sets)
# unmounts them all, last first.

MOUNTS=()
CLEANUPS=()
T0=$(date +%s)

say() { printf '%s [%4ss] %s\n' "${PROG:-rootfs}" "$(( $(date +%s) - T0 ))" "$*"; }
die() { printf '%s: error: %s\n' "${PROG:-rootfs}" "$*" >&2; exit 1; }
# What a failed tool's log says, for a message: its first error lines (not gyp's or npm's closing
# boilerplate), else its last lines, or that it is empty (then the command itself failed at once).
log_tail() {
  local errors
  [ -s "$1" ] || { printf '%s is empty' "$1"; return; }
  errors=$(grep -v -e '^gyp info' -e '^gyp ERR!' -e '^npm ERR!' -e '^npm error' "$1" \
    | grep -m 3 -iE 'error|not found|no such|fatal' | tr '\n' ' ' || true)
  if [ -n "$errors" ]; then printf 'first errors in %s: %s' "$1" "$errors"
  else printf 'last lines of %s: %s' "$1" "$(tail -n 5 "$1" | tr '\n' ' ')"; fi
}

need_root() {
  [ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot and mount need it): sudo $0 $*"
}

need_commands() {
  local c missing=()
  for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
  [ ${#missing[@]} -eq 0 ] || die "missing commands: ${missing[*]}; install them: apt-get install $(printf '%s\n' "${missing[@]}" | sed -e 's/^mkfs.ext4$/e2fsprogs/' -e 's/^e2fsck$/e2fsprogs/' -e 's/^chroot$/coreutils/' | sort -u | tr '\n' ' ')"
}

_mount() { # _mount TARGET mount-args...
  local target=$1; shift
  mkdir -p "$target"
  mount "$@" "$target"
  MOUNTS+=("$target")
}

chroot_mount() {
  local root=$1
  _mount "$root/proc" -t proc proc
  _mount "$root/sys" -t sysfs sysfs
  _mount "$root/dev" --bind /dev
  _mount "$root/dev/pts" -t devpts devpts -o newinstance,ptmxmode=0666
}

# Runs a command in ROOT with a clean environment: nothing of the caller's (NODE_OPTIONS, loaders, CA
# paths of the build host) leaks in. Extra VAR=value words may precede the command.
in_chroot() {
  local root=$1; shift
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    DEBIAN_FRONTEND=noninteractive GST_REGISTRY=/tmp/gst-registry.bin "$@"
}

bind_mount() { _mount "$2" --bind "$1"; }
tmpfs_mount() { _mount "$1" -t tmpfs tmpfs -o mode=1777; }

unmount_all() {
  local i
  for (( i=${#MOUNTS[@]}-1; i>=0; i-- )); do
    umount "${MOUNTS[$i]}" 2>/dev/null || umount -l "${MOUNTS[$i]}" 2>/dev/null || echo "warning: could not unmount ${MOUNTS[$i]}" >&2
  done
  MOUNTS=()
}

run_cleanups() {
  local status=$?
  # A second signal (or a closed stdout) must not cut the unmounting short.
  trap '' INT TERM PIPE HUP
  set +e
  unmount_all
  local c
  for c in "${CLEANUPS[@]}"; do eval "$c" || true; done
  return $status
}

install_cleanup_trap() {
  trap run_cleanups EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

# Refuses to delete a tree something is still mounted in (a previous run killed with -9).
assert_nothing_mounted() {
  local dir; dir=$(readlink -f "$1")
  if findmnt -rn -o TARGET | grep -q "^$dir/"; then
    die "something is still mounted under $dir: $(findmnt -rn -o TARGET | grep "^$dir/" | tr '\n' ' ')— unmount it (umount -R) and run again"
  fi
}

# Package names of the lists given: one a line, '#' starts a comment.
read_lists() { sed -e 's/#.*//' "$@" | awk 'NF { print $1 }' | sort -u; }
