// The browser viewer (this folder): `node-webrtcbin/viewer`, the module a page author imports to show a
// publisher's stream in their own page: importing it registers <webrtcbin-viewer> (element.ts), and the
// Viewer class beneath it is here for pages that draw their own UI. page.ts is the daemon's page at `/`,
// which is that element filling the window.
// Browser-only and dependency-free: bundled by scripts/build-viewer.mjs into dist/viewer/module.js,
// with declarations in dist/viewer/types/ (the protocol's types come along, its TypeBox code does not).
export {
  Viewer,
  EXPIRED_LINK,
  parseServerMessage,
  type ViewerState,
  type ViewerStats,
  type ViewerOptions,
  type ViewerEventMap,
  type FallbackDetail,
  type ReconnectDetail,
  type ViewerErrorDetail,
  type RemoteResizeResult,
  type ControlDetail,
  type QualityDetail,
  type IncomingMessage,
} from './viewer.js';
export {
  WebrtcbinViewerElement,
  defineViewerElement,
  defaultSignalingUrl,
  formatStats,
  SPECIAL_KEYS,
  QUALITY_STEPS,
  VIEWER_EVENTS,
  type ScaleMode,
  type SpecialKey,
  type WebrtcbinViewerEventMap,
} from './element.js';
export { captureInput, type InputCapture } from './input-capture.js';
export { attachTouch, type TouchInput, type TouchOptions } from './touch.js';
export { parseKeyCombo, type KeyStroke } from './keyboard.js';
export { attachRemoteExtras, type RemoteExtras, type RemoteExtrasOptions } from './remote-extras.js';
export { INPUT_CHANNEL, MAX_CLIPBOARD_CHARS, QUALITY_LIMITS, RESIZE_LIMITS } from '../input/limits.js';
export type { ClientMessage, ServerMessage } from '../signaling/protocol/messages.js';

import { defineViewerElement } from './element.js';
// Importing the module is enough to use the tag (a no-op outside a browser, e.g. server-side rendering).
defineViewerElement();
