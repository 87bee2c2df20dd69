// The VM image's files agree with the code: the agent's unit runs a real cli command, its environment
// file names only variables `webrtcbin stream` reads, and every list rootfs/build.sh reads parses.
import t from 'tap';
import { readFileSync } from 'node:fs';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const names = (file: string) =>
  read(file)
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);

t.test('every package list parses into Debian package names', async (t) => {
  for (const file of ['rootfs/packages.txt', 'rootfs/packages-image.txt', 'rootfs/packages-dev.txt', 'rootfs/packages-test.txt']) {
    const list = names(file);
    t.ok(list.length > 0, `${file}: ${list.length} packages`);
    for (const name of list) t.match(name, /^[a-z0-9][a-z0-9+.-]+$/, `${file}: ${name}`);
    t.equal(new Set(list).size, list.length, `${file}: no duplicates`);
  }
  const runtime = new Set(names('rootfs/packages.txt'));
  t.same(names('rootfs/packages-image.txt').filter((p) => runtime.has(p)), [], 'packages-image.txt only adds to packages.txt');
  t.ok(names('rootfs/packages-image.txt').includes('systemd-sysv'), 'the image has an init (systemd) to start the agent');
});

t.test('webrtcbin-agent.service runs `webrtcbin stream` with /etc/webrtcbin/agent.env', async (t) => {
  const unit = read('rootfs/webrtcbin-agent.service');
  t.match(unit, /^ExecStart=\/usr\/local\/bin\/webrtcbin stream$/m);
  t.match(unit, /^EnvironmentFile=\/etc\/webrtcbin\/agent\.env$/m);
  t.match(unit, /^LoadCredential=webrtcbin-token:\/etc\/webrtcbin\/agent\.token$/m, 'the token comes as a systemd credential');
  t.notMatch(unit, /--(?:token|secret)\b/, 'no secret on the command line');
  t.match(read('lib/cli/secrets.ts'), /credential: 'webrtcbin-token'/, 'stream reads that credential');
  t.match(unit, /^WantedBy=multi-user\.target$/m);
  t.match(unit, /^RestartPreventExitStatus=2$/m, 'no restart loop while unconfigured (stream exits 2)');
  t.match(read('lib/cli/cli.ts'), /case 'stream':/, 'the cli has the stream command');
  t.match(read('rootfs/build.sh'), /webrtcbin-agent\.env" "\$out\/etc\/webrtcbin\/agent\.env"/, 'build.sh installs the env file where the unit reads it');
});

t.test('agent.env names only variables that webrtcbin stream reads', async (t) => {
  const stream = read('lib/cli/stream.ts');
  const keys = [...read('rootfs/webrtcbin-agent.env').matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  t.ok(keys.includes('WEBRTCBIN_URL') && keys.includes('WEBRTCBIN_SESSION'), keys.join(' '));
  t.notOk(keys.includes('WEBRTCBIN_TOKEN'), 'the token is a credential file, not an environment variable');
  for (const key of keys) {
    if (key === 'DISPLAY' || key === 'XAUTHORITY') continue; // read by stream.ts (DISPLAY) and Xlib (XAUTHORITY)
    t.ok(stream.includes(`env.${key}`), `lib/cli/stream.ts reads ${key}`);
  }
  t.ok(stream.includes('env.DISPLAY'), 'lib/cli/stream.ts reads DISPLAY');
});

// A renamed package.json script once left build.sh running `npm run --silent prebuilds` (gone), failing
// on every clean clone with an empty log.
t.test('every npm script the rootfs scripts run exists in package.json', async (t) => {
  const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
  const runs: string[] = [];
  for (const file of ['rootfs/build.sh', 'rootfs/pack.sh', 'rootfs/verify.sh', 'rootfs/install-packages.sh', 'rootfs/chroot.sh']) {
    for (const m of read(file).matchAll(/(?:\bnpm|\bnpm_on_host\[@\]\}")\s+run\s+(?:--\S+\s+)*([A-Za-z][\w:-]*)/g)) {
      runs.push(m[1]!);
      t.ok(scripts.includes(m[1]!), `${file} runs \`npm run ${m[1]}\`, a script package.json has`);
    }
  }
  t.ok(runs.includes('prebuild'), 'the prebuild step is among them');
  t.match(read('package.json'), /"prebuild": "prebuildify /, 'npm run prebuild is prebuildify');
});

t.test('build.sh makes its tarball with rootfs/pack.sh, which reports what a failed step logged', async (t) => {
  t.match(read('rootfs/build.sh'), /"\$here\/pack\.sh" --out "\$cache\/pack"/, 'build.sh runs pack.sh (the part CI can run without root)');
  const pack = read('rootfs/pack.sh');
  t.notMatch(pack, /need_root/, 'pack.sh needs no root');
  t.match(pack, /npm run prebuild failed: \$\(log_tail "\$out\/prebuild\.log"\)/, 'a failed prebuild prints what its log says');
  t.match(pack, /npm pack failed: \$\(log_tail "\$out\/pack\.log"\)/, 'so does a failed npm pack');
  t.match(read('rootfs/chroot.sh'), /log_tail\(\) \{[^}]*is empty/, 'an empty log is said to be empty');
});
