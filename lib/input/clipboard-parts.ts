// Clipboard text in parts, both ways on the input channel: one data channel message holds 64 KiB at
// most (a browser throws above the peer's max-message-size), while MAX_CLIPBOARD_CHARS of text, JSON
// -escaped, can be six times that. Text up to CLIPBOARD_PART_CHARS still goes as one `clipboard`
// message (what older peers read); longer text as `clipboard-part` messages that the other side joins.
// Plain code with no Node or TypeBox import: the viewer's bundle and the agent share it.
import { CLIPBOARD_PART_CHARS, MAX_CLIPBOARD_CHARS, MAX_CLIPBOARD_PARTS } from './limits.js';

export interface ClipboardWhole {
  t: 'clipboard';
  text: string;
}
/** Part `part` (from 0) of `of` of the text numbered `id` by its sender. */
export interface ClipboardPart {
  t: 'clipboard-part';
  id: number;
  part: number;
  of: number;
  text: string;
}

/** The messages that carry `text` (empty when it is over MAX_CLIPBOARD_CHARS). */
export function clipboardMessages(text: string, id: number): (ClipboardWhole | ClipboardPart)[] {
  if (text.length > MAX_CLIPBOARD_CHARS) return [];
  if (text.length <= CLIPBOARD_PART_CHARS) return [{ t: 'clipboard', text }];
  const pieces: string[] = [];
  for (let at = 0; at < text.length; ) {
    let end = Math.min(text.length, at + CLIPBOARD_PART_CHARS);
    // Never between the two halves of a surrogate pair: each part is well-formed UTF-16 on its own.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    pieces.push(text.slice(at, end));
    at = end;
  }
  return pieces.map((piece, part) => ({ t: 'clipboard-part', id, part, of: pieces.length, text: piece }));
}

/**
 * Joins one sender's parts, which arrive in order (the input channel is ordered and reliable). A part
 * that does not continue the text under way (another id, a gap, a different count) drops it; a new
 * text starts at part 0. Returns the whole text when its last part arrives.
 */
export class ClipboardAssembler {
  #id = -1;
  #of = 0;
  #parts: string[] = [];
  #chars = 0;

  add(message: ClipboardPart): string | undefined {
    const { id, part, of, text } = message;
    if (of < 2 || of > MAX_CLIPBOARD_PARTS || part < 0 || part >= of || text.length > CLIPBOARD_PART_CHARS) return this.#reset();
    if (part === 0) this.#start(id, of);
    else if (id !== this.#id || of !== this.#of || part !== this.#parts.length) return this.#reset();
    this.#chars += text.length;
    if (this.#chars > MAX_CLIPBOARD_CHARS) return this.#reset();
    this.#parts.push(text);
    if (this.#parts.length < of) return undefined;
    const whole = this.#parts.join('');
    this.#reset();
    return whole;
  }

  #start(id: number, of: number): void {
    this.#id = id;
    this.#of = of;
    this.#parts = [];
    this.#chars = 0;
  }

  #reset(): undefined {
    this.#start(-1, 0);
    return undefined;
  }
}
