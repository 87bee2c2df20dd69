// The page the daemon serves at `/`: `/?session=NAME&token=TOKEN[&relay=1][&fit=remote|actual]
// [&janus=ws://…&room=N[&pin=…]]`, which is
// the <webrtcbin-viewer> element (element.ts) filling the window. The element shows the state, stats,
// failures and the toolbar; this script maps the address onto its attributes and keeps the page's own
// keys: 's' toggles the stats line, 'f' full screen, Ctrl+Alt+Shift the toolbar. The test build
// (scripts/build-viewer.mjs { test: true }) also publishes window.__viewer, __viewerState,
// __viewerStats and the last clipboard text and resize answer from the VM (__viewerClipboard /
// __viewerResize); the production bundle has none of them (esbuild drops each
// `if (__VIEWER_TEST_HOOKS__)` branch).
import { defineViewerElement, WebrtcbinViewerElement, type ControlDetail } from './element.js';
import type { RemoteResizeResult, Viewer, ViewerState, ViewerStats } from './viewer.js';
import type { RemoteExtras } from './remote-extras.js';

/** true only in the test build: esbuild's `define` replaces it, and drops the branches it guards. */
declare const __VIEWER_TEST_HOOKS__: boolean;

declare global {
  interface Window {
    __viewer?: Viewer;
    __viewerElement?: WebrtcbinViewerElement;
    __viewerState?: ViewerState;
    __viewerStats?: ViewerStats | null;
    __viewerClipboard?: string;
    __viewerResize?: RemoteResizeResult;
    __viewerExtras?: RemoteExtras;
    __viewerControl?: boolean;
    __viewerAudio?: boolean;
    __viewerFallback?: string;
    __viewerJanus?: { state: string; reason: string | null };
  }
}

const element = document.querySelector('webrtcbin-viewer');
if (!element) throw new Error('<webrtcbin-viewer> is missing from the page');

const params = new URLSearchParams(location.search);
const session = params.get('session') ?? '';
const token = params.get('token');
const fit = params.get('fit');

// Attributes first, then the definition: the element starts once, with all of them.
if (session) element.setAttribute('session', session);
if (token) element.setAttribute('token', token);
if (params.get('relay') === '1') element.setAttribute('relay', '');
if (fit === 'remote' || fit === 'actual') element.setAttribute('scale', fit);
// Video from Janus (docs/sfu.md): the daemon's --viewer-janus must name this URL (the page's CSP).
const janus = params.get('janus');
const room = params.get('room');
if (janus && room) {
  element.setAttribute('janus', janus);
  element.setAttribute('room', room);
  const pin = params.get('pin');
  if (pin) element.setAttribute('janus-pin', pin);
}

if (__VIEWER_TEST_HOOKS__) {
  window.__viewerStats = null;
  const v = element as unknown as WebrtcbinViewerElement;
  window.__viewerElement = v;
  element.addEventListener('state', (e) => {
    window.__viewerState = (e as CustomEvent<ViewerState>).detail;
    window.__viewer = v.viewer ?? window.__viewer;
  });
  element.addEventListener('stats', (e) => (window.__viewerStats = (e as CustomEvent<ViewerStats>).detail));
  element.addEventListener('clipboard', (e) => (window.__viewerClipboard = (e as CustomEvent<string>).detail));
  element.addEventListener('resize', (e) => (window.__viewerResize = (e as CustomEvent<RemoteResizeResult>).detail));
  element.addEventListener('audio', () => (window.__viewerAudio = true));
  element.addEventListener('fallback', (e) => (window.__viewerFallback = (e as CustomEvent<{ reason: string }>).detail.reason));
  element.addEventListener('datachannel', () => (window.__viewerExtras = v.remote));
  element.addEventListener('janus', (e) => (window.__viewerJanus = (e as CustomEvent<{ state: string; reason: string | null }>).detail));
  element.addEventListener('control', (e) => {
    const d = (e as CustomEvent<boolean | ControlDetail>).detail;
    window.__viewerControl = typeof d === 'boolean' ? d : d.controlling;
  });
}

defineViewerElement();
const viewer = element as unknown as WebrtcbinViewerElement;
if (__VIEWER_TEST_HOOKS__) window.__viewer = viewer.viewer ?? undefined;

if (!session) {
  viewer.showMessage('No session to show', 'Open this page as /?session=NAME&token=TOKEN (the link the daemon or `webrtcbin token` gives you).', true);
}

// 's' shows/hides the stats line, 'f' toggles full screen (not while typing into the remote desktop).
document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || viewer.capturing) return;
  const target = e.composedPath()[0];
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLInputElement) return;
  if (e.key === 's' || e.key === 'S') viewer.toggleStats();
  else if (e.key === 'f' || e.key === 'F') void viewer.toggleFullscreen();
});

// Leave politely (bye) when the page goes away; come back if the browser restores it from its cache.
addEventListener('pagehide', () => viewer.stop());
addEventListener('pageshow', (e) => {
  if (e.persisted) viewer.start();
});
