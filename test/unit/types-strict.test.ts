// The package's types as a user meets them under `strict`: every ```ts example of the README and docs
// type-checks against them; the peer's values go into the signaling client's messages as they are; a
// wrong mix of options does not compile (each `@ts-expect-error` below must be needed). And at run
// time an unknown option key is refused with the valid ones.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOptionKeys } from '../../lib/peer/options.js';
import { WebRtcPeer } from '../../lib/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS = ['README.md', 'docs/api.md', 'docs/viewer.md'];

/** Names the examples leave to the reader (your signaling, your TURN credentials, your model …). */
const PLACEHOLDERS: Record<string, string> = {
  username: 'declare const username: string;',
  credential: 'declare const credential: string;',
  token: 'declare const token: string;',
  iceServers: "declare const iceServers: import('node-webrtcbin').RTCIceServer[];",
  answer: "declare const answer: import('node-webrtcbin').RTCSessionDescriptionInit;",
  candidate: "declare const candidate: import('node-webrtcbin').RTCIceCandidateInit;",
  signaling: 'declare const signaling: { send(message: object | null): void };',
  analyse: 'declare function analyse(data: Buffer, width: number, height: number, stride: number): void;',
  recognise: "declare function recognise(frame: import('node-webrtcbin').Frame): void;",
  render: 'declare function render(stats: object): void;',
  showNoVncInstead: 'declare function showNoVncInstead(reason: string): void;',
  // A page's sections share the imports of its first example.
  WebRtcPeer: "import { WebRtcPeer } from 'node-webrtcbin';",
  Streamer: "import { Streamer } from 'node-webrtcbin';",
};

function declares(code: string, name: string): boolean {
  return new RegExp(`\\bimport\\b[^;]*\\b${name}\\b[^;]*\\bfrom\\b|\\b(?:const|let|var|function|class)\\s+${name}\\b`).test(code);
}

/** Each ```ts block of the docs as a module, with the placeholders it uses declared. */
function examples(): { name: string; code: string }[] {
  const out: { name: string; code: string }[] = [];
  for (const doc of DOCS) {
    const text = readFileSync(path.join(root, doc), 'utf8');
    let i = 0;
    for (const m of text.matchAll(/```ts\n([\s\S]*?)```/g)) {
      const body = m[1]!;
      const prelude = Object.entries(PLACEHOLDERS)
        .filter(([name]) => new RegExp(`\\b${name}\\b`).test(body) && !declares(body, name))
        .map(([, declaration]) => declaration);
      out.push({ name: `${doc.replace(/[/.]/g, '_')}_${i++}.ts`, code: `${prelude.join('\n')}\n${body}\nexport {};\n` });
    }
  }
  return out;
}

// The package's own entry points, from the sources (what `dist/**/*.d.ts` are built from).
const PATHS = {
  'node-webrtcbin': [`${root}/lib/index.ts`],
  'node-webrtcbin/client': [`${root}/lib/client.ts`],
  'node-webrtcbin/signaling': [`${root}/lib/signaling/index.ts`],
  'node-webrtcbin/viewer': [`${root}/lib/viewer/index.ts`],
};

