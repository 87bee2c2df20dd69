// webrtcbin 1.22 turns every SDP attribute and fmtp parameter of a remote description into a caps
// field, and GLib keeps each field name for the life of the process: a peer that invents new names in
// every description grows the publisher's memory without bound (found by the answer fuzzer, ~550 bytes
// a name). Names no WebRTC peer needs are removed before webrtcbin sees the description.
import t from 'tap';
import { WebRtcPeer } from '../../lib/index.js';

const invented = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}${Math.random().toString(36).slice(2, 8)}`);

t.test('invented attributes and fmtp parameters never reach webrtcbin; the known ones do', async (t) => {
  const offerer = new WebRtcPeer({ source: { kind: 'test' }, video: { codec: 'vp8', width: 160, height: 120 } });
  const answerer = new WebRtcPeer({ video: { receive: true } });
  t.teardown(() => Promise.all([offerer.close(), answerer.close()]));
  await offerer.setLocalDescription();
  await answerer.setRemoteDescription(offerer.localDescription!);
  const answer = await answerer.createAnswer();
  const sessionNames = invented('zz-session-', 50);
  const mediaNames = invented('zz-media-', 50);
  const xNames = invented('x-zz-', 20);
  const fmtpNames = invented('zz-fmtp-', 50);
  const pt = /a=rtpmap:(\d+) VP8/.exec(answer.sdp)![1]!;
  const sdp = answer.sdp
    .replace(/(t=0 0\r\n)/, `$1${sessionNames.map((n) => `a=${n}:1\r\n`).join('')}`)
    .replace(/(a=rtpmap:\d+ VP8\/90000\r\n)/, `$1${[...mediaNames, ...xNames].map((n) => `a=${n}:1\r\n`).join('')}a=fmtp:${pt} max-fr=30;${fmtpNames.map((n) => `${n}=1`).join(';')}\r\n`);
  await offerer.setRemoteDescription({ type: 'answer', sdp });
  const held = offerer.remoteDescription!.sdp;
  for (const name of [...sessionNames, ...mediaNames, ...xNames, ...fmtpNames]) {
    if (held.includes(name)) t.fail(`${name} reached webrtcbin`);
  }
  t.match(held, new RegExp(`a=fmtp:${pt} max-fr=30\\r\\n`), 'a known fmtp parameter is kept, the invented ones cut');
  for (const known of ['a=ice-ufrag:', 'a=fingerprint:', 'a=setup:', 'a=mid:', 'a=rtpmap:']) t.ok(held.includes(known), `${known} kept`);
  t.equal(offerer.signalingState, 'stable');
});
