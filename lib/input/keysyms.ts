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

/** DOM button → X button. */
export const X_BUTTON = [1, 2, 3, 8, 9] as const;
