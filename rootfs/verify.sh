#!/usr/bin/env bash
# Checks a tree (or an ext4 image) that rootfs/build.sh made, the way a VM build pipeline should before
# shipping it: run as root; exits 1 on any gap, after running every check. Inside a chroot (with /proc,
# /sys, /dev mounted, and a tmpfs on /tmp, /run and /root so the tree is left as it was):
#   - no compiler, no headers: the addon must have come from the package's prebuild
#   - Node >= 20; every package of rootfs/packages.txt installed; the addon's libraries all resolve
#   - node-webrtcbin installed from its tarball without compiling (no build/), loading prebuilds/
#   - `webrtcbin doctor`: every required element, and every optional one but the alternative H.264 encoder
#   - `webrtcbin selftest`: real webrtcbin negotiations over loopback for VP8, VP9 and H.264 with frames
#     decoded, a data channel echo, an X11 capture of Xvfb, a round trip through the signaling daemon
#   - the agent: its systemd unit enabled and valid, its user, `webrtcbin stream` starting
#
# usage: rootfs/verify.sh [TREE | IMAGE.ext4] [--seconds N]   (default TREE: the build's default --out)
set -euo pipefail
PROG=rootfs/verify.sh
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=rootfs/chroot.sh
. "$here/chroot.sh"

target="${WEBRTCBIN_ROOTFS_CACHE:-/var/cache/node-webrtcbin}/rootfs"
seconds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see $0 --help)" ;;
    *) target=$1 ;;
  esac
  shift
done
need_root "$@"
need_commands chroot mount umount findmnt
install_cleanup_trap

if [ -f "$target" ]; then
  # An image: mount it read-only; everything the checks write goes to the tmpfs mounts.
  root=$(mktemp -d /tmp/webrtcbin-verify.XXXXXX)
  CLEANUPS+=("rmdir '$root'")
  _mount "$root" -o loop,ro "$target"
  say "verifying image $target (mounted read-only at $root)"
elif [ -d "$target" ]; then
  root=$(readlink -f "$target")
  say "verifying tree $root"
else
  die "$target: no such tree or image; build one with rootfs/build.sh"
fi
[ -x "$root/usr/local/bin/webrtcbin" ] || die "$root has no /usr/local/bin/webrtcbin: is it a tree rootfs/build.sh made?"
chroot_mount "$root"
tmpfs_mount "$root/tmp"
tmpfs_mount "$root/run"
tmpfs_mount "$root/root"

failures=0
pass() { say "ok    $*"; }
fail() { say "FAIL  $*"; failures=$((failures + 1)); }
in_root() { in_chroot "$root" "$@"; }

