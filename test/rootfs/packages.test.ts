// Every program the tests, the library and the examples start comes from a Debian package that rootfs/
// installs (or from the base system): a program that was only on the machine that wrote the test fails on
// a fresh clone as "spawn xwd ENOENT", which is how this test came to be.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
// Not Debian's: Node's own tools, and what the test table below names as a runtime call, not a program.
const NOT_DEBIAN = new Set(['npm', 'npx', 'node']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures-built') return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

/** The programs started by name: spawn("x", …), execFile("x", …) and their Sync forms, and run("x", …)
 * where run is promisify(execFile). */
function programs(): Map<string, string> {
  const found = new Map<string, string>();
  const call = /\b(?:spawn|spawnSync|execFile|execFileSync)\(\s*['"]([A-Za-z][\w.+-]*)['"]/g;
  const promisified = /\brun\(\s*['"]([A-Za-z][\w.+-]*)['"]/g;
  const self = new URL(import.meta.url).pathname;
  for (const dir of ['test', 'lib', 'examples']) {
    for (const file of sources(join(root, dir))) {
      if (file === self) continue;
      const text = readFileSync(file, 'utf8');
      const calls = [...text.matchAll(call), ...(text.includes('promisify(execFile)') ? text.matchAll(promisified) : [])];
      for (const m of calls) {
        if (!found.has(m[1]!)) found.set(m[1]!, file.slice(root.length));
      }
    }
  }
  return found;
}

// dpkg-query exits non-zero when one of several paths is not found: what it printed still counts.
const dpkg = (args: string[]): string => {
  try {
    return execFileSync('dpkg-query', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 2 ** 20 });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? '');
  }
};

/** The package owning each program on PATH, in one dpkg-query call (usrmerge: /usr/bin/x may be
 * registered as /bin/x). A program not on PATH is missing from the map. */
function owners(names: string[]): Map<string, string> {
  const paths = new Map<string, string[]>();
  for (const name of names) {
    let path: string;
    try {
      path = realpathSync(execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' }).trim());
    } catch {
      continue;
    }
    const base = path.split('/').pop()!;
    paths.set(name, [...new Set([path, `/bin/${base}`, `/sbin/${base}`, path.replace(/^\/usr/, '')])]);
  }
  const byPath = new Map<string, string>();
  for (const line of dpkg(['-S', ...[...paths.values()].flat()]).split('\n')) {
    const at = line.lastIndexOf(': ');
    if (at > 0) byPath.set(line.slice(at + 2), line.slice(0, at).split(',')[0]!.split(':')[0]!.trim());
  }
  const found = new Map<string, string>();
  for (const [name, candidates] of paths) {
    const pkg = candidates.map((c) => byPath.get(c)).find(Boolean);
    if (pkg) found.set(name, pkg);
  }
  return found;
}

interface Status {
  depends: string[];
  priority: string;
}

/** Every installed package's dependencies and priority, read once. */
function statuses(): Map<string, Status> {
  const table = new Map<string, Status>();
  for (const line of dpkg(['-W', '-f', '${Package}\t${Depends},${Pre-Depends}\t${Priority}\n']).split('\n')) {
    const [pkg, deps = '', priority = ''] = line.split('\t');
    if (!pkg) continue;
    const depends = deps.split(/[,|]/).map((d) => d.trim().split(/[\s:(]/)[0]!).filter(Boolean);
    table.set(pkg, { depends, priority });
  }
  return table;
}

/** The packages rootfs/ lists for `npm test`, and everything they depend on. */
function installedByRootfs(table: Map<string, Status>): Set<string> {
  const listed = execFileSync('bash', [join(root, 'rootfs/install-packages.sh'), '--test', '--list'], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
  const all = new Set<string>();
  const stack = [...listed];
  while (stack.length) {
    const pkg = stack.pop()!;
    if (all.has(pkg)) continue;
    all.add(pkg);
    stack.push(...(table.get(pkg)?.depends ?? []));
  }
  return all;
}

t.test('every program started by name comes from a package rootfs/ installs, or from the base system', async (t) => {
  const table = statuses();
  const provided = installedByRootfs(table);
  const started = programs();
  const owned = owners([...started.keys()]);
  t.ok(started.size >= 20, `found the programs started (${started.size})`);
  for (const [program, file] of started) {
    if (NOT_DEBIAN.has(program)) continue;
    const pkg = owned.get(program);
    if (!pkg) {
      t.fail(`${program} (started in ${file}) is not installed: add its Debian package to rootfs/packages-test.txt`);
      continue;
    }
    const priority = table.get(pkg)?.priority ?? '';
    t.ok(
      provided.has(pkg) || priority === 'required' || priority === 'important',
      `${program} (${file}) is in ${pkg}: ${provided.has(pkg) ? 'installed by rootfs/' : `priority ${priority}`}`,
    );
  }
});
