// pointer 'auto''s decision, without X or peers: the picture has the pointer while any watching viewer
// cannot draw it, not while every watching viewer draws it; an undecided viewer flips nothing until it
// says or its time is up; joins and leaves flip it; a Janus audience keeps it in.
import t from 'tap';
import { PointerPicture } from '../../lib/publish/pointer-picture.js';

function picture(options: { always?: boolean; undecidedMs?: number } = {}) {
  const applied: boolean[] = [];
  const p = new PointerPicture({ always: options.always ?? false, undecidedMs: options.undecidedMs ?? 60_000, apply: (shown) => applied.push(shown) });
  return { p, applied };
}

t.test('a page alone: out of the picture once it says it draws; a viewer that cannot joins: in; it leaves: out', async (t) => {
  const { p, applied } = picture();
  t.equal(p.shown, true, 'the capture starts with the pointer in');
  p.watch('page');
  t.same(applied, [], 'an undecided viewer flips nothing');
  p.draws('page', true);
  t.same(applied, [false], 'every watcher draws it: out of the picture');
  p.watch('whep');
  t.same(applied, [false], 'the newcomer is undecided: no flip yet');
  p.draws('whep', false);
  t.same(applied, [false, true], 'it cannot draw it: into the picture');
  t.equal(p.shown, true);
  p.forget('whep');
  t.same(applied, [false, true, false], 'it left: out again');
  p.forget('page');
  t.same(applied, [false, true, false], 'nobody watches: the picture stays as it was');
  p.close();
});

t.test('a viewer that never says counts as one that cannot draw, after its time', async (t) => {
  const { p, applied } = picture({ undecidedMs: 20 });
  p.draws('page', true); // its channel opened before the publisher saw it connected
  p.watch('page');
  t.same(applied, [false], 'it said so before it watched: counted at once');
  p.watch('old-page');
  await new Promise((r) => setTimeout(r, 80));
  t.same(applied, [false, true], 'silent past its time: the pointer goes into the picture');
  p.draws('old-page', true);
  t.same(applied, [false, true, false], 'a late cursor-draw still takes it out');
  p.draws('page', false);
  t.same(applied, [false, true, false, true], 'a viewer may withdraw');
  p.close();
});

t.test('with a Janus audience the pointer stays in the picture', async (t) => {
  const { p, applied } = picture({ always: true });
  p.watch('page');
  p.draws('page', true);
  t.same(applied, [], 'never taken out');
  t.equal(p.shown, true);
  p.close();
});

t.test('a pointer that can no longer be read as data goes back into the picture for good', async (t) => {
  const { p, applied } = picture();
  p.watch('page');
  p.draws('page', true);
  t.same(applied, [false]);
  p.keep();
  t.same(applied, [false, true], 'into the picture');
  p.draws('page', true);
  p.watch('other');
  p.draws('other', true);
  t.same(applied, [false, true], 'and it stays there');
  p.close();
});
