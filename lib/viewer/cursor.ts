// The remote pointer drawn by the page (publish({pointer: 'channel'})): the publisher sends each cursor
// shape once (`cursor-shape`, a PNG) and then where the pointer is (`cursor`). While this viewer
// controls and its own pointer is over the video, the local pointer IS the cursor, with the remote
// shape (CSS `cursor: url(data:…) hx hy`: no latency at all); otherwise an image over the video shows
// it at the remote position (another viewer or an agent moving it), scaled to the picture's displayed
// rectangle (fit, 1:1 and pinch zoom alike: measured from the video's box, transforms included).
// Nothing changes until the first `cursor` message: with pointer 'video' the picture carries it. When the
// channel opens the page says it draws the pointer (`cursor-draw`): a publisher with pointer 'auto' then
// sends it the pointer and says whether the picture has it now (`cursor-picture`). While the picture has
// it the page draws none (no overlay, no CSS shape: two pointers otherwise); when the picture loses it
// the overlay comes back with the next presented frame (the one without it), or after FLIP_WAIT_MS on
// a still screen that sends none.
import { CURSOR_LIMITS } from '../input/limits.js';

export interface RemoteCursor {
  /** The last position and shape the publisher sent, in its screen pixels (null: none yet). */
  readonly state: { x: number; y: number; width: number; height: number; id: number; visible: boolean } | null;
  /** The publisher said the video shows the pointer now (the page then draws none). */
  readonly inPicture: boolean;
  /** Places the overlay again (the element calls it when its layout may have changed). */
  update(): void;
  detach(): void;
}

interface Shape {
  url: string;
  xhot: number;
  yhot: number;
  width: number;
  height: number;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
// A viewer that never removes its shapes: an application cycling cursors reuses the same ids.
const MAX_SHAPES = 64;
// The longest the overlay waits for a frame without the pointer before it shows anyway.
const FLIP_WAIT_MS = 250;

export interface RemoteCursorOptions {
  /** Where the overlay image goes: an element the video's box is in (the element's stage). */
  layer: HTMLElement;
  /** This viewer's input goes to the VM now (its pointer over the video is the remote one). */
  controlling(): boolean;
}

export function attachCursor(video: HTMLVideoElement, channel: RTCDataChannel, options: RemoteCursorOptions): RemoteCursor {
  const { layer, controlling } = options;
  const shapes = new Map<number, Shape>();
  let state: RemoteCursor['state'] = null;
  let over = false;
  // The publisher said the picture has the pointer now (pointer 'auto' with a viewer that cannot draw it).
  let inPicture = false;
  let flipWait: ReturnType<typeof setTimeout> | undefined;
  // Each cursor-picture (and detach) starts a new one: a frame callback of an older one does nothing.
  let flip = 0;
  const image = document.createElement('img');
  image.className = 'webrtcbin-remote-cursor';
  image.alt = '';
  image.setAttribute('aria-hidden', 'true');
  image.draggable = false;
  Object.assign(image.style, { position: 'absolute', left: '0', top: '0', pointerEvents: 'none', display: 'none', imageRendering: 'pixelated' });
  layer.appendChild(image);
  const previousCursor = video.style.cursor;

  const onMessage = (e: MessageEvent) => {
    // The publisher writes `t` first: other messages are not parsed a second time here (viewer.ts does).
    if (typeof e.data !== 'string' || !e.data.startsWith('{"t":"cursor')) return;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(e.data) as Record<string, unknown>;
    } catch {
      return;
    }
    if (m.t === 'cursor-shape') addShape(m);
    else if (m.t === 'cursor') move(m);
    else if (m.t === 'cursor-picture' && typeof m.shown === 'boolean') onPicture(m.shown);
  };
  const onPicture = (shown: boolean) => {
    clearTimeout(flipWait);
    flipWait = undefined;
    const mine = ++flip;
    if (shown) {
      // Hidden at once: the picture's pointer comes with the next frame.
      inPicture = true;
      return render();
    }
    if (!inPicture) return;
    // Frames already on their way still have the pointer: show ours with the first one after this.
    const show = () => {
      if (mine !== flip) return;
      flip++;
      clearTimeout(flipWait);
      flipWait = undefined;
      inPicture = false;
      render();
    };
    flipWait = setTimeout(show, FLIP_WAIT_MS);
    if (typeof video.requestVideoFrameCallback === 'function') video.requestVideoFrameCallback(show);
  };
  image.dataset.inPicture = 'false';
  const whole = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
  const addShape = (m: Record<string, unknown>) => {
    const { id, width, height, xhot, yhot, png } = m;
    const side = CURSOR_LIMITS.maxSide;
    if (!whole(id, 0, 2 ** 32 - 1) || !whole(width, 1, side) || !whole(height, 1, side) || !whole(xhot, 0, side - 1) || !whole(yhot, 0, side - 1)) return;
    if (typeof png !== 'string' || png.length > CURSOR_LIMITS.maxPngChars || !BASE64.test(png)) return;
    shapes.delete(id);
    shapes.set(id, { url: `data:image/png;base64,${png}`, xhot, yhot, width, height });
    if (shapes.size > MAX_SHAPES) shapes.delete(shapes.keys().next().value!);
    if (state?.id === id) render();
  };
  const move = (m: Record<string, unknown>) => {
    const { x, y, width, height, id, visible } = m;
    if (!whole(x, -65536, 65536) || !whole(y, -65536, 65536) || !whole(width, 1, 65536) || !whole(height, 1, 65536) || !whole(id, 0, 2 ** 32 - 1) || typeof visible !== 'boolean') return;
    state = { x, y, width, height, id, visible };
    render();
  };