# --- the machine without a toolchain ---------------------------------------------------------------
compilers=$(in_root /bin/sh -c 'for c in cc gcc g++ c++ clang clang++ make ld; do command -v $c; done' || true)
if [ -z "$compilers" ]; then pass "no compiler or linker (cc, gcc, g++, c++, clang, make, ld)"; else fail "a toolchain is installed: ${compilers//$'\n'/ }"; fi
headers=$(ls -d "$root/usr/include/gstreamer-1.0" "$root/usr/include/node" "$root/usr/include/c++" 2>/dev/null || true)
if [ -z "$headers" ]; then pass "no GStreamer, Node or C++ headers"; else headers=${headers//$root/}; fail "headers are installed: ${headers//$'\n'/ }"; fi

node_version=$(in_root node -v 2>&1 || true)
if in_root node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
  pass "node $node_version"
else
  fail "node >= 20 is needed at /usr/local/bin/node, found: $node_version"
fi

missing_pkgs=()
for p in $(read_lists "$here/packages.txt"); do
  # shellcheck disable=SC2016
  [ "$(in_root dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = 'install ok installed' ] || missing_pkgs+=("$p")
done
if [ ${#missing_pkgs[@]} -eq 0 ]; then pass "every package of rootfs/packages.txt is installed"; else fail "packages not installed: ${missing_pkgs[*]}"; fi

# --- the package and its prebuilt addon ------------------------------------------------------------
pkg=/usr/local/lib/node_modules/node-webrtcbin
addon=$(in_root node -e "console.log(require('$pkg/node_modules/node-gyp-build').path('$pkg'))" 2>&1 || true)
case "$addon" in
  "$pkg"/prebuilds/linux-x64/*.node) pass "the addon is the prebuild: $addon" ;;
  *) fail "the addon is not loaded from prebuilds/linux-x64: $addon" ;;
esac
if [ -e "$root$pkg/build" ]; then fail "$pkg/build exists: the install compiled the addon"; else pass "no $pkg/build: nothing was compiled at install"; fi
unresolved=$(in_root ldd "$addon" 2>&1 | grep 'not found' || true)
if [ -z "$unresolved" ]; then pass "every library the addon links resolves (ldd)"; else fail "the addon links missing libraries: ${unresolved//$'\n'/;}"; fi

# --- GStreamer elements ----------------------------------------------------------------------------
if doctor=$(in_root webrtcbin doctor 2>&1); then
  pass "webrtcbin doctor: $(echo "$doctor" | tail -n 1)"
else
  fail "webrtcbin doctor:"; echo "$doctor" | sed 's/^/      /'
fi
# The golden image has every element, optional ones too; openh264enc may be absent when x264enc is there
# (Debian does not package openh264).
gaps=$(in_root webrtcbin doctor --json 2>/dev/null | in_root node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const r = JSON.parse(s);
    const present = new Set(r.elements.filter((e) => e.present).map((e) => e.element));
    const gaps = r.elements.filter((e) => !e.present && !(e.element === "openh264enc" && present.has("x264enc")));
    console.log(gaps.map((e) => `${e.element} (${e.debianPackage})`).join(" "));
  });' 2>&1 || echo "doctor --json failed")
if [ -z "$gaps" ]; then pass "every element the doctor knows is present (optional ones too)"; else fail "elements missing: $gaps"; fi

# --- real negotiations -----------------------------------------------------------------------------
say "      webrtcbin selftest --codec vp8,vp9,h264 --xvfb --signaling --seconds $seconds"
if in_root webrtcbin selftest --codec vp8,vp9,h264 --xvfb --signaling --seconds "$seconds" 2>&1 | sed 's/^/      /'; then
  pass "webrtcbin selftest"
else
  fail "webrtcbin selftest (output above)"
fi

# --- the agent ------------------------------------------------------------------------------------
unit=/etc/systemd/system/webrtcbin-agent.service
if [ -L "$root/etc/systemd/system/multi-user.target.wants/webrtcbin-agent.service" ]; then pass "webrtcbin-agent.service is enabled"; else fail "webrtcbin-agent.service is not enabled (multi-user.target.wants)"; fi
if [ -f "$root/etc/webrtcbin/agent.env" ]; then pass "/etc/webrtcbin/agent.env exists"; else fail "/etc/webrtcbin/agent.env is missing"; fi
if in_root getent passwd webrtcbin > /dev/null; then pass "user webrtcbin exists"; else fail "user webrtcbin (User= of the unit) is missing"; fi
if analysis=$(in_root systemd-analyze verify "$unit" 2>&1); then
  pass "systemd-analyze verify $unit"
else
  fail "systemd-analyze verify $unit: ${analysis//$'\n'/; }"
fi
# `webrtcbin stream` as the unit runs it, with an empty environment file: exit 2 and say what is missing.
stream_out=$(in_root webrtcbin stream 2>&1) && stream_code=0 || stream_code=$?
if [ "$stream_code" = 2 ] && [[ "$stream_out" == *"--url (WEBRTCBIN_URL)"* ]]; then
  pass "webrtcbin stream runs (unconfigured: exit 2, \"$stream_out\")"
else
  fail "webrtcbin stream unconfigured should exit 2 naming WEBRTCBIN_URL; exit $stream_code: $stream_out"
fi

if [ "$failures" = 0 ]; then
  say "all checks passed"
else
  say "$failures check(s) failed"
  exit 1
fi
