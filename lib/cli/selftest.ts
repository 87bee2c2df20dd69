// `webrtcbin selftest`: proves an installation works end to end with the public API only (no tsx, no
// test framework), for VM images and fresh machines. Each check prints one line; exit 1 on any failure.
//   loopback, per codec: a test-pattern sender and a receiving peer in this process negotiate (offer,
//     answer, trickled candidates over loopback: ICE, DTLS-SRTP), the receiver decodes frames; the
//     first run also echoes a message over a data channel (SCTP);
//   --xvfb: the same with an X11 capture of an Xvfb display this command starts;
//   --signaling: a daemon on 127.0.0.1, publish() of a test pattern and a viewer joined through it.
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { addonPath } from '../native/binding.js';
import { checkEnvironment } from './doctor.js';
import { WebRtcPeer } from '../peer/peer.js';
import type { DataChannel } from '../peer/data-channel.js';
import type { SourceOptions, VideoCodec } from '../types.js';
import { number } from '../util/checks.js';

const CODECS: readonly VideoCodec[] = ['vp8', 'vp9', 'h264'];

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits for the first decoded frame (15 s), then `seconds` more, or longer (10 s) until `minFrames`. */
async function decode(peer: WebRtcPeer, seconds: number, minFrames: number): Promise<string> {
  const started = Date.now();
  while (peer.framesDecoded === 0) {
    if (Date.now() - started > 15_000) return 'no frame decoded within 15 s';
    await new Promise((r) => setTimeout(r, 50));
  }
  const first = Date.now();
  const deadline = first + seconds * 1000 + 10_000;
  while (Date.now() < deadline && !(Date.now() - first >= seconds * 1000 && peer.framesDecoded >= minFrames)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const elapsed = ((Date.now() - first) / 1000).toFixed(1);
  return `${peer.framesDecoded} frames decoded (first after ${((first - started) / 1000).toFixed(1)} s, then ${elapsed} s)`;
}

async function loopback(name: string, source: SourceOptions, codec: VideoCodec, seconds: number, minFrames: number, dataChannel: boolean): Promise<Check> {
  const sender = new WebRtcPeer({ source, video: { codec, width: 320, height: 240, fps: 30 } });
  const receiver = new WebRtcPeer({ video: { receive: true } });
  const errors: string[] = [];
  sender.on('error', (e) => errors.push(`sender: ${e.message}`));
  receiver.on('error', (e) => errors.push(`receiver: ${e.message}`));
  try {
    const channel = dataChannel ? sender.createDataChannel('selftest') : undefined;
    const remoteChannel = dataChannel ? (once(receiver, 'datachannel') as Promise<[DataChannel]>) : undefined;
    const track = once(receiver, 'track') as Promise<[{ kind: string; encoding: string }]>;
    sender.on('icecandidate', (c) => void receiver.addIceCandidate(c).catch(() => {}));
    receiver.on('icecandidate', (c) => void sender.addIceCandidate(c).catch(() => {}));
    await withTimeout((async () => {
      await sender.setLocalDescription();
      await receiver.setRemoteDescription(sender.localDescription!);
      await receiver.setLocalDescription();
      await sender.setRemoteDescription(receiver.localDescription!);
    })(), 15_000, 'negotiation');
    const [{ encoding }] = await withTimeout(track, 15_000, 'remote track');
    const decoded = await decode(receiver, seconds, minFrames);
    const parts = [`${encoding}`, decoded, `connection ${receiver.connectionState}`];
    let ok = receiver.framesDecoded >= minFrames && receiver.connectionState === 'connected' && sender.connectionState === 'connected';
    if (channel && remoteChannel) {
      const echoed = await withTimeout((async () => {
        const [theirs] = await remoteChannel;
        if (theirs.readyState !== 'open') await once(theirs, 'open');
        if (channel.readyState !== 'open') await once(channel, 'open');
        theirs.on('message', (m) => theirs.send(m));
        const reply = once(channel, 'message') as Promise<[string | Buffer]>;
        channel.send('ping');
        return String((await reply)[0]);
      })(), 10_000, 'data channel echo').catch((e: Error) => e.message);
      parts.push(`data channel echo ${echoed === 'ping' ? 'ok' : `failed (${echoed})`}`);
      ok &&= echoed === 'ping';
    }
    if (errors.length) {
      parts.push(errors.join('; '));
      ok = false;
    }
    return { name, ok, detail: parts.join(', ') };
  } catch (error) {
    return { name, ok: false, detail: [(error as Error).message, ...errors].join('; ') };
  } finally {
    await Promise.all([sender.close(), receiver.close()]);
  }
}

async function throughDaemon(seconds: number, minFrames: number): Promise<Check> {
  const name = 'signaling: daemon + publish() + viewer';
  const { randomBytes } = await import('node:crypto');
  const { createSignalingServer } = await import('../signaling/daemon/server.js');
  const { mintToken } = await import('../signaling/daemon/token.js');
  const { publish } = await import('../publish/publisher.js');
  const { SignalingClient } = await import('../signaling/client.js');
  const secret = randomBytes(24).toString('base64url');
  const app = await createSignalingServer({ secret, logLevel: 'silent' });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `${address.replace(/^http/, 'ws')}/v1/ws`;
  const session = 'selftest';
  // A moving pattern: publish()'s shared encoder skips unchanged frames (a still one gives ~1 frame/s).
  const publisher = publish({ url, session, token: mintToken({ secret, session, role: 'publisher' }), source: { kind: 'test', pattern: 'ball' }, video: { width: 320, height: 240 } });
  const peer = new WebRtcPeer({ video: { receive: true } });
  const client = new SignalingClient({ url, session, role: 'viewer', token: mintToken({ secret, session, role: 'viewer' }) });
  const errors: string[] = [];
  publisher.on('error', (e: Error) => errors.push(`publisher: ${e.message}`));
  peer.on('error', (e) => errors.push(`viewer: ${e.message}`));
  peer.on('icecandidate', (c) =>
    void client.send({ type: 'candidate', candidate: c ? { candidate: c.candidate ?? '', sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } : null }),
  );
  client.on('offer', async (m: { sdp: string }) => {
    try {
      await peer.setRemoteDescription({ type: 'offer', sdp: m.sdp });
      await peer.setLocalDescription();
      client.send({ type: 'answer', sdp: peer.localDescription!.sdp ?? '' });
    } catch (error) {
      errors.push(`viewer: ${(error as Error).message}`);
    }
  });
  client.on('candidate', (m: { candidate: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null } | null }) =>
    void peer.addIceCandidate(m.candidate).catch(() => {}),
  );
  try {
    client.connect();
    const decoded = await decode(peer, seconds, minFrames);
    const ok = peer.framesDecoded >= minFrames && peer.connectionState === 'connected' && errors.length === 0;
    return { name, ok, detail: [decoded, `connection ${peer.connectionState}`, ...errors].join(', ') };
  } finally {
    await client.close();
    await peer.close();
    await publisher.close();
    await app.close();
  }
}

