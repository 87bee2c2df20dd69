#!/usr/bin/env bash
# Builds the VM root filesystem: Debian 12 (debootstrap, minbase) + the runtime packages of
# rootfs/packages.txt (+ packages-image.txt: init, udev, network) + Node 20 + this package installed from
# its npm tarball with a prebuilt addon (the image has no compiler) + the agent's systemd unit; and
# optionally an ext4 image of it for Firecracker. Run as root. Idempotent: every run rebuilds the output
# tree from cached stages, keyed by what they are made of:
#   CACHE/base-KEY       debootstrap of SUITE from MIRROR            (key: suite, mirror, arch)
#   CACHE/packages-KEY   base + the package lists installed          (key: base key + both lists)
#   CACHE/apt-archives, CACHE/npm, CACHE/debootstrap   downloads, kept across keys
# A rebuild with nothing changed reuses both stages and downloads nothing but npm metadata.
#
# usage: rootfs/build.sh [options]
#   --out DIR        the tree to write (default CACHE/rootfs); replaced on every run
#   --image FILE     also write an ext4 image of the tree (label webrtcbin-root)
#   --size SIZE      image size, e.g. 2G (default: the tree's size + 30% + 128 MiB)
#   --node PATH      the Node.js (>= 20) binary to install as /usr/local/bin/node (default: `command -v node`)
#   --npm DIR        the npm to install with it (default: the npm next to that node)
#   --tarball FILE   the npm tarball to install (default: rootfs/pack.sh: `npm pack` of this checkout,
#                    the prebuild made first)
#   --overlay DIR    copy DIR's contents over the tree last (repeatable): the agent's own files,
#                    /etc/webrtcbin/agent.env, SSH keys, …
#   --cache DIR      cache directory (default $WEBRTCBIN_ROOTFS_CACHE or /var/cache/node-webrtcbin)
#   --mirror URL     Debian mirror (default http://deb.debian.org/debian)
#   --security URL   Debian security mirror (default http://deb.debian.org/debian-security)
#   --refresh        drop the cached stages (not the downloads) and rebuild them: takes new security updates
set -euo pipefail
PROG=rootfs/build.sh
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
# shellcheck source=rootfs/chroot.sh
. "$here/chroot.sh"

suite=bookworm
cache=${WEBRTCBIN_ROOTFS_CACHE:-/var/cache/node-webrtcbin}
mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security
out='' image='' size='' node_bin='' npm_dir='' tarball='' refresh=0
overlays=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift ;;
    --image) image=$2; shift ;;
    --size) size=$2; shift ;;
    --node) node_bin=$2; shift ;;
    --npm) npm_dir=$2; shift ;;
    --tarball) tarball=$2; shift ;;
    --overlay) [ -d "$2" ] || die "--overlay $2: not a directory"; overlays+=("$(readlink -f "$2")"); shift ;;
    --cache) cache=$2; shift ;;
    --mirror) mirror=$2; shift ;;
    --security) security=$2; shift ;;
    --refresh) refresh=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see $0 --help)" ;;
  esac
  shift
done

need_root "$@"
need_commands debootstrap chroot mount umount findmnt sha256sum tar
[ -z "$image" ] || need_commands mkfs.ext4 e2fsck
arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || die "this script builds for the host's architecture and was only tested on amd64 (host: $arch); see docs/rootfs.md for arm64"

