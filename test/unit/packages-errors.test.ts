// Pure unit tests for lib/native/packages.ts (+ rootfs/packages.txt) and lib/errors.ts.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ELEMENTS, packageFor } from '../../lib/native/packages.js';
import {
  WebRtcBinError,
  MissingPluginError,
  InvalidStateError,
  InvalidArgumentError,
  OperationError,
  PipelineError,
  GStreamerError,
  BindingLoadError,
  fromNative,
} from '../../lib/errors.js';

const PACKAGES_TXT = readFileSync(new URL('../../rootfs/packages.txt', import.meta.url), 'utf8');
/** Package names of rootfs/packages.txt: one a line, '#' starts a comment. */
const listed = new Set(
  PACKAGES_TXT.split(/\r?\n/)
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== ''),
);

/** A plain Error shaped like the addon's: message + code (+ element). */
function nativeError(message: string, code?: string, element?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code }, element === undefined ? {} : { element });
}

t.test('rootfs/packages.txt parses into package names', async (t) => {
  t.ok(listed.size >= 8, `${listed.size} packages`);
  for (const name of listed) t.match(name, /^[a-z0-9][a-z0-9+.-]+$/, `${name} is one Debian package name`);
  t.notOk([...listed].some((name) => name.startsWith('#')), 'comments excluded');
});

t.test('every debianPackage in ELEMENTS is listed in rootfs/packages.txt', async (t) => {
  const packages = [...new Set(ELEMENTS.map((e) => e.debianPackage))];
  t.ok(packages.length >= 5, `${packages.length} distinct packages`);
  for (const pkg of packages) {
    const users = ELEMENTS.filter((e) => e.debianPackage === pkg).map((e) => e.element);
    t.ok(listed.has(pkg), `${pkg} (for ${users.join(', ')}) is listed`);
  }
});