/** tsc --noEmit --strict over `files` in a scratch dir; returns its diagnostics ('' when clean). */
function typecheck(files: { name: string; code: string }[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'webrtcbin-types-'));
  try {
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    writeFileSync(path.join(dir, 'package.json'), '{"type": "module"}');
    for (const f of files) writeFileSync(path.join(dir, f.name), f.code);
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          skipLibCheck: true,
          paths: PATHS,
        },
        files: files.map((f) => f.name),
      }),
    );
    const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8', timeout: 120_000 });
    return tsc.status === 0 ? '' : `${tsc.stdout}${tsc.stderr}`.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const COMPOSE = `
import { WebRtcPeer, Streamer, type GStreamerError } from 'node-webrtcbin';
import { SignalingClient } from 'node-webrtcbin/client';

const client = new SignalingClient({ url: 'ws://127.0.0.1:8080/v1/ws', session: 's', role: 'publisher', token: 't' });
const peer = new WebRtcPeer({ source: { kind: 'test' }, video: { codec: 'vp8' } });

// The peer's values go into the protocol's messages as they are, and back.
peer.on('icecandidate', (candidate) => client.send({ type: 'candidate', to: 'viewer-1', candidate }));
const offer = await peer.createOffer();
await peer.setLocalDescription(offer);
client.send({ type: 'offer', to: 'viewer-1', sdp: offer.sdp });
const sdp: string = peer.localDescription!.sdp;
client.on('answer', (m) => void peer.setRemoteDescription({ type: 'answer', sdp: m.sdp }));
client.on('candidate', (m) => void peer.addIceCandidate(m.candidate));
peer.on('error', (e) => {
  const error: GStreamerError = e;
  console.error(error.element, error.domain, error.code, error.debug, sdp);
});

// The shapes that do compile.
new WebRtcPeer({ video: { receive: true, format: 'BGR' }, audio: { receive: true } });
new WebRtcPeer({ audio: { source: 'test' } });
new WebRtcPeer({});
new WebRtcPeer();
const streamer = new Streamer({ source: { kind: 'test' } });
streamer.createPeer({ iceServers: [] });
new WebRtcPeer({ sharedEncoder: streamer });

// The wrong mixes that must not.
// @ts-expect-error a source with video.receive
new WebRtcPeer({ source: { kind: 'test' }, video: { receive: true } });
// @ts-expect-error sending video options with no source
new WebRtcPeer({ video: { codec: 'vp8' } });
// @ts-expect-error a sending option in receive options
new WebRtcPeer({ video: { receive: true, codec: 'vp8' } });
// @ts-expect-error a shared encoder and a source of its own
new WebRtcPeer({ sharedEncoder: streamer, source: { kind: 'test' } });
// @ts-expect-error a shared encoder and receive options
new WebRtcPeer({ sharedEncoder: streamer, video: { receive: true } });
// @ts-expect-error a misspelt key
new WebRtcPeer({ vidoe: { receive: true } });
// @ts-expect-error receiving audio with a source
new WebRtcPeer({ audio: { receive: true, source: 'test' } });
// @ts-expect-error the end-of-candidates null is not a description
peer.on('icecandidate', (candidate) => client.send({ type: 'offer', sdp: candidate.candidate }));
export {};
`;

t.test("the docs' examples, and the peer's types with the client's, type-check under strict", async (t) => {
  const files = examples();
  t.ok(files.length >= 10, `${files.length} examples found in ${DOCS.join(', ')}`);
  // One tsc run (it takes a while); diagnostics sorted by file.
  const diagnostics = typecheck([{ name: 'compose.ts', code: COMPOSE }, ...files]).split('\n');
  const of = (name: string) => diagnostics.filter((line) => line.includes(`/${name}(`) || line.startsWith(`${name}(`)).join('\n');
  for (const f of files) t.equal(of(f.name), '', `${f.name}: no diagnostics`);
  t.equal(of('compose.ts'), '', 'peer and client compose; every wrong mix fails (an unneeded @ts-expect-error is a diagnostic)');
  t.equal(diagnostics.filter((line) => /error TS/.test(line) && !/\/[A-Za-z_]+\.ts\(/.test(line)).join('\n'), '', 'nothing else');
});

t.test('an unknown option key is refused at run time, with the valid ones', async (t) => {
  const refused = (options: object, message: RegExp) => t.throws(() => new WebRtcPeer(options as never), { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', message }, JSON.stringify(options));
  refused({ vidoe: { receive: true } }, /^unknown option 'vidoe'; valid: audio, source, video, .*playoutDelay$/);
  refused({ video: { receive: true, fromat: 'BGR' } }, /^unknown option 'video\.fromat'; valid: video\.receive, video\.format, video\.maxFps/);
  refused({ source: { kind: 'test' }, video: { bitrat: 900 } }, /^unknown option 'video\.bitrat'; valid: video\.receive, video\.codec, video\.bitrate/);
  refused({ source: { kind: 'test', patern: 'ball' } }, /^unknown option 'source\.patern'; valid: source\.kind, source\.pattern$/);
  refused({ source: { kind: 'x11', dispaly: ':0' } }, /^unknown option 'source\.dispaly'/);
  refused({ audio: { source: 'test', bitrat: 64 } }, /^unknown option 'audio\.bitrat'; valid: audio\.receive, audio\.source, audio\.device, audio\.bitrate$/);
  refused({ audio: { receive: true, rate: 16000 } }, /^unknown option 'audio\.rate'; valid: audio\.receive, audio\.format, audio\.sampleRate, audio\.channels$/);
  t.doesNotThrow(() => checkOptionKeys({ video: undefined, latency: 50 }, ['video', 'latency']), 'known keys (undefined values too) pass');
});
