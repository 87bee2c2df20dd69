// Pure mapping, no X: the agent's key combos → input-channel key presses, and text → the keys that
// type it (keysym, Shift, spare-keycode remap).
import t from 'tap';
import { parseCombo } from '../../lib/agent/keys.js';
import { typingPlan, untypable } from '../../lib/input/keysyms.js';
import { keysymFor } from '../../lib/input/keysyms.js';

const presses = (combo: string) => parseCombo(combo).map((p) => `${p.down ? '+' : '-'}${p.key}`).join(' ');

t.test('combos: modifiers held in order around the key, released in reverse; names in any case', async (t) => {
  t.equal(presses('ctrl+shift+t'), '+Control +Shift +t -t -Shift -Control');
  t.equal(presses('Ctrl+A'), '+Control +a -a -Control', 'a letter is its key, whatever its case');
  t.equal(presses('alt+F4'), '+Alt +F4 -F4 -Alt');
  t.equal(presses('super'), '+Meta -Meta', 'a modifier on its own');
  t.equal(presses('BackSpace'), '+Backspace -Backspace');
  t.equal(presses('pageDown'), '+PageDown -PageDown');
  t.equal(presses('f24'), '+F24 -F24');
  t.equal(presses('ctrl++'), '+Control +Shift ++ -+ -Shift -Control', "'+' (shifted on a US keyboard) gets Shift");
  t.equal(presses('ctrl+plus'), presses('ctrl++'));
  t.equal(presses('space'), '+  - ');
  t.equal(presses('é'), '+é -é');
  for (const bad of ['', 'ctrl+', 'f25', 'hyper+x', 'a+b', 'ctrl+shift+Entr']) {
    t.throws(() => parseCombo(bad), { name: 'InvalidArgumentError' }, JSON.stringify(bad));
  }
  t.throws(() => parseCombo('ctrl+Entr'), { message: /unknown key 'Entr'; use Enter, Tab, Escape, .*F1–F24/ });
  // Every named key maps to an X keysym.
  for (const name of ['Enter', 'Tab', 'Escape', 'BackSpace', 'Delete', 'Insert', 'Home', 'End', 'PageUp', 'PageDown', 'Up', 'Down', 'Left', 'Right', 'F1', 'F12', 'F24', 'Super', 'Alt', 'AltGr', 'Ctrl', 'Shift', 'CapsLock', 'Menu', 'Print', 'Pause']) {
    const key = parseCombo(name).at(-1)!.key;
    t.not(keysymFor(key), undefined, `${name} → ${key} → keysym`);
  }
});

t.test('typing plan: Latin-1 keysyms, Unicode keysyms, newlines as Return (Shift comes from the X keymap)', async (t) => {
  const plan = typingPlan('aA!<é É日🙂\r\n\t');
  t.same(
    plan.map((k) => k.keysym),
    [0x61, 0x41, 0x21, 0x3c, 0xe9, 0x20, 0xc9, 0x10065e5, 0x101f642, 'Return', 'Tab'],
  );
  t.equal(untypable('héllo\n\tworld 🙂'), undefined);
  t.match(untypable('a\u0000'), /control character U\+0000/);
  t.match(untypable('\u009b'), /control character U\+009B/);
  t.match(untypable('\ud800x'), /lone UTF-16 surrogate/);
});
