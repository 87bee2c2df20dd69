// Regenerates the seed corpus in fuzz/corpus/<target>/ from real SDP and candidates:
//   - Chromium (playwright-core, /usr/bin/chromium) and Firefox (Debian's firefox-esr, headless, fresh
//     profile) load fuzz/corpus-page.html from a local server; the page answers the harness's own
//     offer (so answers match its m-lines), makes offers (recvonly, sendonly, sendrecv, data channel)
//     and POSTs them back with every candidate it gathers;
//   - our own peer (lib/ WebRtcPeer): its offer, its answer to a browser's offer, its candidates.
// Usage: npx tsx fuzz/make-corpus.ts [fuzz/build]   (the fuzzers must be built: scripts/fuzz.sh 0)
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, CHROMIUM_PATH } from '../test/helpers/browser.js';
import { WebRtcPeer } from '../lib/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const buildDir = path.resolve(process.argv[2] ?? path.join(here, 'build'));
const corpusDir = path.join(here, 'corpus');
const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

let written = 0;
function keep(target: string, name: string, text: string): void {
  const dir = path.join(corpusDir, target);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, name.replace(/[^A-Za-z0-9.-]+/g, '_')), text);
  written++;
}

const harnessOffer = execFileSync(path.join(buildDir, 'sdp_answer_fuzzer'), {
  env: { ...process.env, WEBRTCBIN_FUZZ_PRINT_OFFER: '1' },
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'ignore'],
});
keep('sdp_offer', 'webrtcbin-harness-offer', harnessOffer);

const browserOffers: string[] = [];
const done = new Map<string, (note: string) => void>();
const page = readFileSync(path.join(here, 'corpus-page.html'));
const server = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    if (request.url === '/') response.setHeader('content-type', 'text/html').end(page);
    else if (request.url === '/offer') response.end(harnessOffer);
    else if (request.url === '/result') {
      const { target, name, text } = JSON.parse(body) as { target: string; name: string; text: string };
      keep(target, name, text);
      if (target === 'sdp_offer' && name.includes('recvonly-video-audio') && !name.endsWith('gathered')) browserOffers.push(text);
      response.end();
    } else if (request.url === '/done') {
      response.end();
      const browser = body.includes('firefox') ? 'firefox' : 'chromium';
      done.get(browser)?.(body);
    } else response.writeHead(404).end();
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
const finished = (browser: string) =>
  new Promise<string>((resolve, reject) => {
    done.set(browser, resolve);
    setTimeout(() => reject(new Error(`${browser} did not finish in 60 s`)), 60_000);
  });

// Chromium
{
  const result = finished('chromium');
  const instance = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS });
  await (await instance.newPage()).goto(url);
  console.log(await result);
  await instance.close();
}

// Firefox (playwright cannot drive Debian's build: run it headless on the page)
if (existsSync(FIREFOX)) {
  const profile = mkdtempSync(path.join(tmpdir(), 'fuzz-firefox-'));
  writeFileSync(path.join(profile, 'user.js'), 'user_pref("media.autoplay.default", 0);\n');
  const result = finished('firefox');
  const firefox = spawn(FIREFOX, ['--headless', '--no-remote', '--profile', profile, url], { stdio: 'ignore' });
  try {
    console.log(await result);
  } finally {
    firefox.kill();
    await new Promise((resolve) => firefox.once('exit', resolve));
    rmSync(profile, { recursive: true, force: true });
  }
} else console.warn(`no Firefox at ${FIREFOX}: apt-get install -y firefox-esr`);

// Our own peer: a sending peer's offer and candidates, a receiving peer's answer to a browser's offer.
{
  const sender = new WebRtcPeer({ source: { kind: 'test' }, video: { width: 160, height: 120 } });
  sender.createDataChannel('input');
  let count = 0;
  sender.on('icecandidate', (c) => {
    if (c?.candidate) keep('candidate', `webrtcbin-${count++}`, `${c.sdpMLineIndex ?? 0}\n${c.candidate.replace(/^a=/, '')}`);
  });
  const offer = await sender.createOffer();
  await sender.setLocalDescription(offer);
  keep('sdp_offer', 'webrtcbin-peer-offer', offer.sdp);
  for (const [i, browserOffer] of browserOffers.entries()) {
    const receiver = new WebRtcPeer({ video: { receive: true } });
    await receiver.setRemoteDescription({ type: 'offer', sdp: browserOffer });
    const answer = await receiver.createAnswer();
    keep('sdp_answer', `webrtcbin-peer-answer-to-browser-${i}`, answer.sdp);
    await receiver.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await sender.close();
}
server.close();
console.log(`${written} files in ${corpusDir}`);
