#!/usr/bin/env bash
# The npm tarball rootfs/build.sh installs in the image: makes the prebuild (`npm run prebuild`:
# prebuildify) when prebuilds/linux-x64/ has none or one older than src-native/, then `npm pack`s this
# checkout into DIR and prints the tarball's path (the last line of stdout). Needs no root, so it runs
# alone too (CI, a clean clone: `rootfs/pack.sh --out /tmp/pack`). Logs: DIR/prebuild.log, DIR/pack.log.
#
# usage: rootfs/pack.sh --out DIR [--node PATH] [--npm DIR]
#   --out DIR    where the tarball and the logs go (created; old tarballs in it removed)
#   --node PATH  the Node.js binary to build and pack with (default: `command -v node`)
#   --npm DIR    the npm to run (default: the npm next to that node)
set -euo pipefail
PROG=rootfs/pack.sh
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
# shellcheck source=rootfs/chroot.sh
. "$here/chroot.sh"
# Progress and errors on stderr; stdout carries only the tarball's path.
exec 3>&1 1>&2

out='' node_bin='' npm_dir=''
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift ;;
    --node) node_bin=$2; shift ;;
    --npm) npm_dir=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see $0 --help)" ;;
  esac
  shift
done
[ -n "$out" ] || die "--out DIR is required (see $0 --help)"
mkdir -p "$out"
out=$(readlink -f "$out")
node_bin=$(readlink -f "${node_bin:-$(command -v node || true)}")
[ -x "$node_bin" ] || die "no Node.js binary: pass --node /path/to/node"
npm_dir=$(readlink -f "${npm_dir:-$(dirname "$node_bin")/../lib/node_modules/npm}")
[ -f "$npm_dir/bin/npm-cli.js" ] || die "no npm at $npm_dir: pass --npm /path/to/lib/node_modules/npm"
npm() { (cd "$repo" && PATH="$(dirname "$node_bin"):$PATH" "$node_bin" "$npm_dir/bin/npm-cli.js" "$@"); }

[ -d "$repo/node_modules" ] || die "$repo has no node_modules: run \`npm ci\` there first (or pass build.sh a --tarball)"
# The script this step runs must exist: a renamed script failed here once with nothing in its log.
npm pkg get scripts.prebuild | grep -q prebuildify || die "package.json has no \"prebuild\" script running prebuildify"
prebuild=$(ls "$repo/prebuilds/linux-x64/"*.node 2>/dev/null | head -n 1 || true)
if [ -z "$prebuild" ] || [ -n "$(find "$repo/src-native" "$repo/binding.gyp" -newer "$prebuild" -print -quit)" ]; then
  say "      the prebuild is missing or older than src-native/: npm run prebuild (log: $out/prebuild.log)"
  npm run prebuild > "$out/prebuild.log" 2>&1 \
    || die "npm run prebuild failed: $(log_tail "$out/prebuild.log"). Install the build packages (rootfs/install-packages.sh --dev) and see $out/prebuild.log"
  prebuild=$(ls "$repo/prebuilds/linux-x64/"*.node 2>/dev/null | head -n 1 || true)
  [ -n "$prebuild" ] || die "npm run prebuild made no prebuilds/linux-x64/*.node: $(log_tail "$out/prebuild.log")"
fi
rm -f "$out"/*.tgz
name=$(npm pack --silent --pack-destination "$out" 2> "$out/pack.log" | tail -n 1) \
  || die "npm pack failed: $(log_tail "$out/pack.log"); see $out/pack.log"
[ -n "$name" ] && [ -f "$out/$name" ] || die "npm pack wrote no tarball: $(log_tail "$out/pack.log")"
prebuilt=$(tar -tzf "$out/$name" | sed -n 's|^package/\(prebuilds/linux-x64/.*\.node\)$|\1|p')
[ -n "$prebuilt" ] || die "$out/$name has no prebuilds/linux-x64/*.node although $prebuild exists: check \"files\" in package.json"
echo "$out/$name" >&3
