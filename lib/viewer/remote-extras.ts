// Clipboard and remote resize over the publisher's "input" data channel (next to captureInput's mouse
// and keyboard). A paste while the video has focus, or sendClipboard(), puts the text on the VM's X
// clipboard; text the VM's clipboard gets is dispatched as a `clipboard` event on the viewer (and
// written to this page's clipboard where the browser allows). With `resizeRemote`, the window's size in
// device pixels is asked of the VM on attach and, debounced, after every window resize; the answer is
// a `resize` event. The VM only honours the viewer in control (token with control), like input.
import type { RemoteResizeResult, Viewer } from './viewer.js';
import type { ViewerMessage } from '../input/protocol.js';
// The agent's own limits (lib/input/limits.ts holds plain numbers only: nothing of TypeBox in the bundle).
import { MAX_CLIPBOARD_CHARS, RESIZE_LIMITS as LIMITS } from '../input/limits.js';
import { ClipboardAssembler, clipboardMessages, type ClipboardPart } from '../input/clipboard-parts.js';

export interface RemoteExtrasOptions {
  /** Ask the VM's screen to match this window (default false). */
  resizeRemote?: boolean;
  /** Debounce of window resizes before asking (default 1000 ms; the VM takes one resize a second). */
  resizeDebounceMs?: number;
  /** Write the VM's clipboard text to this page's clipboard when allowed (default true). */
  writeLocalClipboard?: boolean;
}

export interface RemoteExtras {
  /** Sends text to the VM's clipboard; false when it is too long or the channel is not open. */
  sendClipboard(text: string): boolean;
  /** Asks the VM's screen for this size (even, clamped to the protocol's limits). */
  requestResize(width: number, height: number): boolean;
  detach(): void;
}

const even = (n: number, min: number, max: number) => Math.min(max, Math.max(min, Math.floor(n / 2) * 2));

export function attachRemoteExtras(viewer: Viewer, video: HTMLVideoElement, channel: RTCDataChannel, options: RemoteExtrasOptions = {}): RemoteExtras {
  const send = (message: ViewerMessage): boolean => {
    if (channel.readyState !== 'open') return false;
    try {
      channel.send(JSON.stringify(message));
      return true;
    } catch {
      return false; // e.g. over the channel's message size limit
    }
  };
  // Long text in parts (clipboard-parts.ts): one message over the channel's max-message-size would throw.
  let clipboardId = 0;
  const sendClipboard = (text: string) => {
    if (text.length > MAX_CLIPBOARD_CHARS) return false;
    clipboardId = (clipboardId + 1) % 2 ** 31;
    return clipboardMessages(text, clipboardId).every((message) => send(message));
  };
  const parts = new ClipboardAssembler();
  const requestResize = (width: number, height: number) =>
    send({ t: 'resize', width: even(width, LIMITS.minWidth, LIMITS.maxWidth), height: even(height, LIMITS.minHeight, LIMITS.maxHeight) });
  const askWindowSize = () => {
    const dpr = window.devicePixelRatio || 1;
    requestResize(Math.round(window.innerWidth * dpr), Math.round(window.innerHeight * dpr));
  };

  const onPaste = (e: ClipboardEvent) => {
    // In a shadow root (the <webrtcbin-viewer> element) document.activeElement is the host, not the video.
    if ((video.getRootNode() as Document | ShadowRoot).activeElement !== video) return;
    const text = e.clipboardData?.getData('text/plain');
    if (!text) return;
    e.preventDefault();
    if (!sendClipboard(text)) return;
    // The V that input-capture held back, once the VM's clipboard has had a moment to take the text.
    setTimeout(() => {
      send({ t: 'key', key: 'v', code: 'KeyV', down: true });
      send({ t: 'key', key: 'v', code: 'KeyV', down: false });
    }, 50);
  };
  const onMessage = (e: MessageEvent) => {
    if (typeof e.data !== 'string') return;
    let message: { t?: unknown; text?: unknown; controlling?: unknown; id?: unknown; part?: unknown; of?: unknown } & Partial<RemoteResizeResult>;
    try {
      message = JSON.parse(e.data);
    } catch {
      return;
    }
    let text: string | undefined;
    if (message.t === 'clipboard-part' && typeof message.text === 'string' && [message.id, message.part, message.of].every(Number.isInteger)) {
      text = parts.add(message as ClipboardPart);
      if (text === undefined) return; // more to come
    } else if (message.t === 'clipboard' && typeof message.text === 'string') text = message.text;
    if (text !== undefined) {
      viewer.dispatchEvent(new CustomEvent('clipboard', { detail: text }));
      // Browsers allow this only in a secure context with focus (and maybe a permission): best effort.
      if (options.writeLocalClipboard !== false) void navigator.clipboard?.writeText(text).catch(() => {});
    } else if (message.t === 'resize-result' && typeof message.ok === 'boolean') {
      const { ok, width = 0, height = 0, code, message: why } = message;
      viewer.dispatchEvent(new CustomEvent('resize', { detail: { ok, width, height, code, message: why } }));
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onWindowResize = () => {
    clearTimeout(timer);
    timer = setTimeout(askWindowSize, options.resizeDebounceMs ?? 1000);
  };
  const onOpen = () => askWindowSize();

  document.addEventListener('paste', onPaste, true);
  channel.addEventListener('message', onMessage);
  if (options.resizeRemote) {
    addEventListener('resize', onWindowResize);
    if (channel.readyState === 'open') askWindowSize();
    else channel.addEventListener('open', onOpen, { once: true });
  }
  return {
    sendClipboard,
    requestResize,
    detach() {
      clearTimeout(timer);
      document.removeEventListener('paste', onPaste, true);
      channel.removeEventListener('message', onMessage);
      channel.removeEventListener('open', onOpen);
      removeEventListener('resize', onWindowResize);
    },
  };
}
