// npm's `prepack` (before `npm pack` and `npm publish`): the tarball always carries the addon built for
// this platform, as sharp's do, so installing it needs no compiler. Runs `npm run prebuild`
// (prebuildify) when prebuilds/<platform>-<arch>/ has no .node or one older than src-native/ or
// binding.gyp; otherwise leaves the prebuild alone. A Release build in build/ that is newer than the
// sources (what `npm install` / setup.sh just compiled) is stripped into prebuilds/ instead of compiling
// the same sources a second time (prebuildify does no more than build, strip and name it).
// `node scripts/prepack.mjs [--check]`: with --check it only says whether a build is needed (exit 1).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prebuildDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const releaseBuild = path.join(root, 'build', 'Release', 'webrtcbin.node');
// prebuildify --napi --tag-libc's name for it (node-gyp-build looks for this).
const prebuildName = `node-webrtcbin.${process.platform === 'linux' ? 'glibc' : process.platform}.node`;

/** Newest modification time under `p` (a file or a folder, recursively). */
function newest(p) {
  const stat = statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(p).map((name) => newest(path.join(p, name))));
}

function sourcesTime() {
  return Math.max(newest(path.join(root, 'src-native')), newest(path.join(root, 'binding.gyp')));
}

/** build/Release's addon copied and stripped into prebuilds/ when it is newer than the sources. */
function reuseReleaseBuild() {
  if (!existsSync(releaseBuild) || statSync(releaseBuild).mtimeMs < sourcesTime()) return false;
  mkdirSync(prebuildDir, { recursive: true });
  const target = path.join(prebuildDir, prebuildName);
  copyFileSync(releaseBuild, target);
  const strip = spawnSync('strip', ['--strip-unneeded', target], { stdio: 'inherit' });
  return strip.status === 0 && !prebuildStale();
}

/** Why the prebuild must be (re)made, or '' when it is current. */
export function prebuildStale() {
  const built = existsSync(prebuildDir) ? readdirSync(prebuildDir).filter((f) => f.endsWith('.node')) : [];
  if (built.length === 0) return `no prebuild in ${path.relative(root, prebuildDir)}/`;
  const oldest = Math.min(...built.map((f) => statSync(path.join(prebuildDir, f)).mtimeMs));
  return sourcesTime() > oldest ? 'the prebuild is older than src-native/ or binding.gyp' : '';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const stale = prebuildStale();
  if (process.argv.includes('--check')) {
    console.log(stale || 'the prebuild is current');
    process.exit(stale ? 1 : 0);
  }
  if (stale && reuseReleaseBuild()) {
    console.error(`prepack: ${stale}: took build/Release/webrtcbin.node (newer than the sources), stripped`);
  } else if (stale) {
    console.error(`prepack: ${stale}: npm run prebuild (prebuildify; needs the build packages of rootfs/packages-dev.txt)`);
    const npm = process.env.npm_execpath;
    const r = npm
      ? spawnSync(process.execPath, [npm, 'run', 'prebuild'], { cwd: root, stdio: 'inherit' })
      : spawnSync('npm', ['run', 'prebuild'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) {
      console.error('prepack: npm run prebuild failed: the package would ship without its addon, so it is not packed. Install the build packages (bash scripts/setup.sh --dev) and retry.');
      process.exit(1);
    }
    if (prebuildStale()) {
      console.error(`prepack: npm run prebuild left no current prebuild in ${prebuildDir}`);
      process.exit(1);
    }
  }
}
