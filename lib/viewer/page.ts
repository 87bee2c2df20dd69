// The page the daemon serves at `/`: `/?session=NAME&token=TOKEN[&relay=1]`. A full-window video, a
// small overlay (state, detail, stats; 's' toggles the stats line, 'f' toggles fullscreen) and a centred
// message when WebRTC cannot get a picture through or the viewer gives up. Every state but `connected`
// is always on screen, whatever 's' says: an outage is never a black picture without a word. `&fit=remote` asks the VM's screen to
// match the window. The test build (scripts/build-viewer.mjs { test: true }) also publishes
// window.__viewer, __viewerState, __viewerStats and the last clipboard text and resize answer from the
// VM (__viewerClipboard / __viewerResize); the production bundle has none of them (esbuild drops each
// `if (__VIEWER_TEST_HOOKS__)` branch).
import { EXPIRED_LINK, Viewer, type ViewerState, type ViewerStats } from './viewer.js';
import { captureInput, type InputCapture } from './input-capture.js';
import { attachRemoteExtras, type RemoteExtras } from './remote-extras.js';
import type { RemoteResizeResult } from './viewer.js';

/** true only in the test build: esbuild's `define` replaces it, and drops the branches it guards. */
declare const __VIEWER_TEST_HOOKS__: boolean;

declare global {
  interface Window {
    __viewer?: Viewer;
    __viewerState?: ViewerState;
    __viewerStats?: ViewerStats | null;
    __viewerClipboard?: string;
    __viewerResize?: RemoteResizeResult;
    __viewerExtras?: RemoteExtras;
    __viewerControl?: boolean;
    __viewerAudio?: boolean;
    __viewerFallback?: string;
  }
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
};

const video = $<HTMLVideoElement>('video');
const overlay = $('overlay');
const stateLine = $('state');
const detailLine = $('detail');
const statsLine = $('stats');
const message = $('message');
const messageTitle = $('message-title');
const messageBody = $('message-body');

// Belt and braces for autoplay: the attributes are in the HTML, the properties make sure.
video.muted = true;
video.autoplay = true;
video.playsInline = true;

// How the Viewer words a publisher's bye (lib/viewer/viewer.ts), followed by the publisher's reason.
const PUBLISHER_ENDED = 'the publisher ended this connection';

const LABELS: Record<ViewerState, string> = {
  connecting: 'connecting…',
  'waiting-for-publisher': 'waiting for the desktop…',
  negotiating: 'negotiating…',
  connected: 'connected',
  reconnecting: 'reconnecting…',
  failed: 'failed',
  stopped: 'stopped',
};

function showMessage(title: string, body: string): void {
  messageTitle.textContent = title;
  messageBody.textContent = body;
  message.hidden = false;
}
function hideMessage(): void {
  message.hidden = true;
}

// 's' hides the stats line only. While connected with the stats hidden nothing needs saying, so the
// overlay goes; any other state brings it back.
let statsShown = true;
function layoutOverlay(): void {
  statsLine.hidden = !statsShown;
  overlay.hidden = overlay.dataset.state === 'connected' && !statsShown;
}

function setState(state: ViewerState, detail = ''): void {
  if (__VIEWER_TEST_HOOKS__) window.__viewerState = state;
  overlay.dataset.state = state;
  stateLine.textContent = LABELS[state];
  detailLine.textContent = detail;
  if (state !== 'connected' && state !== 'negotiating') statsLine.textContent = '';
  layoutOverlay();
}

function formatStats(s: ViewerStats): string {
  const parts: string[] = [];
  const ms = (n: number | null) => (n === null ? '–' : `${Math.round(n)} ms`);
  if (s.codec) parts.push(s.codec);
  if (s.width && s.height) parts.push(`${s.width}×${s.height}`);
  parts.push(`${s.fps === null ? '–' : Math.round(s.fps)} fps`);
  parts.push(s.bitrateKbps === null ? '– kb/s' : s.bitrateKbps >= 10_000 ? `${(s.bitrateKbps / 1000).toFixed(1)} Mb/s` : `${s.bitrateKbps} kb/s`);
  parts.push(`rtt ${ms(s.rttMs)}`);
  parts.push(`jb ${ms(s.jitterBufferMs)}`);
  parts.push(`dec ${ms(s.decodeMs)}`);
  parts.push(`≈${ms(s.latencyEstimateMs)}`);
  return parts.join(' · ');
}

let input: InputCapture | undefined;
let extras: RemoteExtras | undefined;

// 's' shows/hides the stats line, 'f' toggles fullscreen (not while typing into the remote desktop).
document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.repeat || input?.active) return;
  if (e.key === 's' || e.key === 'S') {
    statsShown = !statsShown;
    layoutOverlay();
  }
  else if (e.key === 'f' || e.key === 'F') {
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => {});
    else void document.documentElement.requestFullscreen().catch(() => {});
  }
});

const params = new URLSearchParams(location.search);
const session = params.get('session') ?? '';
const token = params.get('token') ?? undefined;
const relay = params.get('relay') === '1';
const fitRemote = params.get('fit') === 'remote';