t.test('rootfs/packages.txt is runtime only: the image built from it has no compiler or headers', async (t) => {
  for (const name of listed) {
    t.notMatch(name, /-dev$|^(g\+\+|gcc|cpp|clang|make|cmake|pkg-config|build-essential|binutils)(-[\d.]+)?$/, `${name} is not a build package`);
  }
  const dev = new Set(
    readFileSync(new URL('../../rootfs/packages-dev.txt', import.meta.url), 'utf8')
      .split(/\r?\n/)
      .map((line) => line.replace(/#.*/, '').trim())
      .filter(Boolean),
  );
  t.same([...listed].filter((name) => dev.has(name)), [], 'no package in both packages.txt and packages-dev.txt');
});

t.test('ELEMENTS is well-formed', async (t) => {
  const names = ELEMENTS.map((e) => e.element);
  t.equal(new Set(names).size, names.length, 'no element listed twice');
  for (const e of ELEMENTS) {
    t.equal(packageFor(e.element), e.debianPackage, `packageFor(${e.element})`);
  }
  for (const core of ['webrtcbin', 'nicesrc', 'nicesink', 'dtlssrtpenc', 'rtpbin']) {
    t.equal(ELEMENTS.find((e) => e.element === core)?.core, true, `${core} is core`);
  }
  t.equal(ELEMENTS.find((e) => e.element === 'x264enc')?.core, false, 'x264enc is optional');
});

t.test('packageFor', async (t) => {
  t.equal(packageFor('webrtcbin'), 'gstreamer1.0-plugins-bad');
  t.equal(packageFor('nicesrc'), 'gstreamer1.0-nice');
  t.equal(packageFor('x264enc'), 'gstreamer1.0-plugins-ugly');
  t.equal(packageFor('ximagesrc'), 'gstreamer1.0-x');
  t.equal(packageFor('avdec_h264'), 'gstreamer1.0-libav');
  t.equal(packageFor('v4l2src'), 'gstreamer1.0-plugins-good', 'extra element users may name');
  t.equal(packageFor('fakesink'), 'gstreamer1.0-tools');
  t.equal(packageFor('nosuchelement'), undefined);
  t.equal(packageFor('WEBRTCBIN'), undefined, 'element names are exact');
});

t.test('packageFor does not answer with Object.prototype members', async (t) => {
  const bug =
    'EXTRA is a plain object literal, so `EXTRA[element]` finds inherited members: packageFor("toString") returns ' +
    'Object.prototype.toString (a function, not string | undefined), and new MissingPluginError("constructor").message is ' +
    '"GStreamer element \'constructor\' is not available; install it with: apt-get install function Object() { [native code] }. …"';
  for (const name of ['toString', 'constructor', 'hasOwnProperty', '__proto__']) {
    t.equal(packageFor(name), undefined, `packageFor(${JSON.stringify(name)})`);
  }
  t.notMatch(new MissingPluginError('constructor').message, /apt-get install function/, 'no function source in the message');
});

t.test('MissingPluginError names the element and the apt-get command', async (t) => {
  const error = new MissingPluginError('webrtcbin');
  t.type(error, WebRtcBinError);
  t.type(error, Error);
  t.equal(error.name, 'MissingPluginError');
  t.equal(error.code, 'ERR_MISSING_PLUGIN');
  t.equal(error.element, 'webrtcbin');
  t.equal(error.debianPackage, 'gstreamer1.0-plugins-bad');
  t.equal(
    error.message,
    "GStreamer element 'webrtcbin' is not available; install it with: apt-get install gstreamer1.0-plugins-bad. " +
      'Run `npx webrtcbin doctor` to check every element at once.',
  );
  const detailed = new MissingPluginError('x264enc', 'needed for video.codec h264');
  t.equal(
    detailed.message,
    "GStreamer element 'x264enc' is not available (needed for video.codec h264); install it with: apt-get install gstreamer1.0-plugins-ugly. " +
      'Run `npx webrtcbin doctor` to check every element at once.',
  );
  for (const e of ELEMENTS) {
    t.ok(new MissingPluginError(e.element).message.includes(`'${e.element}'`) && new MissingPluginError(e.element).message.includes(`apt-get install ${e.debianPackage}.`), `${e.element} → ${e.debianPackage}`);
  }
  const unknown = new MissingPluginError('frobnicate');
  t.equal(unknown.debianPackage, undefined);
  t.equal(
    unknown.message,
    "GStreamer element 'frobnicate' is not available; install the GStreamer plugin that provides it. Run `npx webrtcbin doctor` to check every element at once.",
  );
  t.notOk(unknown.message.includes('apt-get'));
});

t.test('error classes: names and codes', async (t) => {
  const cases: [Error & { code: string }, string, string, string][] = [
    [new InvalidStateError('closed'), 'InvalidStateError', 'ERR_INVALID_STATE', 'closed'],
    [new InvalidArgumentError('bad'), 'InvalidArgumentError', 'ERR_INVALID_ARGUMENT', 'bad'],
    [new OperationError('createOffer', 'no transceivers'), 'OperationError', 'ERR_OPERATION', 'createOffer failed: no transceivers'],
    [new PipelineError('no link'), 'PipelineError', 'ERR_PIPELINE', 'no link'],
    [new PipelineError('pad', 'ERR_PAD_REQUEST'), 'PipelineError', 'ERR_PAD_REQUEST', 'pad'],
    [new BindingLoadError('cannot load', new Error('dlopen')), 'BindingLoadError', 'ERR_BINDING_LOAD', 'cannot load'],
  ];
  for (const [error, name, code, message] of cases) {
    t.type(error, WebRtcBinError);
    t.equal(error.name, name);
    t.equal(error.code, code);
    t.equal(error.message, message);
  }
  t.equal((new BindingLoadError('x', 'why').cause as string), 'why', 'cause kept');
  const gst = new GStreamerError({ source: 'vp8enc0', domain: 'gst-stream-error-quark', code: 1, message: 'Internal data flow error', debug: 'dbg' });
  t.equal(gst.message, 'vp8enc0: Internal data flow error');
  t.equal(gst.code, 'ERR_GSTREAMER');
  t.same([gst.element, gst.domain, gst.gstCode, gst.debug], ['vp8enc0', 'gst-stream-error-quark', 1, 'dbg']);
  t.equal(new GStreamerError({ source: '', domain: 'd', code: 0, message: 'm', debug: '' }).message, 'pipeline: m', 'no source: "pipeline"');
});

t.test('fromNative maps addon codes to the typed classes', async (t) => {
  const missing = fromNative(nativeError('no element', 'ERR_MISSING_PLUGIN', 'vp9enc'), 'createPeer') as MissingPluginError;
  t.type(missing, MissingPluginError);
  t.equal(missing.element, 'vp9enc');
  t.equal(missing.debianPackage, 'gstreamer1.0-plugins-good');
  t.match(missing.message, /'vp9enc' is not available; install it with: apt-get install gstreamer1.0-plugins-good\./);
  const missingNoElement = fromNative(nativeError('no element', 'ERR_MISSING_PLUGIN')) as MissingPluginError;
  t.type(missingNoElement, MissingPluginError);
  t.equal(missingNoElement.element, 'unknown');

  const state = fromNative(nativeError('peer is closed', 'ERR_INVALID_STATE'), 'addIceCandidate');
  t.type(state, InvalidStateError);
  t.equal(state.message, 'peer is closed');
  t.equal((state as WebRtcBinError).code, 'ERR_INVALID_STATE');

  const sdp = fromNative(nativeError('could not parse SDP', 'ERR_INVALID_SDP'), 'setRemoteDescription');
  t.type(sdp, InvalidArgumentError);
  t.equal(sdp.message, 'setRemoteDescription: could not parse SDP');
  t.equal((sdp as WebRtcBinError).code, 'ERR_INVALID_ARGUMENT');
  t.equal(fromNative(nativeError('x', 'ERR_INVALID_SDP')).message, 'operation: x', 'default operation name');

  const op = fromNative(nativeError('promise error', 'ERR_OPERATION'), 'createAnswer');
  t.type(op, OperationError);
  t.equal(op.message, 'createAnswer failed: promise error');

  for (const code of ['ERR_PIPELINE', 'ERR_PAD_REQUEST', 'ERR_STATE_CHANGE', 'ERR_INVALID_ICE_SERVER']) {
    const p = fromNative(nativeError(`${code} happened`, code), 'start');
    t.type(p, PipelineError, code);
    t.equal((p as WebRtcBinError).code, code, `${code} kept`);
    t.equal(p.message, `${code} happened`);
  }
});

t.test('fromNative leaves typed and unknown errors alone', async (t) => {
  for (const typed of [new InvalidArgumentError('a'), new MissingPluginError('webrtcbin'), new OperationError('x', 'y'), new WebRtcBinError('z', 'ERR_Z')]) {
    t.equal(fromNative(typed, 'anything'), typed, `${typed.name} returned unchanged (same object)`);
  }
  const plain = new Error('plain');
  t.equal(fromNative(plain), plain, 'no code: same object');
  const other = nativeError('weird', 'ERR_SOMETHING_ELSE');
  t.equal(fromNative(other), other, 'unknown code: same object');
  const type = new TypeError('bad type');
  t.equal(fromNative(type), type);
  const fromString = fromNative('boom');
  t.type(fromString, WebRtcBinError);
  t.equal(fromString.message, 'boom');
  t.equal((fromString as WebRtcBinError).code, 'ERR_UNKNOWN');
  t.equal(fromNative(undefined).message, 'undefined');
  t.equal((fromNative({ code: 'ERR_INVALID_STATE', message: 'not an Error' }) as WebRtcBinError).code, 'ERR_UNKNOWN', 'a non-Error object is not trusted');
});
