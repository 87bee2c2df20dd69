// DOM KeyboardEvent.key → X keysym (a name XStringToKeysym knows, or a number for characters).

const NAMED: Record<string, string> = {
  Enter: 'Return', Backspace: 'BackSpace', Tab: 'Tab', Escape: 'Escape', Delete: 'Delete', Insert: 'Insert',
  Home: 'Home', End: 'End', PageUp: 'Prior', PageDown: 'Next',
  ArrowLeft: 'Left', ArrowRight: 'Right', ArrowUp: 'Up', ArrowDown: 'Down',
  Shift: 'Shift_L', Control: 'Control_L', Alt: 'Alt_L', AltGraph: 'ISO_Level3_Shift', Meta: 'Super_L',
  CapsLock: 'Caps_Lock', NumLock: 'Num_Lock', ScrollLock: 'Scroll_Lock', ContextMenu: 'Menu',
  PrintScreen: 'Print', Pause: 'Pause',
};

export function keysymFor(key: string): string | number | undefined {
  if (NAMED[key]) return NAMED[key];
  if (/^F([1-9]|1[0-9]|2[0-4])$/.test(key)) return key;
  const chars = [...key];
  if (chars.length !== 1) return undefined;
  const cp = chars[0]!.codePointAt(0)!;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return undefined;
  // Latin-1 keysyms equal their code points; every other character is 0x01000000 + code point.
  return cp < 0x100 ? cp : 0x01000000 + cp;
}

/**
 * One key to type: its keysym. Whether Shift is held comes from the X server's keymap when it is typed
 * (InputInjector.type()), so any layout's shifted symbols come out right.
 */
export interface TypedKey {
  keysym: string | number;
}

/** Why text cannot be typed (a control character, a lone surrogate), or undefined when it can. */
export function untypable(text: string): string | undefined {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) return `a lone UTF-16 surrogate (U+${cp.toString(16).toUpperCase()})`;
    if ((cp < 0x20 && ch !== '\n' && ch !== '\t' && ch !== '\r') || (cp >= 0x7f && cp < 0xa0)) {
      return `control character U+${cp.toString(16).toUpperCase().padStart(4, '0')} (only newline and tab are typed)`;
    }
  }
  return undefined;
}

/** Text → the keys that type it, one per character ("\r\n" and "\n" are Return, "\t" Tab). Check untypable() first. */
export function typingPlan(text: string): TypedKey[] {
  const keys: TypedKey[] = [];
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '\r' && chars[i + 1] === '\n') continue;
    if (ch === '\n' || ch === '\r') keys.push({ keysym: 'Return' });
    else if (ch === '\t') keys.push({ keysym: 'Tab' });
    else {
      // Latin-1 keysyms equal their code points; every other character is 0x01000000 + code point.
      const cp = ch.codePointAt(0)!;
      keys.push({ keysym: cp < 0x100 ? cp : 0x01000000 + cp });
    }
  }
  return keys;
}

/** DOM button → X button. */
export const X_BUTTON = [1, 2, 3, 8, 9] as const;
