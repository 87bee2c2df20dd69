// Touch input for phones and tablets, on the video: tap = click, long press = right click, one-finger
// drag = drag with the left button, two-finger drag = scroll (wheel notches), pinch = zoom the view
// (a CSS transform of the video: the VM's screen does not change). A small dot shows where the pointer
// is on the VM; showKeyboard() brings up the device's keyboard, whose typing (IME composition included)
// becomes key messages. Messages go out through `send` (typically the Viewer's input channel).
import type { ViewerMessage } from '../input/protocol.js';

export interface TouchOptions {
  /** Sends one input message (e.g. `(m) => viewer.sendInput(m)`). */
  send(message: ViewerMessage): void;
  /** The view's zoom changed (1 = fitted). */
  onZoom?(scale: number): void;
  /** Ask for control with the first gesture that sends input, as a first click does (default true). */
  takeControl?: boolean;
  /** How long a still finger makes a right click, ms (default 500). */
  longPressMs?: number;
  /** Largest zoom (default 5). */
  maxZoom?: number;
}

export interface TouchInput {
  /** Brings up the device keyboard (call from a user gesture, e.g. a button's click: mobile browsers require one). */
  showKeyboard(): void;
  hideKeyboard(): void;
  /** The view's zoom now (1 = fitted). */
  readonly zoom: number;
  /** Back to the fitted view. */
  resetZoom(): void;
  /** Control went to another viewer: the next gesture asks for it again. */
  release(): void;
  detach(): void;
}

const MOVE_SLOP_PX = 10; // a finger moving less than this is still a tap or a long press
const PINCH_SLOP_PX = 24; // two fingers whose distance changes by this much are pinching, not scrolling
const NOTCH_PX = 40; // two-finger travel per wheel notch

interface Point {
  x: number;
  y: number;
}