if (__VIEWER_TEST_HOOKS__) window.__viewerStats = null;

if (!session) {
  setState('failed', 'no session in the address');
  showMessage('No session to show', 'Open this page as /?session=NAME&token=TOKEN (the link the daemon or `webrtcbin token` gives you).');
} else {
  // Next to the page itself, so a daemon mounted under a prefix (`/rtc/`) is reached at `/rtc/v1/ws`.
  const ws = new URL('v1/ws', location.href);
  ws.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws.search = ws.hash = '';
  const url = ws.href;
  const viewer = new Viewer({
    url,
    session,
    token,
    video,
    iceTransportPolicy: relay ? 'relay' : undefined,
  });
  if (__VIEWER_TEST_HOOKS__) window.__viewer = viewer;
  viewer.addEventListener('datachannel', (e) => {
    const channel = e.detail;
    if (channel.label !== 'input') return;
    input?.detach();
    extras?.detach();
    input = captureInput(video, channel);
    const attached = attachRemoteExtras(viewer, video, channel, { resizeRemote: fitRemote });
    extras = attached;
    if (__VIEWER_TEST_HOOKS__) window.__viewerExtras = attached;
    channel.addEventListener('close', () => {
      input?.detach();
      attached.detach();
    });
  });
  if (__VIEWER_TEST_HOOKS__) viewer.addEventListener('clipboard', (e) => (window.__viewerClipboard = e.detail));
  viewer.addEventListener('control', (e) => {
    const { controlling, holder } = e.detail;
    if (__VIEWER_TEST_HOOKS__) window.__viewerControl = controlling;
    if (!controlling) input?.release();
    detailLine.textContent = controlling ? 'you control the desktop' : holder ? 'view only: another viewer has control (click to take it)' : 'nobody controls the desktop (click to take control)';
  });
  viewer.addEventListener('resize', (e) => {
    if (__VIEWER_TEST_HOOKS__) window.__viewerResize = e.detail;
    if (!e.detail.ok) detailLine.textContent = `resize refused: ${e.detail.message ?? e.detail.code}`;
  });
  // Browsers only play sound after a gesture: the button is that gesture.
  const sound = $<HTMLButtonElement>('sound');
  viewer.addEventListener('audio', () => {
    if (__VIEWER_TEST_HOOKS__) window.__viewerAudio = true;
    if (video.muted) sound.hidden = false;
  });
  sound.addEventListener('click', () => {
    video.muted = false;
    void video.play().catch(() => {});
    sound.hidden = true;
  });
  let fallbackShown = false;
  // Why the publisher last ended our connection (its capture or encoder failed, …): said on every state
  // until a connection works again, so a publisher that breaks is not taken for a firewall.
  let publisherSaid: string | undefined;

  viewer.addEventListener('state', (e) => {
    const state = e.detail;
    let detail = '';
    if (state === 'connected') publisherSaid = undefined;
    if (state === 'waiting-for-publisher' || state === 'reconnecting') detail = viewer.reason ?? '';
    if (state !== 'connected' && publisherSaid && !detail.includes(publisherSaid)) detail = detail ? `${detail} · ${publisherSaid}` : publisherSaid;
    if (relay && (state === 'negotiating' || state === 'connected')) detail = 'relay only (TURN)';
    setState(state, detail);
    if (state === 'failed' && viewer.failureReason === EXPIRED_LINK) {
      showMessage('This link has expired', 'Ask for a new link to keep watching (reloading this one will not help).');
    } else if (state === 'failed') {
      showMessage('Cannot show the desktop', viewer.failureReason ?? 'The viewer gave up.');
    } else if (state === 'stopped') {
      showMessage('Stopped', 'The viewer was stopped. Reload the page to connect again.');
    } else if (!fallbackShown) {
      hideMessage();
    }
  });

  viewer.addEventListener('reconnect', (e) => {
    const { attempt, delayMs, reason } = e.detail;
    if (reason.startsWith(PUBLISHER_ENDED)) publisherSaid = reason;
    detailLine.textContent = `retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s: ${reason}`;
  });

  viewer.addEventListener('fallback', (e) => {
    fallbackShown = true;
    if (__VIEWER_TEST_HOOKS__) window.__viewerFallback = e.detail.reason;
    if (publisherSaid) showMessage('The desktop cannot be streamed', `${publisherSaid}. Still trying…`);
    else showMessage('The video is not getting through', `${e.detail.reason}. Still trying…${relay ? '' : ' (If a firewall blocks UDP, try adding &relay=1 to the address.)'}`);
  });

  viewer.addEventListener('stats', (e) => {
    const stats = e.detail;
    if (__VIEWER_TEST_HOOKS__) window.__viewerStats = stats;
    statsLine.textContent = formatStats(stats);
    if (fallbackShown && stats.framesDecoded > 0) {
      fallbackShown = false;
      hideMessage();
    }
  });

  // Leave politely (bye) when the page goes away; come back if the browser restores it from its cache.
  addEventListener('pagehide', () => viewer.stop());
  addEventListener('pageshow', (e) => {
    if (e.persisted) viewer.start();
  });
  viewer.start();
}
