// Sends this page's mouse and keyboard to the VM on the publisher's "input" data channel. Pointer
// positions are fractions of the video picture (letterboxing excluded); keys are DOM key/code names.
// The first click takes control; the VM ignores it unless the viewer's token allows control.
import type { ViewerMessage } from '../input/protocol.js';

export interface InputCapture {
  detach(): void;
  /** Another viewer took control: input stops until the next click here asks for it again. */
  release(): void;
  /** Asks for control without a click (a toolbar button): input flows from now on. */
  take(): void;
  readonly active: boolean;
}

export function captureInput(video: HTMLVideoElement, channel: RTCDataChannel): InputCapture {
  let active = false;
  // In a shadow root (the <webrtcbin-viewer> element) document.activeElement is the host, not the video.
  const focused = () => (video.getRootNode() as Document | ShadowRoot).activeElement === video;
  // Typed as the agent's schema (lib/input/protocol.ts): a message it would refuse does not compile.
  const send = (message: ViewerMessage) => {
    if (channel.readyState === 'open') channel.send(JSON.stringify(message));
  };
  // Where in the picture (0..1) a client point falls, with object-fit: contain.
  const position = (e: MouseEvent): { x: number; y: number } | undefined => {
    const rect = video.getBoundingClientRect();
    const vw = video.videoWidth;
    const vh = video.videoHeight;
    if (!vw || !vh) return undefined;
    const scale = Math.min(rect.width / vw, rect.height / vh);
    const left = rect.left + (rect.width - vw * scale) / 2;
    const top = rect.top + (rect.height - vh * scale) / 2;
    const x = (e.clientX - left) / (vw * scale);
    const y = (e.clientY - top) / (vh * scale);
    if (x < 0 || x > 1 || y < 0 || y > 1) return undefined;
    return { x, y };
  };
  // Touches are attachTouch()'s (touch.ts) while it marks the video: its gestures, not raw pointers.
  const touchOwned = (e: PointerEvent) => e.pointerType === 'touch' && video.dataset.webrtcbinTouch !== undefined;
  let lastMove = 0;
  const onMove = (e: PointerEvent) => {
    if (touchOwned(e)) return;
    const p = position(e);
    if (!p || !active) return;
    const now = performance.now();
    if (now - lastMove < 8) return; // ~120 moves a second at most
    lastMove = now;
    send({ t: 'move', ...p });
  };
  const onButton = (e: PointerEvent) => {
    if (touchOwned(e)) return;
    const p = position(e);
    if (!p) return;
    e.preventDefault();
    if (!active && e.type === 'pointerdown') {
      active = true;
      video.focus();
      send({ t: 'take-control' });
    }
    if (e.button >= 0 && e.button <= 4) send({ t: 'button', button: e.button, down: e.type === 'pointerdown', ...p });
  };
  const onWheel = (e: WheelEvent) => {
    if (!active || !position(e)) return;
    e.preventDefault();
    send({ t: 'wheel', dx: Math.sign(e.deltaX), dy: Math.sign(e.deltaY) });
  };
  const onKey = (e: KeyboardEvent) => {
    if (!active || !focused()) return;
    // Ctrl/Cmd+V is left to the browser: its paste event sends the text first, then the keystroke
    // (remote-extras.ts), so the VM pastes what was pasted here.
    if ((e.ctrlKey || e.metaKey) && (e.key === 'v' || e.key === 'V')) return;
    e.preventDefault();
    if (e.repeat && e.type === 'keyup') return;
    send({ t: 'key', key: e.key, code: e.code, down: e.type === 'keydown' });
  };
  const noMenu = (e: Event) => e.preventDefault();
  video.tabIndex = 0;
  video.style.outline = 'none';
  video.addEventListener('pointermove', onMove);
  video.addEventListener('pointerdown', onButton);
  video.addEventListener('pointerup', onButton);
  video.addEventListener('wheel', onWheel, { passive: false });
  video.addEventListener('contextmenu', noMenu);
  document.addEventListener('keydown', onKey, true);
  document.addEventListener('keyup', onKey, true);
  return {
    get active() {
      return active;
    },
    release() {
      active = false;
    },
    take() {
      active = true;
      send({ t: 'take-control' });
    },
    detach() {
      video.removeEventListener('pointermove', onMove);
      video.removeEventListener('pointerdown', onButton);
      video.removeEventListener('pointerup', onButton);
      video.removeEventListener('wheel', onWheel);
      video.removeEventListener('contextmenu', noMenu);
      document.removeEventListener('keydown', onKey, true);
      document.removeEventListener('keyup', onKey, true);
      active = false;
    },
  };
}
