// lib/util/: the one range-check wording and the one "emit, or warn when nobody listens" helper.
import t from 'tap';
import { EventEmitter } from 'node:events';
import { InvalidArgumentError, WebRtcBinError } from '../../lib/errors.js';
import { isWholeNumber, number, shown, wholeNumber } from '../../lib/util/checks.js';
import { UNHEARD_ERROR_CODE, emitError } from '../../lib/util/emit.js';

t.test('wholeNumber: accepts the range, refuses the rest in one wording', async (t) => {
  t.equal(wholeNumber(1, 'n', { min: 1, max: 3 }), 1);
  t.equal(wholeNumber(3, 'n', { min: 1, max: 3 }), 3);
  for (const bad of [0, 4, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2', null, undefined, true]) {
    t.throws(() => wholeNumber(bad, 'n', { min: 1, max: 3 }), InvalidArgumentError, String(bad));
  }
  t.throws(() => wholeNumber(0, 'video.fps', { min: 1, max: 240 }), { message: 'video.fps must be a whole number from 1 to 240 (got 0)', code: 'ERR_INVALID_ARGUMENT' });
  t.throws(() => wholeNumber('30', 'video.fps', { min: 1, max: 240 }), { message: 'video.fps must be a whole number from 1 to 240 (got "30")' });
  t.throws(() => wholeNumber(Number.NaN, 'x', { min: 0, max: 1 }), { message: /\(got NaN\)$/ });
  t.throws(() => wholeNumber(11_000, 'latency', { min: 0, max: 10_000, unit: 'milliseconds' }), {
    message: 'latency must be a whole number of milliseconds from 0 to 10000 (got 11000)',
  });
  t.throws(() => wholeNumber(17, 'video.width', { min: 16, max: 7680, even: true }), { message: 'video.width must be an even whole number from 16 to 7680 (got 17)' });
  t.equal(wholeNumber(18, 'video.width', { min: 16, max: 7680, even: true }), 18);
  t.throws(() => wholeNumber(101, 'fec', { min: 0, max: 100, unit: 'percent', orFalse: true }), {
    message: 'fec must be false or a whole number of percent from 0 to 100 (got 101)',
  });
  t.throws(() => wholeNumber(-1, 'sdpMLineIndex', { min: 0 }), { message: 'sdpMLineIndex must be a whole number of at least 0 (got -1)' });
  t.equal(wholeNumber(2 ** 40, 'sdpMLineIndex', { min: 0 }), 2 ** 40, 'no upper bound when max is omitted');
  t.throws(() => wholeNumber(Number('x'), '--flag', { min: 0, given: 'x' }), { message: '--flag must be a whole number of at least 0 (got "x")' }, 'shows the text it was parsed from');
});

t.test('number: above, at least, at most', async (t) => {
  t.equal(number(0.5, 'maxFps', { above: 0, max: 1000 }), 0.5);
  t.throws(() => number(0, 'maxFps', { above: 0, max: 1000 }), { message: 'maxFps must be a number above 0 and at most 1000 (got 0)' });
  t.throws(() => number(1001, 'maxFps', { above: 0, max: 1000 }), InvalidArgumentError);
  t.throws(() => number(Number.NaN, 'factor', { min: 1 }), { message: 'factor must be a number of at least 1 (got NaN)' });
  t.equal(number(Number.POSITIVE_INFINITY, 'factor', { min: 1 }), Number.POSITIVE_INFINITY, 'unbounded above');
  t.throws(() => number('2', 'factor', { min: 1 }), InvalidArgumentError);
});

t.test('isWholeNumber and shown', async (t) => {
  t.ok(isWholeNumber(5, 0, 5));
  t.notOk(isWholeNumber(5.5, 0, 10));
  t.notOk(isWholeNumber('5', 0, 10));
  t.equal(shown(undefined), 'undefined');
  t.equal(shown(-0.5), '-0.5');
  t.equal(shown({ a: 1 }), '{"a":1}');
  t.ok(shown('x'.repeat(500)).length <= 80, 'long values are cut short');
  const cycle: { self?: unknown } = {};
  cycle.self = cycle;
  t.equal(shown(cycle), '[object Object]');
});

t.test('emitError: emitted to a listener', async (t) => {
  const emitter = new EventEmitter<{ error: [Error] }>();
  const heard: Error[] = [];
  emitter.on('error', (e) => heard.push(e));
  const error = new WebRtcBinError('boom', 'ERR_X');
  emitError(emitter, error, { source: 'thing' });
  t.same(heard, [error]);
});

t.test('emitError: a process warning with the one code when nobody listens', async (t) => {
  const warnings: (Error & { code?: string; detail?: string })[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  emitError(new EventEmitter<{ error: [Error] }>(), new WebRtcBinError('the display went away', 'ERR_X_DISPLAY_LOST'), { source: 'clipboard' });
  emitError(new EventEmitter<{ error: [Error] }>(), new Error('plain'), { source: 'publisher' });
  await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
  t.equal(warnings.length, 2);
  t.equal(warnings[0]!.message, 'the display went away');
  t.equal(warnings[0]!.code, UNHEARD_ERROR_CODE);
  t.equal(warnings[0]!.detail, 'WebRtcBinError (ERR_X_DISPLAY_LOST): add a clipboard.on("error") listener to handle it');
  t.equal(warnings[1]!.code, 'WEBRTCBIN_ERROR');
  t.equal(warnings[1]!.detail, 'Error: add a publisher.on("error") listener to handle it');
});

t.test('emitError: a throwing listener reaches the caller unless onListenerThrow takes it', async (t) => {
  const emitter = new EventEmitter<{ error: [Error] }>();
  emitter.on('error', () => {
    throw new Error('listener bug');
  });
  t.throws(() => emitError(emitter, new Error('e'), { source: 'peer' }), /listener bug/);
  const caught: unknown[] = [];
  t.doesNotThrow(() => emitError(emitter, new Error('e'), { source: 'publisher', onListenerThrow: (e) => caught.push(e) }));
  t.equal(caught.length, 1);
});
