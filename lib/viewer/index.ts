// The browser viewer (this folder): `node-webrtcbin/viewer`, the module a page author imports to show a
// publisher's stream in their own page. page.ts is the daemon's page at `/` built on the same pieces.
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
export { captureInput, type InputCapture } from './input-capture.js';
export { attachTouch, type TouchInput, type TouchOptions } from './touch.js';
export { parseKeyCombo, type KeyStroke } from './keyboard.js';
export { attachRemoteExtras, type RemoteExtras, type RemoteExtrasOptions } from './remote-extras.js';
export { INPUT_CHANNEL, MAX_CLIPBOARD_CHARS, QUALITY_LIMITS, RESIZE_LIMITS } from '../input/limits.js';
export type { ClientMessage, ServerMessage } from '../signaling/protocol/messages.js';
