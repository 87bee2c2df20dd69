// Special keys a page sends by name ("ctrl+alt+Delete", "Super", "F11", "Print"): the keys the browser or
// the local desktop would keep for themselves, parsed into DOM key/code pairs the agent maps to X keysyms
// (lib/input/keysyms.ts). Pressed in order, released in reverse, as a person does.

export interface KeyStroke {
  /** DOM KeyboardEvent.key */
  key: string;
  /** DOM KeyboardEvent.code */
  code: string;
}

// Lower-case names (and common aliases) → the DOM key and code.
const NAMES: Record<string, KeyStroke> = {
  ctrl: { key: 'Control', code: 'ControlLeft' },
  control: { key: 'Control', code: 'ControlLeft' },
  alt: { key: 'Alt', code: 'AltLeft' },
  altgr: { key: 'AltGraph', code: 'AltRight' },
  altgraph: { key: 'AltGraph', code: 'AltRight' },
  shift: { key: 'Shift', code: 'ShiftLeft' },
  super: { key: 'Meta', code: 'MetaLeft' },
  meta: { key: 'Meta', code: 'MetaLeft' },
  win: { key: 'Meta', code: 'MetaLeft' },
  cmd: { key: 'Meta', code: 'MetaLeft' },
  del: { key: 'Delete', code: 'Delete' },
  delete: { key: 'Delete', code: 'Delete' },
  insert: { key: 'Insert', code: 'Insert' },
  print: { key: 'PrintScreen', code: 'PrintScreen' },
  printscreen: { key: 'PrintScreen', code: 'PrintScreen' },
  prtsc: { key: 'PrintScreen', code: 'PrintScreen' },
  esc: { key: 'Escape', code: 'Escape' },
  escape: { key: 'Escape', code: 'Escape' },
  tab: { key: 'Tab', code: 'Tab' },
  enter: { key: 'Enter', code: 'Enter' },
  return: { key: 'Enter', code: 'Enter' },
  backspace: { key: 'Backspace', code: 'Backspace' },
  space: { key: ' ', code: 'Space' },
  home: { key: 'Home', code: 'Home' },
  end: { key: 'End', code: 'End' },
  pageup: { key: 'PageUp', code: 'PageUp' },
  pagedown: { key: 'PageDown', code: 'PageDown' },
  up: { key: 'ArrowUp', code: 'ArrowUp' },
  down: { key: 'ArrowDown', code: 'ArrowDown' },
  left: { key: 'ArrowLeft', code: 'ArrowLeft' },
  right: { key: 'ArrowRight', code: 'ArrowRight' },
  arrowup: { key: 'ArrowUp', code: 'ArrowUp' },
  arrowdown: { key: 'ArrowDown', code: 'ArrowDown' },
  arrowleft: { key: 'ArrowLeft', code: 'ArrowLeft' },
  arrowright: { key: 'ArrowRight', code: 'ArrowRight' },
  menu: { key: 'ContextMenu', code: 'ContextMenu' },
  contextmenu: { key: 'ContextMenu', code: 'ContextMenu' },
  pause: { key: 'Pause', code: 'Pause' },
  capslock: { key: 'CapsLock', code: 'CapsLock' },
  numlock: { key: 'NumLock', code: 'NumLock' },
  scrolllock: { key: 'ScrollLock', code: 'ScrollLock' },
};

/**
 * "ctrl+alt+Delete" → the keys to press, in order. Names are case-insensitive, short ("ctrl", "del") or
 * DOM KeyboardEvent.key names ("Control", "ArrowUp", "PrintScreen"); a single character stands for itself
 * ("ctrl+c"); F1–F24. Throws RangeError naming the part it does not know.
 */
export function parseKeyCombo(combo: string): KeyStroke[] {
  if (typeof combo !== 'string' || !combo.trim()) throw new RangeError('sendKeys(): give keys joined by "+", e.g. "ctrl+alt+Delete", "Super" or "F11"');
  // "+" alone, or at the end ("ctrl++"), is the plus key.
  const parts = combo.trim() === '+' ? ['+'] : combo.trim().replace(/\+\+$/, '+plus').split('+').map((p) => p.trim());
  return parts.map((part) => {
    if (part === 'plus') return { key: '+', code: 'Equal' };
    const named = NAMES[part.toLowerCase()];
    if (named) return named;
    const f = /^f([1-9]|1[0-9]|2[0-4])$/i.exec(part);
    if (f) return { key: `F${f[1]}`, code: `F${f[1]}` };
    if ([...part].length === 1) {
      const upper = part.toUpperCase();
      const code = /^[A-Z]$/.test(upper) ? `Key${upper}` : /^[0-9]$/.test(part) ? `Digit${part}` : '';
      return { key: part, code };
    }
    throw new RangeError(`sendKeys(): unknown key ${JSON.stringify(part)} in ${JSON.stringify(combo)} (known: ctrl, alt, shift, super, F1–F24, Delete, Print, Escape, Tab, Enter, arrows, single characters)`);
  });
}