  // The picture's rectangle on screen: object-fit contain inside the video's box (transform included).
  const picture = () => {
    const rect = video.getBoundingClientRect();
    const vw = video.videoWidth;
    const vh = video.videoHeight;
    if (!vw || !vh || !rect.width) return undefined;
    const scale = Math.min(rect.width / vw, rect.height / vh);
    return { left: rect.left + (rect.width - vw * scale) / 2, top: rect.top + (rect.height - vh * scale) / 2, width: vw * scale, height: vh * scale };
  };

  let cssShape = '';
  const render = () => {
    if (!state) return;
    // Where the remote pointer is, shown or not (tests and page scripts read it).
    image.dataset.x = String(state.x);
    image.dataset.y = String(state.y);
    image.dataset.inPicture = String(inPicture);
    const shape = shapes.get(state.id);
    if (inPicture) {
      // The picture shows it: the page's pointer is the page's own, and no overlay.
      if (cssShape !== previousCursor) video.style.cursor = cssShape = previousCursor;
      image.style.display = 'none';
      return;
    }
    // Controlling with the pointer here: the browser draws the cursor where the user's pointer is.
    const local = over && controlling();
    const css = !local ? previousCursor : !state.visible ? 'none' : shape ? `url("${shape.url}") ${shape.xhot} ${shape.yhot}, auto` : previousCursor;
    if (css !== cssShape) {
      cssShape = css;
      video.style.cursor = css;
    }
    const rect = local || !state.visible || !shape ? undefined : picture();
    if (!rect || !shape) {
      image.style.display = 'none';
      return;
    }
    if (image.getAttribute('src') !== shape.url) image.src = shape.url;
    image.style.width = `${shape.width}px`;
    image.style.height = `${shape.height}px`;
    // Where the containing block puts 0,0 is measured: the host's `contain` makes it the block.
    image.style.left = image.style.top = '0px';
    image.style.display = 'block';
    const origin = image.getBoundingClientRect();
    const px = rect.left + (state.x / state.width) * rect.width - shape.xhot;
    const py = rect.top + (state.y / state.height) * rect.height - shape.yhot;
    image.style.left = `${Math.round(px - origin.left)}px`;
    image.style.top = `${Math.round(py - origin.top)}px`;
  };
  const enter = () => {
    over = true;
    render();
  };
  const leave = () => {
    over = false;
    render();
  };
  // Control may come with the click that the pointer is already over the video for.
  const onDown = () => queueMicrotask(render);
  // One abort removes every listener detach() must remove (no second list to keep in step).
  const listening = new AbortController();
  const { signal } = listening;
  channel.addEventListener('message', onMessage, { signal });
  // This page draws the pointer itself: a publisher with pointer 'auto' may take it out of the picture.
  const announce = () => {
    try {
      channel.send(JSON.stringify({ t: 'cursor-draw', draws: true }));
    } catch {
      // Closed meanwhile: the next connection's channel says it again.
    }
  };
  if (channel.readyState === 'open') announce();
  else channel.addEventListener('open', announce, { once: true, signal });
  video.addEventListener('pointerenter', enter, { signal });
  video.addEventListener('pointerleave', leave, { signal });
  video.addEventListener('pointerdown', onDown, { signal });
  video.addEventListener('resize', render, { signal });
  addEventListener('resize', render, { signal });
  // The picture moves without a cursor message: a scrolled 1:1 stage, a pinch zoom (touch.ts).
  layer.addEventListener('scroll', render, { passive: true, signal });
  video.addEventListener('touchmove', render, { passive: true, signal });
  video.addEventListener('touchend', render, { passive: true, signal });
  return {
    get state() {
      return state;
    },
    update: render,
    get inPicture() {
      return inPicture;
    },
    detach() {
      listening.abort();
      clearTimeout(flipWait);
      flip++;
      video.style.cursor = previousCursor;
      image.remove();
    },
  };
}
