// lib/agent/: a Node agent that watches and drives a VM session (view(), its frames and its input).
// Key combos as an agent writes them ('ctrl+shift+t', 'Enter', 'F5', 'super') → the key presses the
// input channel carries (DOM KeyboardEvent.key values, which lib/input/keysyms.ts maps to X keysyms).
import { InvalidArgumentError } from '../errors.js';

/** Modifier names (any case) → DOM key. Held, in the order written, around the last key. */
const MODIFIERS: Record<string, string> = {
  ctrl: 'Control', control: 'Control', shift: 'Shift', alt: 'Alt', altgr: 'AltGraph',
  super: 'Meta', meta: 'Meta', win: 'Meta', cmd: 'Meta', command: 'Meta',
};

/** Named keys (any case) → DOM key. */
const NAMED: Record<string, string> = {
  enter: 'Enter', return: 'Enter', tab: 'Tab', escape: 'Escape', esc: 'Escape', space: ' ',
  backspace: 'Backspace', delete: 'Delete', del: 'Delete', insert: 'Insert', ins: 'Insert',
  home: 'Home', end: 'End', pageup: 'PageUp', pgup: 'PageUp', pagedown: 'PageDown', pgdn: 'PageDown',
  up: 'ArrowUp', down: 'ArrowDown', left: 'ArrowLeft', right: 'ArrowRight',
  arrowup: 'ArrowUp', arrowdown: 'ArrowDown', arrowleft: 'ArrowLeft', arrowright: 'ArrowRight',
  capslock: 'CapsLock', numlock: 'NumLock', scrolllock: 'ScrollLock', menu: 'ContextMenu', contextmenu: 'ContextMenu',
  print: 'PrintScreen', printscreen: 'PrintScreen', pause: 'Pause', plus: '+', minus: '-',
};

/** Characters a US keyboard types with Shift (as lib/input/keysyms.ts types them): Shift is added. */
const SHIFTED = new Set('~!@#$%^&*()_+{}|:">?');

/** The names key() takes, for error messages and docs. */
export const KEY_NAMES =
  'Enter, Tab, Escape, Space, BackSpace, Delete, Insert, Home, End, PageUp, PageDown, Up, Down, Left, Right, ' +
  'F1–F24, CapsLock, NumLock, ScrollLock, Menu, Print, Pause, Plus, Minus, a single character, ' +
  'and the modifiers ctrl, shift, alt, altgr, super (also as keys on their own)';

export interface KeyPress {
  /** DOM KeyboardEvent.key */
  key: string;
  down: boolean;
}

function keyOf(name: string, combo: string): string {
  const lower = name.toLowerCase();
  if (MODIFIERS[lower]) return MODIFIERS[lower];
  if (NAMED[lower]) return NAMED[lower];
  if (/^f([1-9]|1[0-9]|2[0-4])$/.test(lower)) return lower.toUpperCase();
  const chars = [...name];
  if (chars.length === 1) {
    const cp = name.codePointAt(0)!;
    if (cp > 0x20 && !(cp >= 0x7f && cp < 0xa0)) return name.toLowerCase(); // letters: the key, not the case
  }
  throw new InvalidArgumentError(`key(${JSON.stringify(combo)}): unknown key '${name}'; use ${KEY_NAMES}, joined with '+' (e.g. 'ctrl+shift+t')`);
}

/**
 * 'ctrl+shift+t' → presses (modifiers down in order, the key down and up, modifiers up in reverse).
 * '+' itself is 'plus' or a trailing '++' ('ctrl++'). Throws InvalidArgumentError naming the valid keys.
 */
export function parseCombo(combo: string): KeyPress[] {
  if (typeof combo !== 'string' || combo.trim() === '') {
    throw new InvalidArgumentError(`key() takes a combo such as 'ctrl+shift+t' or 'Enter'; got ${JSON.stringify(combo)}`);
  }
  const parts = combo.trim().split('+');
  const names: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!.trim();
    if (part !== '') names.push(part);
    else if (parts[i + 1] === '' && (i + 2 === parts.length || i === 0)) {
      names.push('+'); // 'ctrl++' or '+' on its own
      i++;
    } else {
      throw new InvalidArgumentError(`key(${JSON.stringify(combo)}): an empty key name between '+' signs; write '+' itself as 'plus'`);
    }
  }
  const keys = names.map((name) => keyOf(name, combo));
  const last = keys[keys.length - 1]!;
  const held = keys.slice(0, -1);
  for (const [i, key] of held.entries()) {
    if (!Object.values(MODIFIERS).includes(key)) {
      throw new InvalidArgumentError(`key(${JSON.stringify(combo)}): '${names[i]}' is not a modifier; only the last key may be one (modifiers: ctrl, shift, alt, altgr, super)`);
    }
  }
  if (SHIFTED.has(last) && !held.includes('Shift')) held.push('Shift');
  return [...held.map((key) => ({ key, down: true })), { key: last, down: true }, { key: last, down: false }, ...held.reverse().map((key) => ({ key, down: false }))];
}
