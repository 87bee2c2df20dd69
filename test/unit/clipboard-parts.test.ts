// Clipboard text in parts (lib/input/clipboard-parts.ts): every part fits a 64 KiB data channel message
// whatever the text, the parts join back to the text, and a broken sequence is dropped, not half-pasted.
import t from 'tap';
import { ClipboardAssembler, clipboardMessages } from '../../lib/input/clipboard-parts.js';
import { CLIPBOARD_PART_CHARS, MAX_CLIPBOARD_CHARS, MAX_CLIPBOARD_PARTS, checkAgentMessage, checkViewerMessage } from '../../lib/input/protocol.js';

const join = (messages: ReturnType<typeof clipboardMessages>) => {
  const a = new ClipboardAssembler();
  let out: string | undefined;
  for (const m of messages) out = m.t === 'clipboard' ? m.text : a.add(m);
  return out;
};

t.test('short text is one clipboard message, as before', async (t) => {
  t.same(clipboardMessages('héllo', 1), [{ t: 'clipboard', text: 'héllo' }]);
  t.equal(clipboardMessages('x'.repeat(CLIPBOARD_PART_CHARS), 1).length, 1);
});

t.test('the longest text, the worst to escape, in parts that each fit 64 KiB', async (t) => {
  const texts = {
    'control characters (\\uXXXX each)': '\u0001'.repeat(MAX_CLIPBOARD_CHARS),
    'three-byte UTF-8': '☃'.repeat(MAX_CLIPBOARD_CHARS),
    'surrogate pairs across every boundary': 'a' + '🙂'.repeat((MAX_CLIPBOARD_CHARS - 1) / 2),
  };
  for (const [what, text] of Object.entries(texts)) {
    t.equal(text.length <= MAX_CLIPBOARD_CHARS, true);
    const messages = clipboardMessages(text, 7);
    t.ok(messages.length > 1 && messages.length <= MAX_CLIPBOARD_PARTS, `${what}: ${messages.length} parts`);
    t.ok(messages.every((m) => Buffer.byteLength(JSON.stringify(m)) < 65_536), `${what}: every message under 64 KiB`);
    t.ok(messages.every((m) => checkViewerMessage.Check(m) && checkAgentMessage.Check(m)), `${what}: valid both ways`);
    t.ok(messages.every((m) => !/[\ud800-\udbff]$/.test(m.text) && !/^[\udc00-\udfff]/.test(m.text)), `${what}: no pair split`);
    t.equal(join(messages), text, `${what}: joins back`);
  }
  t.same(clipboardMessages('x'.repeat(MAX_CLIPBOARD_CHARS + 1), 1), [], 'over the limit: nothing');
});

t.test('a broken sequence is dropped; a new text starts over', async (t) => {
  const text = 'x'.repeat(CLIPBOARD_PART_CHARS * 2 + 5);
  const [p0, p1, p2] = clipboardMessages(text, 3) as Extract<ReturnType<typeof clipboardMessages>[number], { t: 'clipboard-part' }>[];
  const a = new ClipboardAssembler();
  t.equal(a.add(p0!), undefined);
  t.equal(a.add(p2!), undefined, 'a gap drops the text');
  t.equal(a.add(p1!), undefined, 'and what follows the gap');
  t.equal(a.add({ ...p0!, id: 4 }), undefined);
  t.equal(a.add(p1!), undefined, 'a part of another text drops it');
  t.equal(a.add(p0!), undefined);
  t.equal(a.add(p1!), undefined);
  t.equal(a.add(p2!), text, 'a whole sequence after all that joins');
  t.equal(a.add({ ...p0!, of: MAX_CLIPBOARD_PARTS + 1 }), undefined, 'too many parts refused');
  t.notOk(checkViewerMessage.Check({ ...p0!, of: MAX_CLIPBOARD_PARTS + 1 }), 'and refused by the schema');
  t.notOk(checkViewerMessage.Check({ ...p0!, text: 'x'.repeat(CLIPBOARD_PART_CHARS + 1) }), 'an over-long part refused by the schema');
  const full = 'y'.repeat(CLIPBOARD_PART_CHARS);
  const b = new ClipboardAssembler();
  for (let part = 0; part < MAX_CLIPBOARD_PARTS; part++) t.equal(b.add({ t: 'clipboard-part', id: 1, part, of: MAX_CLIPBOARD_PARTS, text: full }), part === MAX_CLIPBOARD_PARTS - 1 ? full.repeat(MAX_CLIPBOARD_PARTS) : undefined);
});