export async function selftest(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      codec: { type: 'string', multiple: true },
      seconds: { type: 'string' },
      'min-frames': { type: 'string' },
      xvfb: { type: 'boolean' },
      display: { type: 'string' },
      signaling: { type: 'boolean' },
    },
  });
  const seconds = number(Number(values.seconds ?? 3), '--seconds', { above: 0, given: values.seconds });
  const minFrames = Number(values['min-frames'] ?? Math.max(10, Math.floor(seconds * 5)));
  const checks: Check[] = [];
  const report = (check: Check) => {
    checks.push(check);
    console.log(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.detail}`);
  };

  const env = checkEnvironment();
  report({ name: 'addon', ok: true, detail: `${addonPath()} (${env.gstreamer})` });
  const missing = env.missingRequired.map((e) => e.element);
  report({ name: 'doctor', ok: env.ok, detail: env.ok ? 'every required element is present' : `missing ${missing.join(', ')} (run \`webrtcbin doctor\`)` });

  const named = values.codec?.flatMap((c) => c.split(',')).map((c) => c.trim()).filter(Boolean);
  const codecs = (named ?? CODECS.filter((c) => c !== 'h264' || env.h264)) as VideoCodec[];
  for (const c of codecs) if (!CODECS.includes(c)) throw new Error(`--codec must be one of ${CODECS.join(', ')}, not '${c}'`);
  for (const [i, codec] of codecs.entries()) {
    report(await loopback(`loopback ${codec}`, { kind: 'test' }, codec, seconds, minFrames, i === 0));
  }

  if (values.xvfb) {
    const { startXvfb } = await import('./xvfb.js');
    let xvfb: ChildProcess | undefined;
    let display = values.display ?? '';
    try {
      // A chroot or container shares the host's abstract X sockets: a taken display is retried elsewhere.
      for (let attempt = 0; !xvfb; attempt++) {
        if (!values.display) display = `:${100 + Math.floor(Math.random() * 400)}`;
        try {
          xvfb = await startXvfb(display, '320x240x24');
        } catch (error) {
          if (values.display || attempt >= 4) throw error;
        }
      }
      report(await loopback(`x11 capture of Xvfb ${display}`, { kind: 'x11', display }, codecs[0] ?? 'vp8', seconds, minFrames, false));
    } catch (error) {
      report({ name: `x11 capture of Xvfb ${display}`, ok: false, detail: (error as Error).message });
    } finally {
      xvfb?.kill();
    }
  }

  if (values.signaling) {
    try {
      report(await throughDaemon(seconds, minFrames));
    } catch (error) {
      report({ name: 'signaling', ok: false, detail: (error as Error).message });
    }
  }

  const failed = checks.filter((c) => !c.ok);
  console.log(failed.length ? `selftest: ${failed.length} of ${checks.length} checks failed` : `selftest: all ${checks.length} checks passed`);
  return failed.length ? 1 : 0;
}
