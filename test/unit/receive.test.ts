// Pure unit tests for lib/media/receive.ts: the receive descriptions and caps the native side builds
// each remote stream's chain from (no pipeline is built; test/native/frames.test.ts runs them).
import t from 'tap';
import { planReceiveAudio, planReceiveVideo, receiveCaps, receiveCapsForOffer } from '../../lib/media/receive.js';
import type { ReceiveAudioOptions, ReceiveVideoOptions } from '../../lib/types.js';

const invalid = (message: RegExp) => ({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', message });
const stages = (description: string) => description.split(' ! ');
const video = (options: Partial<ReceiveVideoOptions> = {}) => planReceiveVideo({ receive: true, ...options });

t.test('decoded video: RGBA as received, into the appsink named "frames"', async (t) => {
  const plan = video();
  t.same(stages(plan.decoded), [
    'queue max-size-buffers=2 leaky=downstream',
    'videoconvert',
    'video/x-raw,format=RGBA',
    'appsink name=frames sync=false max-buffers=1 drop=true',
  ]);
  t.equal(plan.caps, receiveCaps());
  t.equal(plan.encoded, undefined, 'no compressed access unless asked');
  t.same(plan.elements, ['decodebin', 'appsink', 'videoconvert']);
  t.same(planReceiveVideo(), plan, 'the defaults, for a stream no option asked for');
});

t.test('decoded video: format and size', async (t) => {
  for (const format of ['RGBA', 'BGR', 'I420'] as const) {
    t.match(video({ format }).decoded, `videoconvert ! video/x-raw,format=${format} ! appsink`);
  }
  const sized = video({ format: 'BGR', width: 160, height: 120 });
  t.same(stages(sized.decoded).slice(1, 4), ['videoscale', 'video/x-raw,width=160,height=120,pixel-aspect-ratio=1/1', 'videoconvert'], 'scaled before conversion');
  t.ok(sized.elements.includes('videoscale'));
  t.match(video({ height: 240 }).decoded, 'videoscale ! video/x-raw,height=240,pixel-aspect-ratio=1/1 ! ', 'one side alone');
});

t.test('decoded video: bad options', async (t) => {
  t.throws(() => video({ format: 'NV12' as 'RGBA' }), invalid(/^video\.format must be "RGBA", "BGR" or "I420"$/));
  for (const width of [15, 17, 7682, 1.5, Number.NaN]) {
    t.throws(() => video({ width }), invalid(/^video\.width must be an even whole number from 16 to 7680 \(got .+\)$/), String(width));
  }
  t.throws(() => video({ height: 8 }), invalid(/^video\.height must be/));
});

t.test('compressed video: a depayloading chain per encoding, every frame kept', async (t) => {
  const plan = video({ encoded: true });
  t.same(Object.keys(plan.encoded ?? {}).sort(), ['H264', 'VP8', 'VP9']);
  t.equal(plan.encoded!.VP8, 'queue ! rtpvp8depay request-keyframe=true ! appsink name=frames sync=false max-buffers=0 drop=false');
  t.equal(plan.encoded!.VP9, 'queue ! rtpvp9depay request-keyframe=true ! appsink name=frames sync=false max-buffers=0 drop=false');
  t.same(stages(plan.encoded!.H264), [
    'queue',
    'rtph264depay request-keyframe=true',
    'h264parse config-interval=-1',
    'video/x-h264,stream-format=byte-stream,alignment=au',
    'appsink name=frames sync=false max-buffers=0 drop=false',
  ]);
  t.match(plan.decoded, 'format=RGBA', 'other encodings are still decoded');
  // A lost packet asks for a keyframe at once (PLI), as a browser does: a still screen's next periodic
  // keyframe can be a minute away (the sender encodes about one frame a second then).
  for (const chain of Object.values(plan.encoded!)) t.match(chain, /depay request-keyframe=true/);
  for (const name of ['rtpvp8depay', 'rtpvp9depay', 'rtph264depay', 'h264parse', 'decodebin']) t.ok(plan.elements.includes(name), name);
});

t.test('audio: Opus decoded to the PCM asked for, into the appsink named "audio"', async (t) => {
  const audio = (options: Partial<ReceiveAudioOptions> = {}) => planReceiveAudio({ receive: true, ...options });
  const plan = audio();
  t.same(stages(plan.description), [
    'queue',
    'audioconvert',
    'audioresample',
    'audio/x-raw,layout=interleaved,format=S16LE,rate=48000,channels=2',
    'appsink name=audio sync=false max-buffers=0 drop=false',
  ]);
  t.equal(plan.caps, 'application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,encoding-params=(string)2,payload=111');
  t.same(plan.elements, ['decodebin', 'opusdec', 'audioconvert', 'audioresample', 'appsink']);
  t.match(audio({ format: 'F32LE', sampleRate: 16000, channels: 1 }).description, 'format=F32LE,rate=16000,channels=1 !');
  t.throws(() => audio({ format: 'S24LE' as 'S16LE' }), invalid(/^audio\.format must be "S16LE" or "F32LE"$/));
  t.throws(() => audio({ sampleRate: 4000 }), invalid(/^audio\.sampleRate must be a whole number from 8000 to 192000 \(got 4000\)$/));
  t.throws(() => audio({ channels: 3 as 1 }), invalid(/^audio\.channels must be 1 or 2$/));
});

t.test('receiveCapsForOffer keeps the offered payload types of the codecs we decode', async (t) => {
  const codec = (payloadType: number, name: string, params: Record<string, string> = {}) => ({ payloadType, name, params: new Map(Object.entries(params)) });
  t.equal(
    receiveCapsForOffer([codec(120, 'VP8'), codec(35, 'AV1'), codec(125, 'H264', { 'packetization-mode': '0' }), codec(127, 'H264', { 'packetization-mode': '1' })]),
    'application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=120;' +
      'application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,packetization-mode=(string)1,payload=127',
  );
  t.equal(receiveCapsForOffer([codec(35, 'AV1')]), undefined, 'nothing we decode');
});
