// The clock row both sides agree on: a time in tenths of a millisecond (mod 2^24, ~28 minutes) as a row
// of black/white blocks. Blocks 0-1 are a white/black reference (the threshold is their mean, so codec
// brightness shifts don't matter), then 24 time bits, then an 8-bit check: a misread row is discarded,
// never counted. Plain script (no modules): the painter page loads it, readers inject it.
/* eslint-disable no-var */
var CLOCK = {
  block: 32, // px: two 16-px macroblocks, so blur from the codec stays near the edges
  timeBits: 24,
  checkBits: 8,
  get blocks() {
    return 2 + this.timeBits + this.checkBits;
  },
  /** Wall-clock milliseconds with sub-ms precision, the same clock in every process on this machine. */
  now() {
    return performance.timeOrigin + performance.now();
  },
  check(value) {
    return ((value & 0xff) ^ ((value >>> 8) & 0xff) ^ ((value >>> 16) & 0xff) ^ 0xa5) & 0xff;
  },
  /** Block colours (true = white) for a wall-clock time in ms. */
  encode(ms) {
    var value = Math.round(ms * 10) % (1 << this.timeBits);
    var check = this.check(value);
    var bits = [true, false];
    for (var i = this.timeBits - 1; i >= 0; i--) bits.push(((value >>> i) & 1) === 1);
    for (var j = this.checkBits - 1; j >= 0; j--) bits.push(((check >>> j) & 1) === 1);
    return bits;
  },
  /**
   * Reads a row from RGBA pixels (`data`, row stride `width`*4) whose first block starts at (0, 0);
   * returns the encoded value (tenths of ms mod 2^24) or null when the row is absent or misread.
   */
  decode(data, width) {
    var b = this.block;
    var luma = [];
    for (var k = 0; k < this.blocks; k++) {
      // Mean of the 8×8 centre of each block.
      var sum = 0;
      for (var y = b / 2 - 4; y < b / 2 + 4; y++) {
        for (var x = k * b + b / 2 - 4; x < k * b + b / 2 + 4; x++) {
          var o = (y * width + x) * 4;
          sum += data[o] * 0.299 + data[o + 1] * 0.587 + data[o + 2] * 0.114;
        }
      }
      luma.push(sum / 64);
    }
    if (luma[0] - luma[1] < 96) return null; // no clock here (or a smeared frame)
    var threshold = (luma[0] + luma[1]) / 2;
    var value = 0;
    var check = 0;
    for (var i = 0; i < this.timeBits; i++) value = value * 2 + (luma[2 + i] > threshold ? 1 : 0);
    for (var c = 0; c < this.checkBits; c++) check = check * 2 + (luma[2 + this.timeBits + c] > threshold ? 1 : 0);
    return check === this.check(value) ? value : null;
  },
  /** ms from an encoded value to the wall-clock time `ms` (modular: the value wraps every ~28 min). */
  age(value, ms) {
    var span = 1 << this.timeBits;
    var now = Math.round(ms * 10) % span;
    return (((now - value) % span) + span) % span / 10;
  },
};