export function attachTouch(video: HTMLVideoElement, options: TouchOptions): TouchInput {
  const longPressMs = options.longPressMs ?? 500;
  const maxZoom = options.maxZoom ?? 5;
  let asked = options.takeControl === false;
  const send = (message: ViewerMessage) => {
    if (!asked) {
      asked = true;
      options.send({ t: 'take-control' });
    }
    options.send(message);
  };

  // ---- the view's zoom: translate + scale about the video's top-left corner ----
  let scale = 1;
  let shift: Point = { x: 0, y: 0 };
  const previous = { transform: video.style.transform, transformOrigin: video.style.transformOrigin, touchAction: video.style.touchAction };
  video.style.transformOrigin = '0 0';
  video.style.touchAction = 'none'; // no browser panning or zooming of the page over the video
  const applyView = () => {
    // Keep the zoomed video covering its own box: no panning past its edges.
    const w = video.offsetWidth;
    const h = video.offsetHeight;
    shift = { x: Math.min(0, Math.max(w * (1 - scale), shift.x)), y: Math.min(0, Math.max(h * (1 - scale), shift.y)) };
    video.style.transform = scale === 1 ? previous.transform : `translate(${shift.x}px, ${shift.y}px) scale(${scale})`;
  };
  // The untransformed box's top-left on screen (getBoundingClientRect includes our transform).
  const origin = (): Point => {
    const r = video.getBoundingClientRect();
    return scale === 1 ? { x: r.left, y: r.top } : { x: r.left - shift.x, y: r.top - shift.y };
  };

  // Where a client point falls in the picture (0..1), with object-fit: contain and the zoom.
  const position = (p: Point): Point | undefined => {
    const rect = video.getBoundingClientRect();
    const vw = video.videoWidth;
    const vh = video.videoHeight;
    if (!vw || !vh || !rect.width || !rect.height) return undefined;
    const fit = Math.min(rect.width / vw, rect.height / vh);
    const left = rect.left + (rect.width - vw * fit) / 2;
    const top = rect.top + (rect.height - vh * fit) / 2;
    const x = (p.x - left) / (vw * fit);
    const y = (p.y - top) / (vh * fit);
    if (x < 0 || x > 1 || y < 0 || y > 1) return undefined;
    return { x, y };
  };

  // ---- the pointer dot ----
  const dot = document.createElement('div');
  dot.className = 'webrtcbin-touch-pointer';
  dot.setAttribute('aria-hidden', 'true');
  Object.assign(dot.style, {
    position: 'absolute', left: '0', top: '0', width: '12px', height: '12px', margin: '-6px 0 0 -6px', borderRadius: '50%', pointerEvents: 'none',
    background: 'var(--webrtcbin-touch-pointer-color, rgba(255, 64, 64, 0.85))', boxShadow: '0 0 0 2px rgba(255, 255, 255, 0.8)',
    display: 'none', zIndex: '2147483646',
  });
  // Beside the video, so it stays visible when the video's container is fullscreen.
  (video.parentElement ?? document.body).appendChild(dot);
  // Where its containing block puts left/top 0 is measured, not assumed: a container with a transform or
  // `contain` (a custom element's host) is the containing block, whatever its position.
  const showDot = (p: Point) => {
    dot.style.left = dot.style.top = '0px';
    dot.style.display = 'block';
    const at0 = dot.getBoundingClientRect();
    dot.style.left = `${Math.round(p.x - (at0.left + at0.width / 2))}px`;
    dot.style.top = `${Math.round(p.y - (at0.top + at0.height / 2))}px`;
  };

  // ---- gestures ----
  type Gesture =
    | { kind: 'none' }
    | { kind: 'one'; start: Point; last: Point; dragging: boolean; timer: ReturnType<typeof setTimeout> | undefined; done: boolean }
    | { kind: 'two'; mode: 'undecided' | 'scroll' | 'pinch'; center0: Point; dist0: number; scale0: number; picture: Point; travel: Point };
  let gesture: Gesture = { kind: 'none' };
  const point = (t: Touch): Point => ({ x: t.clientX, y: t.clientY });
  const centre = (a: Touch, b: Touch): Point => ({ x: (a.clientX + b.clientX) / 2, y: (a.clientY + b.clientY) / 2 });
  const distance = (a: Touch, b: Touch) => Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY);

  const click = (at: Point, button: number) => {
    const p = position(at);
    if (!p) return;
    showDot(at);
    send({ t: 'move', ...p });
    send({ t: 'button', button, down: true, ...p });
    send({ t: 'button', button, down: false, ...p });
  };
  const endOne = (g: Extract<Gesture, { kind: 'one' }>, tap: boolean) => {
    if (g.timer) clearTimeout(g.timer);
    if (g.done) return;
    g.done = true;
    if (g.dragging) {
      const p = position(g.last);
      send({ t: 'button', button: 0, down: false, ...(p ?? {}) });
    } else if (tap) {
      click(g.start, 0);
    }
  };
  const startTwo = (a: Touch, b: Touch) => {
    const c = centre(a, b);
    const o = origin();
    // The point of the (unzoomed) video under the fingers, which a pinch keeps under them.
    const picture = { x: (c.x - o.x - shift.x) / scale, y: (c.y - o.y - shift.y) / scale };
    gesture = { kind: 'two', mode: 'undecided', center0: c, dist0: distance(a, b), scale0: scale, picture, travel: { x: 0, y: 0 } };
  };

  const onStart = (e: TouchEvent) => {
    e.preventDefault(); // no emulated mouse events, no page zoom
    const touches = e.touches;
    if (touches.length === 1) {
      const start = point(touches[0]!);
      const g: Extract<Gesture, { kind: 'one' }> = { kind: 'one', start, last: start, dragging: false, timer: undefined, done: false };
      g.timer = setTimeout(() => {
        g.timer = undefined;
        if (gesture !== g || g.dragging || g.done) return;
        g.done = true;
        click(g.start, 2); // long press = right click
      }, longPressMs);
      gesture = g;
      if (position(start)) showDot(start);
    } else if (touches.length === 2) {
      if (gesture.kind === 'one') endOne(gesture, false);
      startTwo(touches[0]!, touches[1]!);
    }
  };

  const onMove = (e: TouchEvent) => {
    e.preventDefault();
    const g = gesture;
    if (g.kind === 'one' && e.touches.length === 1) {
      const now = point(e.touches[0]!);
      g.last = now;
      if (g.done) return;
      if (!g.dragging && Math.hypot(now.x - g.start.x, now.y - g.start.y) >= MOVE_SLOP_PX) {
        const p = position(g.start);
        if (!p) return;
        if (g.timer) clearTimeout(g.timer);
        g.timer = undefined;
        g.dragging = true;
        send({ t: 'move', ...p });
        send({ t: 'button', button: 0, down: true, ...p });
      }
      if (g.dragging) {
        const p = position(now);
        if (!p) return;
        showDot(now);
        send({ t: 'move', ...p });
      }
    } else if (g.kind === 'two' && e.touches.length >= 2) {
      const [a, b] = [e.touches[0]!, e.touches[1]!];
      const c = centre(a, b);
      const d = distance(a, b);
      if (g.mode === 'undecided') {
        if (Math.abs(d - g.dist0) >= PINCH_SLOP_PX) g.mode = 'pinch';
        else if (Math.hypot(c.x - g.center0.x, c.y - g.center0.y) >= MOVE_SLOP_PX) g.mode = 'scroll';
      }
      if (g.mode === 'pinch') {
        const next = Math.min(maxZoom, Math.max(1, (g.scale0 * d) / Math.max(1, g.dist0)));
        const o = origin();
        scale = next;
        shift = { x: c.x - o.x - g.picture.x * scale, y: c.y - o.y - g.picture.y * scale };
        applyView();
        options.onZoom?.(scale);
      } else if (g.mode === 'scroll') {
        // Natural scrolling, as on the device: fingers moving up scroll the content down (wheel dy > 0).
        const dx = g.center0.x - c.x - g.travel.x;
        const dy = g.center0.y - c.y - g.travel.y;
        const notchesY = Math.trunc(dy / NOTCH_PX);
        const notchesX = Math.trunc(dx / NOTCH_PX);
        for (let i = 0; i < Math.abs(notchesY); i++) send({ t: 'wheel', dx: 0, dy: Math.sign(notchesY) });
        for (let i = 0; i < Math.abs(notchesX); i++) send({ t: 'wheel', dx: Math.sign(notchesX), dy: 0 });
        g.travel = { x: g.travel.x + notchesX * NOTCH_PX, y: g.travel.y + notchesY * NOTCH_PX };
      }
    }
  };

  const onEnd = (e: TouchEvent) => {
    e.preventDefault();
    const g = gesture;
    if (g.kind === 'one') {
      endOne(g, e.type === 'touchend');
      if (e.touches.length === 0) gesture = { kind: 'none' };
    } else if (g.kind === 'two' && e.touches.length < 2) {
      // The finger left of a two-finger gesture does nothing until a new touch starts.
      gesture = { kind: 'none' };
    }
  };

  // Touch pointers are ours: the mouse handlers (input-capture.ts) leave them alone while this mark is
  // on the video (they still bubble, e.g. to a toolbar that shows itself after a touch).
  video.dataset.webrtcbinTouch = '';
  const noMenu = (e: Event) => e.preventDefault();
  video.addEventListener('touchstart', onStart, { passive: false });
  video.addEventListener('touchmove', onMove, { passive: false });
  video.addEventListener('touchend', onEnd, { passive: false });
  video.addEventListener('touchcancel', onEnd, { passive: false });
  video.addEventListener('contextmenu', noMenu);

  // ---- the device keyboard: a hidden text field whose typing becomes key messages ----
  let field: HTMLTextAreaElement | undefined;
  let composing = false;
  const tap = (key: string, code = '') => {
    send({ t: 'key', key, code, down: true });
    send({ t: 'key', key, code, down: false });
  };
  const typeText = (text: string) => {
    for (const ch of text) {
      if (ch === '\n') tap('Enter', 'Enter');
      else tap(ch);
    }
  };
  const makeField = (): HTMLTextAreaElement => {
    const f = document.createElement('textarea');
    f.className = 'webrtcbin-touch-keyboard';
    f.setAttribute('aria-label', 'Type on the remote desktop');
    f.autocapitalize = 'off';
    f.spellcheck = false;
    f.setAttribute('autocomplete', 'off');
    f.setAttribute('autocorrect', 'off');
    // On screen (a field off screen gets no keyboard on some phones) but invisible and out of the way;
    // 16px, or iOS zooms the page when it takes focus.
    Object.assign(f.style, {
      position: 'fixed', left: '0', bottom: '0', width: '1px', height: '1px', opacity: '0', border: '0', padding: '0',
      fontSize: '16px', resize: 'none', background: 'transparent', color: 'transparent', caretColor: 'transparent', zIndex: '-1',
    });
    f.addEventListener('keydown', (e) => {
      if (e.isComposing || composing || e.key === 'Unidentified' || e.key === 'Process' || e.key === 'Dead') return;
      // Named keys (Enter, Backspace, arrows…) and shortcuts go as they are; characters come as input events.
      if (e.key.length > 1 || e.ctrlKey || e.metaKey || e.altKey) {
        e.preventDefault();
        send({ t: 'key', key: e.key, code: e.code, down: true });
      }
    });
    f.addEventListener('keyup', (e) => {
      if (e.isComposing || composing || e.key === 'Unidentified' || e.key === 'Process' || e.key === 'Dead') return;
      if (e.key.length > 1 || e.ctrlKey || e.metaKey || e.altKey) send({ t: 'key', key: e.key, code: e.code, down: false });
    });
    f.addEventListener('compositionstart', () => (composing = true));
    f.addEventListener('compositionend', (e) => {
      composing = false;
      if (e.data) typeText(e.data);
      f.value = '';
    });
    f.addEventListener('input', (e) => {
      const ev = e as InputEvent;
      if (ev.isComposing || composing) return;
      switch (ev.inputType) {
        case 'insertText':
        case 'insertReplacementText':
        case 'insertFromPaste':
          if (ev.data) typeText(ev.data);
          else if (f.value) typeText(f.value);
          break;
        case 'insertLineBreak':
        case 'insertParagraph':
          tap('Enter', 'Enter');
          break;
        case 'deleteContentBackward':
          tap('Backspace', 'Backspace');
          break;
        case 'deleteContentForward':
          tap('Delete', 'Delete');
          break;
        default:
          break;
      }
      f.value = '';
    });
    (video.parentElement ?? document.body).appendChild(f);
    return f;
  };

  return {
    showKeyboard() {
      field ??= makeField();
      field.focus({ preventScroll: true });
    },
    hideKeyboard() {
      field?.blur();
    },
    get zoom() {
      return scale;
    },
    resetZoom() {
      scale = 1;
      shift = { x: 0, y: 0 };
      applyView();
      options.onZoom?.(1);
    },
    release() {
      asked = options.takeControl === false;
    },
    detach() {
      if (gesture.kind === 'one') endOne(gesture, false);
      gesture = { kind: 'none' };
      video.removeEventListener('touchstart', onStart);
      video.removeEventListener('touchmove', onMove);
      video.removeEventListener('touchend', onEnd);
      video.removeEventListener('touchcancel', onEnd);
      video.removeEventListener('contextmenu', noMenu);
      delete video.dataset.webrtcbinTouch;
      dot.remove();
      field?.remove();
      field = undefined;
      video.style.transform = previous.transform;
      video.style.transformOrigin = previous.transformOrigin;
      video.style.touchAction = previous.touchAction;
    },
  };
}
