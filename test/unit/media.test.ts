// Pure unit tests for lib/media/send.ts: GStreamer descriptions and RTP caps (no pipeline is built).
import t from 'tap';
import { planSend, sendPreferencesFor, PAYLOAD_TYPES } from '../../lib/media/send.js';
import { receiveCaps, receiveElements } from '../../lib/media/receive.js';
import { InvalidArgumentError } from '../../lib/errors.js';
import type { SourceOptions, SendVideoOptions } from '../../lib/types.js';

const invalid = (message: RegExp) => ({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', message });
/** A regular expression matching exactly this text. */
const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
const TEST: SourceOptions = { kind: 'test' };

/** Elements of a description, split at " ! ". */
const stages = (description: string) => description.split(' ! ');

/** Runs fn with process.env.DISPLAY set to value (deleted when undefined), restoring it afterwards. */
function withDisplay<T>(value: string | undefined, fn: () => T): T {
  const had = Object.prototype.hasOwnProperty.call(process.env, 'DISPLAY');
  const saved = process.env.DISPLAY;
  if (value === undefined) delete process.env.DISPLAY;
  else process.env.DISPLAY = value;
  try {
    return fn();
  } finally {
    if (had) process.env.DISPLAY = saved;
    else delete process.env.DISPLAY;
  }
}

t.test('PAYLOAD_TYPES', async (t) => {
  t.same(PAYLOAD_TYPES, { vp8: 96, vp9: 98, h264: 102 });
});

t.test('default plan: test source, VP8, 1280x720@30, 2000 kbit/s', async (t) => {
  const plan = planSend(TEST);
  t.equal(plan.codec, 'vp8');
  t.same(stages(plan.description), [
    'videotestsrc is-live=true pattern=smpte',
    'videorate drop-only=true',
    'videoscale',
    'videoconvert',
    'video/x-raw,format=I420,width=1280,height=720,framerate=30/1,pixel-aspect-ratio=1/1,colorimetry=bt601',
    'queue max-size-buffers=1 max-size-bytes=0 max-size-time=0 leaky=downstream',
    'vp8enc deadline=1 cpu-used=-16 lag-in-frames=0 end-usage=cbr target-bitrate=2000000 keyframe-max-dist=60 threads=2 error-resilient=partitions buffer-initial-size=34 buffer-optimal-size=34 buffer-size=34',
    'rtpvp8pay name=pay pt=96 picture-id-mode=15-bit mtu=1200',
    'capsfilter name=rtpcaps caps="application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000"',
  ]);
  t.equal(plan.caps, 'application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96');
  t.same(plan.elements, ['videotestsrc', 'videorate', 'videoscale', 'videoconvert', 'queue', 'vp8enc', 'rtpvp8pay']);
  t.same(planSend(TEST, {}), plan, 'video {} is the same as no video');
});

t.test('every codec: payloader "pay" with its payload type, description ends in the rtpcaps capsfilter', async (t) => {
  for (const codec of ['vp8', 'vp9', 'h264'] as const) {
    const plan = planSend(TEST, { codec });
    const parts = stages(plan.description);
    t.equal(plan.codec, codec);
    t.match(parts.at(-2)!, new RegExp(`^rtp${codec}pay name=pay pt=${PAYLOAD_TYPES[codec]} `), `${codec} payloader`);
    t.match(parts.at(-1)!, new RegExp(`^capsfilter name=rtpcaps caps="application/x-rtp,media=video,encoding-name=${codec.toUpperCase()},clock-rate=90000[^"]*"$`), `${codec} ends in the rtpcaps capsfilter`);
    t.equal(plan.description.match(/name=pay /g)?.length, 1, 'one element named pay');
    t.equal(plan.description.match(/name=rtpcaps/g)?.length, 1, 'one element named rtpcaps');
    t.equal(plan.caps, `application/x-rtp,media=video,encoding-name=${codec.toUpperCase()},clock-rate=90000${codec === 'h264' ? ',packetization-mode=(string)1' : ''},payload=${PAYLOAD_TYPES[codec]}`);
  }
});

t.test('VP8 low-latency settings', async (t) => {
  const enc = stages(planSend(TEST, { codec: 'vp8', bitrate: 1500, fps: 25 }).description).find((s) => s.startsWith('vp8enc'))!;
  for (const setting of ['deadline=1', 'lag-in-frames=0', 'end-usage=cbr', 'cpu-used=-16', 'target-bitrate=1500000', 'keyframe-max-dist=50']) {
    t.ok(enc.split(' ').includes(setting), setting);
  }
});

t.test('VP9 settings', async (t) => {
  const plan = planSend(TEST, { codec: 'vp9', bitrate: 800, fps: 15 });
  const enc = stages(plan.description).find((s) => s.startsWith('vp9enc'))!;
  for (const setting of ['deadline=1', 'lag-in-frames=0', 'end-usage=cbr', 'target-bitrate=800000', 'keyframe-max-dist=30', 'row-mt=true']) {
    t.ok(enc.split(' ').includes(setting), setting);
  }
  t.same(plan.elements.slice(-2), ['vp9enc', 'rtpvp9pay']);
});

t.test('H.264 with x264enc: zero-latency settings', async (t) => {
  const plan = planSend(TEST, { codec: 'h264', bitrate: 3000, fps: 60 });
  const parts = stages(plan.description);
  const enc = parts.find((s) => s.startsWith('x264enc'))!;
  t.ok(enc, 'x264enc used by default');
  for (const setting of ['tune=zerolatency', 'speed-preset=ultrafast', 'bframes=0', 'sliced-threads=true', 'bitrate=3000', 'key-int-max=120']) {
    t.ok(enc.split(' ').includes(setting), setting);
  }
  t.equal(parts[parts.indexOf(enc) + 1], 'video/x-h264,profile=constrained-baseline');
  t.match(parts.at(-2)!, /^rtph264pay name=pay pt=102 config-interval=-1 aggregate-mode=zero-latency mtu=1200$/);
  t.match(parts.at(-1)!, /^capsfilter name=rtpcaps caps="application\/x-rtp,media=video,encoding-name=H264,clock-rate=90000,packetization-mode=\(string\)1"$/);
  t.same(plan.elements.slice(-2), ['x264enc', 'rtph264pay']);
  t.notOk(plan.description.includes('openh264enc'));
});

t.test('H.264 falls back to openh264enc when x264enc is not available', async (t) => {
  const asked: string[] = [];
  const plan = planSend(TEST, { codec: 'h264', bitrate: 1000 }, (name) => {
    asked.push(name);
    return false;
  });
  t.same(asked, ['x264enc'], 'availability asked for x264enc');
  const parts = stages(plan.description);
  t.notOk(plan.description.includes('x264enc '), 'no x264enc');
  const enc = parts.find((s) => s.startsWith('openh264enc'))!;
  t.equal(enc, 'openh264enc bitrate=1000000 complexity=low rate-control=bitrate gop-size=60');
  t.equal(parts[parts.indexOf(enc) + 1], 'video/x-h264,profile=constrained-baseline,stream-format=byte-stream');
  t.equal(parts[parts.indexOf(enc) + 2], 'h264parse');
  t.match(parts.at(-2)!, /^rtph264pay name=pay pt=102 /);
  t.same(plan.elements.slice(-3), ['openh264enc', 'h264parse', 'rtph264pay']);
  t.ok(planSend(TEST, { codec: 'h264' }, (name) => name === 'x264enc').description.includes('x264enc tune=zerolatency'), 'x264enc when available');
});

t.test('explicit H.264 encoder choice', async (t) => {
  t.ok(planSend(TEST, { codec: 'h264', encoder: 'openh264enc' }, () => true).description.includes('openh264enc '), 'openh264enc even when x264enc exists');
  t.ok(planSend(TEST, { codec: 'h264', encoder: 'x264enc' }, () => false).description.includes('x264enc tune='), 'x264enc when asked for');
  t.throws(
    () => planSend(TEST, { codec: 'h264', encoder: 'nvh264enc' as 'x264enc' }),
    invalid(/^video\.encoder must be "x264enc" or "openh264enc"$/),
  );
  t.doesNotThrow(() => planSend(TEST, { codec: 'vp8', encoder: 'nvh264enc' as 'x264enc' }), 'encoder ignored for VP8');
  t.notOk(planSend(TEST, { codec: 'vp8', encoder: 'x264enc' }).description.includes('264'), 'no H.264 in a VP8 plan');
});

t.test('codec validation', async (t) => {
  for (const codec of ['av1', 'VP8', 'H264', '', 42]) {
    t.throws(
      () => planSend(TEST, { codec } as unknown as SendVideoOptions),
      invalid(exactly(`video.codec must be "vp8", "vp9" or "h264" (got ${JSON.stringify(codec)})`)),
      `codec ${JSON.stringify(codec)}`,
    );
  }
});

t.test('bitrate, fps, width and height validation', async (t) => {
  const limits = { bitrate: 100_000, fps: 240, width: 7680, height: 4320 } as const;
  for (const [name, max] of Object.entries(limits)) {
    for (const value of [0, -1, 1.5, max + 1, Number.NaN, Number.POSITIVE_INFINITY, '30', null, true]) {
      t.throws(
        () => planSend(TEST, { [name]: value } as SendVideoOptions),
        invalid(new RegExp(`^video\\.${name} must be a whole number from ${name === 'width' || name === 'height' ? 16 : 1} to ${max} \\(got `)),
        `${name}=${String(value)}`,
      );
    }
    t.doesNotThrow(() => planSend(TEST, { [name]: max }), `${name}=${max} (the maximum) accepted`);
  }
  t.throws(() => planSend(TEST, { fps: 0 }), { message: /\(got 0\)$/ }, 'message shows the value');
  t.throws(() => planSend(TEST, { bitrate: 1.5 }), InvalidArgumentError);
});

t.test('values reach the description', async (t) => {
  const d = planSend(TEST, { width: 640, height: 360, fps: 24, bitrate: 500 }).description;
  t.ok(d.includes('video/x-raw,format=I420,width=640,height=360,framerate=24/1,pixel-aspect-ratio=1/1,colorimetry=bt601 ! '));
  t.ok(d.includes('target-bitrate=500000 keyframe-max-dist=48 '));
});

t.test('odd width and height are made even', async (t) => {
  t.ok(planSend(TEST, { width: 641, height: 361 }).description.includes(',width=640,height=360,'));
  t.ok(planSend(TEST, { width: 7679, height: 4319 }).description.includes(',width=7678,height=4318,'));
  t.ok(planSend(TEST, { width: 17, height: 17 }).description.includes(',width=16,height=16,'));
});

t.test('sizes below 16 are refused rather than rounded to nothing', async (t) => {
  t.throws(() => planSend(TEST, { width: 1, height: 720 }), /video.width must be a whole number from 16/);
  t.throws(() => planSend(TEST, { width: 640, height: 15 }), /video.height must be a whole number from 16/);
});

t.test('test source patterns', async (t) => {
  t.equal(stages(planSend({ kind: 'test', pattern: 'ball' }).description)[0], 'videotestsrc is-live=true pattern=ball');
  t.equal(stages(planSend({ kind: 'test', pattern: '18' }).description)[0], 'videotestsrc is-live=true pattern=18');
  for (const pattern of ['smpte ! fakesink', 'smpte name=x', 'a"b', "a'b", '', 'smpte\n', 'ball;rm']) {
    t.throws(() => planSend({ kind: 'test', pattern }), invalid(/^source\.pattern .* is not a videotestsrc pattern$/), JSON.stringify(pattern));
  }
  t.throws(() => planSend({ kind: 'test', pattern: 'smpte ! fakesink' }), { message: exactly('source.pattern "smpte ! fakesink" is not a videotestsrc pattern') });
});

t.test('x11 source', async (t) => {
  const plan = planSend({ kind: 'x11', display: ':1' });
  t.equal(stages(plan.description)[0], 'ximagesrc display-name=:1 use-damage=false show-pointer=true');
  t.equal(plan.elements[0], 'ximagesrc');
  t.equal(stages(planSend({ kind: 'x11', display: 'localhost:10.0', showPointer: false }).description)[0], 'ximagesrc display-name=localhost:10.0 use-damage=false show-pointer=false');
  t.equal(stages(planSend({ kind: 'x11', display: ':0', showPointer: true }).description)[0], 'ximagesrc display-name=:0 use-damage=false show-pointer=true');
  for (const display of [':0 ! fakesink', ':0"', ': 0', '$(id)']) {
    t.throws(() => planSend({ kind: 'x11', display }), invalid(/^source\.display .* is not an X display name$/), JSON.stringify(display));
  }
});

t.test('x11 capture damage: our element, its options, no videorate after it, maxFps as the caps rate', async (t) => {
  const plan = planSend({ kind: 'x11', display: ':1', capture: 'damage' }, { fps: 30 });
  const parts = stages(plan.description);
  t.equal(parts[0], 'webrtcbinxdamagesrc display-name=:1 show-pointer=true max-fps=60 refresh-ms=1000');
  t.equal(plan.elements[0], 'webrtcbinxdamagesrc');
  t.notOk(plan.elements.includes('videorate'), 'no videorate: it would hold each frame until the next');
  t.notOk(parts.some((p) => p.startsWith('videorate')));
  t.ok(parts.some((p) => p.includes('framerate=60/1')), 'the caps rate is maxFps');
  const region = planSend({ kind: 'x11', display: ':1', capture: 'damage', showPointer: false, maxFps: 20, refreshMs: 0, region: { x: 8, y: 16, width: 320, height: 240 } });
  t.equal(stages(region.description)[0], 'webrtcbinxdamagesrc display-name=:1 show-pointer=false max-fps=20 refresh-ms=0 x=8 y=16 width=320 height=240');
  t.equal(stages(planSend({ kind: 'x11', display: ':1', capture: 'fixed' }).description)[0], 'ximagesrc display-name=:1 use-damage=false show-pointer=true', "'fixed' is ximagesrc");
  t.throws(() => planSend({ kind: 'x11', display: ':1', capture: 'sometimes' as 'fixed' }), invalid(/^source\.capture must be "damage" or "fixed"/));
  t.throws(() => planSend({ kind: 'x11', display: ':1', capture: 'damage', maxFps: 241 }), invalid(/source\.maxFps/));
  t.throws(() => planSend({ kind: 'x11', display: ':1', capture: 'damage', refreshMs: 1.5 }), invalid(/source\.refreshMs/));
  t.throws(() => planSend({ kind: 'x11', display: ':1', refreshMs: 100 }), invalid(/apply to capture "damage" only/));
});

t.test('x11 source takes DISPLAY from the environment', async (t) => {
  const before = process.env.DISPLAY;
  const fromEnv = withDisplay(':42', () => planSend({ kind: 'x11' }).description);
  t.equal(stages(fromEnv)[0], 'ximagesrc display-name=:42 use-damage=false show-pointer=true');
  t.equal(stages(withDisplay(':42', () => planSend({ kind: 'x11', display: ':7' }).description))[0], 'ximagesrc display-name=:7 use-damage=false show-pointer=true', 'option wins over DISPLAY');
  t.throws(() => withDisplay(':1 ! fakesink', () => planSend({ kind: 'x11' })), invalid(/source\.display ":1 ! fakesink" is not an X display name/), 'unsafe DISPLAY rejected');
  t.equal(process.env.DISPLAY, before, 'DISPLAY restored');
});

t.test('x11 without display and without DISPLAY is rejected', async (t) => {
  const before = process.env.DISPLAY;
  const message = /^source x11 needs a display: pass \{kind: "x11", display: ":0"\} or set DISPLAY$/;
  t.throws(() => withDisplay(undefined, () => planSend({ kind: 'x11' })), invalid(message), 'DISPLAY unset');
  t.throws(() => withDisplay('', () => planSend({ kind: 'x11' })), invalid(message), 'DISPLAY empty');
  t.throws(() => withDisplay(undefined, () => planSend({ kind: 'x11', display: '' })), invalid(message), 'display option empty');
  t.equal(process.env.DISPLAY, before, 'DISPLAY restored');
});

t.test('pipeline source', async (t) => {
  const plan = planSend({ kind: 'pipeline', description: '  v4l2src device=/dev/video0 ! videoflip method=horizontal-flip  ' });
  t.ok(plan.description.startsWith('v4l2src device=/dev/video0 ! videoflip method=horizontal-flip ! videorate drop-only=true ! '), 'trimmed and spliced in');
  t.same(plan.elements, ['videorate', 'videoscale', 'videoconvert', 'queue', 'vp8enc', 'rtpvp8pay'], 'no source element to check');
  for (const description of ['', '   ', undefined, 42]) {
    t.throws(
      () => planSend({ kind: 'pipeline', description } as unknown as SourceOptions),
      invalid(/^source\.description must be a non-empty GStreamer description that outputs raw video$/),
      JSON.stringify(description),
    );
  }
  t.throws(() => planSend({ kind: 'pipeline', description: 'videotestsrc ! ' }), invalid(/^source\.description must not end with "!"$/));
  t.throws(() => planSend({ kind: 'pipeline', description: 'videotestsrc !' }), invalid(/must not end with "!"/));
});

t.test('bad source objects', async (t) => {
  t.throws(() => planSend(undefined as unknown as SourceOptions), invalid(/^source must be \{kind: "test" \| "x11" \| "pipeline", …\}$/));
  t.throws(() => planSend('test' as unknown as SourceOptions), invalid(/^source must be/));
  t.throws(() => planSend({ kind: 'v4l2' } as unknown as SourceOptions), invalid(/^source\.kind must be "test", "x11" or "pipeline" \(got "v4l2"\)$/));
  t.throws(() => planSend({} as unknown as SourceOptions), invalid(/\(got undefined\)$/));
});

t.test('receiveCaps lists every decodable codec with its payload type', async (t) => {
  t.equal(
    receiveCaps(),
    'application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96;' +
      'application/x-rtp,media=video,encoding-name=VP9,clock-rate=90000,payload=98;' +
      'application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,packetization-mode=(string)1,payload=102',
  );
  t.same(receiveElements({ receive: true }), ['decodebin', 'appsink', 'videoconvert']);
});

t.test('sendPreferencesFor uses the offered payload type', async (t) => {
  t.equal(sendPreferencesFor('vp8', 120), 'application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=120');
  t.equal(sendPreferencesFor('vp9', 98), 'application/x-rtp,media=video,encoding-name=VP9,clock-rate=90000,payload=98');
  t.equal(sendPreferencesFor('h264', 108), 'application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,packetization-mode=(string)1,payload=108');
  for (const codec of ['vp8', 'vp9', 'h264'] as const) {
    t.equal(sendPreferencesFor(codec, PAYLOAD_TYPES[codec]), planSend(TEST, { codec }).caps, `${codec}: same as the plan's caps at the default payload type`);
  }
});

t.test('the encoders keep about one frame in their rate-control buffer (VBV), so a lower target shows at the next frame', async (t) => {
  t.ok(planSend(TEST, { codec: 'h264', fps: 30 }, () => true).description.includes(' vbv-buf-capacity=34 '), 'x264enc: 34 ms at 30 fps');
  t.ok(planSend(TEST, { codec: 'h264', fps: 60 }, () => true).description.includes(' vbv-buf-capacity=17 '), 'x264enc: 17 ms at 60 fps');
  for (const codec of ['vp8', 'vp9'] as const) {
    t.ok(planSend(TEST, { codec, fps: 30 }).description.includes('buffer-initial-size=34 buffer-optimal-size=34 buffer-size=34'), `${codec}enc: 34 ms`);
  }
});