mkdir -p "$cache"
cache=$(readlink -f "$cache")
out=$(readlink -m "${out:-$cache/rootfs}")
[ -z "$image" ] || image=$(readlink -m "$image")
case "$out" in /|/usr|/usr/*|/etc|/etc/*|/bin|/lib|/var|/home|/root) die "--out $out: refusing to replace a system directory" ;; esac

# One build at a time per cache.
exec 9>"$cache/.lock"
flock -n 9 || die "another rootfs/build.sh is running with cache $cache (lock $cache/.lock)"
install_cleanup_trap

# --- Node.js -------------------------------------------------------------------------------------
node_bin=$(readlink -f "${node_bin:-$(command -v node || true)}")
[ -x "$node_bin" ] || die "no Node.js binary: pass --node /path/to/node (Node >= 20, for linux-$arch)"
node_version=$("$node_bin" -v 2>/dev/null || true)
case "$node_version" in v[0-9]*) ;; *) die "$node_bin is not a Node.js binary (\`$node_bin -v\` printed '$node_version'): pass --node /path/to/node" ;; esac
node_major=${node_version#v}; node_major=${node_major%%.*}
[ "$node_major" -ge 20 ] || die "$node_bin is Node $node_version; node-webrtcbin needs >= 20: pass --node"
npm_dir=$(readlink -f "${npm_dir:-$(dirname "$node_bin")/../lib/node_modules/npm}")
[ -f "$npm_dir/bin/npm-cli.js" ] || die "no npm at $npm_dir: pass --npm /path/to/lib/node_modules/npm"

npm_on_host=("$node_bin" "$npm_dir/bin/npm-cli.js")

lists=("$here/packages.txt" "$here/packages-image.txt")
packages=$(read_lists "${lists[@]}")
key() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }
base_key=$(key "$suite" "$mirror" "$security" "$arch" minbase v1)
pkg_key=$(key "$base_key" "$packages" v2)
base="$cache/base-$base_key"
staged="$cache/packages-$pkg_key"
mkdir -p "$cache/apt-archives/partial" "$cache/npm" "$cache/debootstrap" "$cache/pack"

if [ "$refresh" = 1 ]; then
  say "--refresh: dropping cached stages"
  for d in "$cache"/base-* "$cache"/packages-*; do [ -e "$d" ] || continue; assert_nothing_mounted "$d"; rm -rf "$d"; done
fi
# Stages of other keys are stale: drop them (the downloads stay).
for d in "$cache"/base-* "$cache"/packages-*; do
  [ -e "$d" ] || continue
  case "$d" in "$base"|"$staged") ;; *) assert_nothing_mounted "$d"; say "dropping stale stage $(basename "$d")"; rm -rf "$d" ;; esac
done

# --- stage 1: debootstrap --------------------------------------------------------------------------
if [ -f "$base/.complete" ]; then
  say "[1/6] base system: cached ($(basename "$base"))"
else
  say "[1/6] base system: debootstrap --variant=minbase $suite from $mirror"
  assert_nothing_mounted "$base.tmp"
  rm -rf "$base.tmp"
  debootstrap --variant=minbase --arch="$arch" --cache-dir="$cache/debootstrap" "$suite" "$base.tmp" "$mirror" \
    > "$cache/debootstrap.log" 2>&1 || die "debootstrap failed; see $cache/debootstrap.log (last lines: $(tail -n 3 "$cache/debootstrap.log" | tr '\n' ' '))"
  cat > "$base.tmp/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
  touch "$base.tmp/.complete"
  mv "$base.tmp" "$base"
fi

# --- stage 2: the package lists ---------------------------------------------------------------------
if [ -f "$staged/.complete" ]; then
  say "[2/6] packages: cached ($(basename "$staged"), $(echo "$packages" | wc -w) packages)"
else
  say "[2/6] packages: $(echo "$packages" | wc -w) from ${lists[*]##*/} (apt log: $cache/apt.log)"
  assert_nothing_mounted "$staged.tmp"
  rm -rf "$staged.tmp"
  cp -a "$base" "$staged.tmp"
  rm -f "$staged.tmp/.complete"
  chroot_mount "$staged.tmp"
  bind_mount "$cache/apt-archives" "$staged.tmp/var/cache/apt/archives"
  # No daemon starts inside the chroot.
  printf '#!/bin/sh\nexit 101\n' > "$staged.tmp/usr/sbin/policy-rc.d"
  chmod +x "$staged.tmp/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$staged.tmp/etc/resolv.conf"
  # A VM image needs no manuals, docs or translations (~140 MiB); copyright files stay.
  printf '%s\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' 'path-exclude=/usr/share/man/*' \
    'path-exclude=/usr/share/info/*' 'path-exclude=/usr/share/locale/*' 'path-include=/usr/share/locale/locale.alias' \
    > "$staged.tmp/etc/dpkg/dpkg.cfg.d/01-webrtcbin-nodoc"
  # $packages is a list of words on purpose.
  # shellcheck disable=SC2086
  {
    in_chroot "$staged.tmp" apt-get update &&
    in_chroot "$staged.tmp" apt-get install -y --no-install-recommends $packages &&
    in_chroot "$staged.tmp" apt-get dist-upgrade -y --no-install-recommends
  } > "$cache/apt.log" 2>&1 || die "apt-get failed in the chroot; see $cache/apt.log (last lines: $(tail -n 3 "$cache/apt.log" | tr '\n' ' '))"
  unmount_all
  rm -f "$staged.tmp/usr/sbin/policy-rc.d"
  rm -rf "$staged.tmp"/var/lib/apt/lists/* "$staged.tmp"/var/cache/apt/*.bin "$staged.tmp"/var/cache/apt/archives/*.deb
  # what debootstrap unpacked before the exclusions existed
  find "$staged.tmp/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  find "$staged.tmp/usr/share/man" "$staged.tmp/usr/share/info" -mindepth 1 -delete
  find "$staged.tmp/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  say "      $(grep -c '^Unpacking ' "$cache/apt.log" || true) packages unpacked; $(du -sh --exclude=proc "$staged.tmp" | cut -f1) on disk"
  touch "$staged.tmp/.complete"
  mv "$staged.tmp" "$staged"
fi

# --- the npm tarball ------------------------------------------------------------------------------
if [ -n "$tarball" ]; then
  tarball=$(readlink -f "$tarball")
  [ -f "$tarball" ] || die "--tarball $tarball: no such file"
  say "[3/6] package: $tarball"
else
  say "[3/6] package: npm pack of $repo (rootfs/pack.sh)"
  tarball=$("$here/pack.sh" --out "$cache/pack" --node "$node_bin" --npm "$npm_dir" | tail -n 1) || exit 1
  [ -f "$tarball" ] || die "rootfs/pack.sh printed no tarball (got '$tarball')"
fi
prebuilt=$(tar -tzf "$tarball" | sed -n 's|^package/\(prebuilds/linux-x64/.*\.node\)$|\1|p')
[ -n "$prebuilt" ] || die "$tarball has no prebuilds/linux-x64/*.node: run \`npm run prebuild\` before \`npm pack\` (the image has no compiler)"
say "      $(basename "$tarball"): $(du -h "$tarball" | cut -f1), ${prebuilt//$'\n'/ }"

# --- the output tree ------------------------------------------------------------------------------
say "[4/6] tree: $out"
assert_nothing_mounted "$out"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -a "$staged" "$out"
rm -f "$out/.complete"

say "      Node $("$node_bin" -v) from $node_bin, npm $("$node_bin" "$npm_dir/bin/npm-cli.js" -v) from $npm_dir"
install -m 0755 "$node_bin" "$out/usr/local/bin/node"
mkdir -p "$out/usr/local/lib/node_modules"
cp -a "$npm_dir" "$out/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$out/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$out/usr/local/bin/npx"
in_chroot "$out" /usr/local/bin/node -e 0 2>"$cache/node.log" \
  || die "the Node binary does not run in the image ($(head -n 2 "$cache/node.log" | tr '\n' ' ')): pass a --node built for Debian 12 $arch"

say "[5/6] npm install -g $(basename "$tarball") in the image (its install script must find the prebuild: there is no compiler)"
chroot_mount "$out"
bind_mount "$cache/npm" "$out/root/.npm"
cp "$tarball" "$out/tmp/package.tgz"
# The host's registry settings (a mirror, a proxy, a CA for a TLS-inspecting proxy) apply in the image too.
npm_env=()
for setting in registry proxy https-proxy strict-ssl; do
  value=$("${npm_on_host[@]}" config get "$setting" 2>/dev/null || true)
  case "$value" in ''|null|undefined) ;; *) npm_env+=("npm_config_${setting//-/_}=$value") ;; esac
done
cafile=$("${npm_on_host[@]}" config get cafile 2>/dev/null || true)
if [ -f "$cafile" ]; then cp "$cafile" "$out/tmp/npm-ca.crt"; npm_env+=(npm_config_cafile=/tmp/npm-ca.crt); fi
in_chroot "$out" "${npm_env[@]}" \
  npm install --global --omit=dev --no-audit --no-fund --foreground-scripts --allow-scripts=node-webrtcbin /tmp/package.tgz > "$cache/npm-install.log" 2>&1 \
  || die "npm install in the image failed; see $cache/npm-install.log (last lines: $(tail -n 3 "$cache/npm-install.log" | tr '\n' ' '))"
unmount_all
rm -f "$out/tmp/package.tgz" "$out/tmp/npm-ca.crt"
rm -rf "$out/root/.npm"/* "$out/root/.npm"/.[!.]* 2>/dev/null || true
pkgdir="$out/usr/local/lib/node_modules/node-webrtcbin"
[ -x "$out/usr/local/bin/webrtcbin" ] || die "npm install left no /usr/local/bin/webrtcbin; see $cache/npm-install.log"
[ ! -e "$pkgdir/build" ] || die "the install compiled the addon (build/ exists) instead of loading the prebuild; see $cache/npm-install.log"

say "[6/6] system: agent unit, user, fstab, network"
install -D -m 0644 "$here/webrtcbin-agent.service" "$out/etc/systemd/system/webrtcbin-agent.service"
install -D -m 0600 "$here/webrtcbin-agent.env" "$out/etc/webrtcbin/agent.env"
in_chroot "$out" useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin webrtcbin
in_chroot "$out" chown root:webrtcbin /etc/webrtcbin/agent.env
chmod 0640 "$out/etc/webrtcbin/agent.env"
# The publisher token (LoadCredential= in the unit; systemd reads it as root): a root-only placeholder.
[ -e "$out/etc/webrtcbin/agent.token" ] || install -m 0600 /dev/null "$out/etc/webrtcbin/agent.token"
echo webrtcbin-vm > "$out/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\twebrtcbin-vm\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$out/etc/hosts"
printf 'LABEL=webrtcbin-root\t/\text4\tdefaults,noatime\t0\t1\n' > "$out/etc/fstab"
cat > "$out/etc/systemd/network/20-wired.network" <<'EOF'
# DHCP on every wired link; an address the kernel already set (Firecracker's ip= boot argument) stays.
[Match]
Name=eth* en*

[Network]
DHCP=yes
KeepConfiguration=yes
EOF
in_chroot "$out" systemctl enable --quiet webrtcbin-agent.service systemd-networkd.service > /dev/null 2>&1 \
  || die "systemctl enable failed in the image"
# Per-machine identity is made at first boot, not baked into the golden image.
: > "$out/etc/machine-id"
rm -f "$out/var/lib/dbus/machine-id"

for o in "${overlays[@]}"; do
  say "      overlay $o"
  cp -a "$o/." "$out/"
done
tree_mb=$(du -sm "$out" | cut -f1)
say "tree done: $out, ${tree_mb} MiB"

if [ -n "$image" ]; then
  if [ -z "$size" ]; then size="$(( tree_mb * 13 / 10 + 128 ))M"; fi
  say "image: $image ($size, ext4)"
  mkdir -p "$(dirname "$image")"
  rm -f "$image.tmp"
  truncate -s "$size" "$image.tmp"
  mkfs.ext4 -q -F -L webrtcbin-root -d "$out" "$image.tmp" > "$cache/mkfs.log" 2>&1 \
    || die "mkfs.ext4 -d failed (is --size $size big enough for ${tree_mb} MiB?); see $cache/mkfs.log"
  e2fsck -fn "$image.tmp" > "$cache/e2fsck.log" 2>&1 || die "e2fsck found errors in the new image; see $cache/e2fsck.log"
  mv "$image.tmp" "$image"
  say "image done: $image, $(du -h --apparent-size "$image" | cut -f1) (allocated $(du -h "$image" | cut -f1))"
fi
say "done in $(( $(date +%s) - T0 )) s. Check it: rootfs/verify.sh $out"
