// The <webrtcbin-viewer> element's shadow styles, as text. Applied as a constructed stylesheet
// (adoptedStyleSheets): the daemon's page allows inline <style> only by hash, and a constructed sheet
// is made by our own (allowed) script. Every colour and size a page may want to change is a custom
// property on the host (docs/viewer.md lists them).
export const VIEWER_CSS = `
:host {
  --webrtcbin-background: #000;
  --webrtcbin-foreground: #eee;
  --webrtcbin-muted: #aaa;
  --webrtcbin-panel: rgba(24, 24, 27, 0.94);
  --webrtcbin-border: #3f3f46;
  --webrtcbin-accent: #3b82f6;
  --webrtcbin-ok: #22c55e;
  --webrtcbin-warn: #eab308;
  --webrtcbin-retry: #f97316;
  --webrtcbin-error: #ef4444;
  --webrtcbin-radius: 8px;
  --webrtcbin-font: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  --webrtcbin-mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace;
  --webrtcbin-toolbar-hide-delay: 2s;
  display: block;
  position: relative;
  overflow: hidden;
  contain: content;
  container-type: inline-size;
  aspect-ratio: 16 / 9;
  min-width: 160px;
  min-height: 120px;
  background: var(--webrtcbin-background);
  color: var(--webrtcbin-foreground);
  font: 13px/1.4 var(--webrtcbin-font);
}
:host([hidden]) { display: none; }
[hidden] { display: none !important; }
* { box-sizing: border-box; }

/* The picture: fit (contain), 1:1 in a scrolling stage, or fit while the VM follows the window. */
#stage { position: absolute; inset: 0; overflow: hidden; }
:host([scale="actual"]) #stage { overflow: auto; }
#stage video, ::slotted(video) {
  display: block;
  width: 100%;
  height: 100%;
  object-fit: contain;
  background: var(--webrtcbin-background);
  outline: none;
}
:host([scale="actual"]) #stage video, :host([scale="actual"]) ::slotted(video) {
  width: var(--webrtcbin-video-width, auto);
  height: var(--webrtcbin-video-height, auto);
  max-width: none;
  margin: 0 auto;
}

/* The status line (state, detail, stats): every state but connected is always on screen. */
#overlay {
  position: absolute;
  top: 8px;
  left: 8px;
  max-width: calc(100% - 16px);
  padding: 4px 8px;
  border-radius: 4px;
  background: rgba(0, 0, 0, 0.6);
  color: #ccc;
  font: 12px/1.4 var(--webrtcbin-mono);
  pointer-events: none;
  user-select: none;
  white-space: nowrap;
  overflow: hidden;
  text-overflow: ellipsis;
  transition: top 0.15s;
}
:host([data-toolbar="open"]) #overlay { top: var(--webrtcbin-toolbar-height, 56px); }
#state::before {
  content: "";
  display: inline-block;
  width: 8px;
  height: 8px;
  margin-right: 6px;
  border-radius: 50%;
  background: var(--dot, #888);
}
.state-connected { --dot: var(--webrtcbin-ok); }
.state-negotiating, .state-connecting, .state-waiting-for-publisher { --dot: var(--webrtcbin-warn); }
.state-reconnecting { --dot: var(--webrtcbin-retry); }
.state-failed { --dot: var(--webrtcbin-error); }
#detail { color: #999; white-space: normal; }
#stats:empty, #detail:empty { display: none; }

/* The centred message: failures, expired links, fallback. */
#message {
  position: absolute;
  top: 50%;
  left: 50%;
  transform: translate(-50%, -50%);
  width: max-content;
  max-width: min(36em, calc(100% - 32px));
  padding: 16px 20px;
  border-radius: var(--webrtcbin-radius);
  background: var(--webrtcbin-panel);
  border: 1px solid var(--webrtcbin-border);
  border-top: 3px solid var(--message-accent, var(--webrtcbin-warn));
  font-size: 15px;
  line-height: 1.5;
  text-align: center;
}
#card {
  position: absolute;
  top: 50%;
  left: 50%;
  transform: translate(-50%, -50%);
  width: max-content;
  max-width: min(32em, calc(100% - 32px));
  text-align: center;
  pointer-events: none;
}
#card-title { font-size: 20px; font-weight: 600; }
#card-title::before {
  content: "";
  display: inline-block;
  width: 12px;
  height: 12px;
  margin-right: 10px;
  border-radius: 50%;
  background: var(--dot, #888);
  animation: webrtcbin-pulse 1.2s ease-in-out infinite;
}
#card-body { margin-top: 6px; color: var(--webrtcbin-muted); font-size: 14px; overflow-wrap: anywhere; }
#card-body:empty { display: none; }
@keyframes webrtcbin-pulse { 50% { opacity: 0.3; } }
@media (prefers-reduced-motion: reduce) { #card-title::before { animation: none; } }
#message.failed { --message-accent: var(--webrtcbin-error); }
#message-title { font-weight: 600; margin-bottom: 6px; }
#message-body { color: #bbb; overflow-wrap: anywhere; }

/* Big, obvious buttons that only appear when they are needed. */
.prompt {
  position: absolute;
  right: 8px;
  bottom: 8px;
  padding: 8px 14px;
  border: 1px solid var(--webrtcbin-border);
  border-radius: var(--webrtcbin-radius);
  background: var(--webrtcbin-panel);
  color: var(--webrtcbin-foreground);
  font: inherit;
  cursor: pointer;
}
.prompt:focus-visible, button:focus-visible, select:focus-visible, textarea:focus-visible {
  outline: 2px solid var(--webrtcbin-accent);
  outline-offset: 2px;
}

/* The hint shown on entering full screen. */
#hint {
  position: absolute;
  top: 30%;
  left: 50%;
  transform: translateX(-50%);
  padding: 10px 16px;
  border-radius: var(--webrtcbin-radius);
  background: var(--webrtcbin-panel);
  font-size: 15px;
  pointer-events: none;
}
kbd {
  padding: 1px 6px;
  border: 1px solid #71717a;
  border-bottom-width: 2px;
  border-radius: 4px;
  font: 12px var(--webrtcbin-mono);
}

.sr-only {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip-path: inset(50%);
  white-space: nowrap;
}

/* ---- the toolbar ---- */
/* Hidden, it takes no pointer events: the video under it gets every click. */
#handle {
  position: absolute;
  top: 0;
  left: 50%;
  transform: translateX(-50%);
  width: 56px;
  height: 18px;
  padding: 0;
  border: 1px solid var(--webrtcbin-border);
  border-top: 0;
  border-radius: 0 0 10px 10px;
  background: var(--webrtcbin-panel);
  color: var(--webrtcbin-foreground);
  cursor: pointer;
  opacity: 0;
  pointer-events: none;
  transition: opacity 0.2s;
}
#handle::before {
  content: "";
  display: block;
  width: 22px;
  height: 3px;
  margin: 4px auto 0;
  border-radius: 2px;
  background: currentColor;
}
:host([data-peek]) #handle, #handle:focus-visible { opacity: 0.9; pointer-events: auto; }
:host([data-toolbar="open"]) #handle { opacity: 0; pointer-events: none; }
:host([toolbar="none"]) #handle, :host([toolbar="none"]) #toolbar { display: none; }

#toolbar {
  position: absolute;
  top: 6px;
  left: 0;
  right: 0;
  width: max-content;
  margin: 0 auto;
  transform: translateY(calc(-100% - 12px));
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  justify-content: center;
  gap: 2px;
  max-width: calc(100% - 12px);
  padding: 4px;
  border: 1px solid var(--webrtcbin-border);
  border-radius: var(--webrtcbin-radius);
  background: var(--webrtcbin-panel);
  box-shadow: 0 4px 16px rgba(0, 0, 0, 0.5);
  visibility: hidden;
  pointer-events: none;
  transition: transform 0.15s, visibility 0s 0.15s;
}
:host([data-toolbar="open"]) #toolbar {
  transform: none;
  visibility: visible;
  pointer-events: auto;
  transition: transform 0.15s;
}
#toolbar button, #toolbar select {
  display: inline-flex;
  align-items: center;
  gap: 6px;
  height: 36px;
  min-width: 36px;
  padding: 0 10px;
  border: 0;
  border-radius: 6px;
  background: transparent;
  color: var(--webrtcbin-foreground);
  font: inherit;
  cursor: pointer;
  white-space: nowrap;
}
#toolbar button:hover, #toolbar select:hover { background: rgba(255, 255, 255, 0.1); }
#toolbar button[aria-pressed="true"], #toolbar button[aria-expanded="true"] { background: rgba(59, 130, 246, 0.25); }
#toolbar button:disabled { opacity: 0.45; cursor: default; }
#toolbar svg { width: 18px; height: 18px; flex: none; fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; }
.sep { width: 1px; height: 24px; margin: 0 2px; background: var(--webrtcbin-border); }
#status {
  display: inline-flex;
  align-items: center;
  gap: 6px;
  height: 36px;
  padding: 0 10px;
  color: var(--webrtcbin-foreground);
  white-space: nowrap;
  cursor: help;
}
#status::before {
  content: "";
  width: 10px;
  height: 10px;
  border-radius: 50%;
  background: var(--dot, #888);
}
#latency { color: var(--webrtcbin-muted); font: 12px var(--webrtcbin-mono); }
#holder { color: var(--webrtcbin-muted); font-size: 12px; max-width: 14em; overflow: hidden; text-overflow: ellipsis; }

/* Panels and menus open under the toolbar. */
.panel {
  position: absolute;
  top: var(--webrtcbin-toolbar-height, 56px);
  left: 50%;
  transform: translateX(-50%);
  width: min(26em, calc(100% - 16px));
  max-height: calc(100% - var(--webrtcbin-toolbar-height, 56px) - 8px);
  overflow: auto;
  padding: 12px;
  border: 1px solid var(--webrtcbin-border);
  border-radius: var(--webrtcbin-radius);
  background: var(--webrtcbin-panel);
  box-shadow: 0 4px 16px rgba(0, 0, 0, 0.5);
}
.panel h2 { margin: 0 0 8px; font-size: 14px; font-weight: 600; }
.panel label { display: block; margin: 8px 0 4px; color: var(--webrtcbin-muted); font-size: 12px; }
.panel textarea {
  width: 100%;
  min-height: 4.5em;
  resize: vertical;
  padding: 6px 8px;
  border: 1px solid var(--webrtcbin-border);
  border-radius: 6px;
  background: rgba(0, 0, 0, 0.4);
  color: var(--webrtcbin-foreground);
  font: 13px var(--webrtcbin-mono);
}
.panel .row { display: flex; gap: 8px; justify-content: flex-end; align-items: center; margin-top: 6px; }
.panel .note { flex: 1; color: var(--webrtcbin-muted); font-size: 12px; }
.panel button {
  padding: 6px 12px;
  border: 1px solid var(--webrtcbin-border);
  border-radius: 6px;
  background: rgba(255, 255, 255, 0.06);
  color: var(--webrtcbin-foreground);
  font: inherit;
  cursor: pointer;
}
.panel button.primary { background: var(--webrtcbin-accent); border-color: var(--webrtcbin-accent); color: #fff; }
.menu { display: grid; grid-template-columns: repeat(auto-fill, minmax(7em, 1fr)); gap: 6px; }
.menu[role="radiogroup"] { grid-template-columns: 1fr; }
.menu button[aria-checked="true"] { border-color: var(--webrtcbin-accent); background: rgba(59, 130, 246, 0.25); }
.menu button small { display: block; color: var(--webrtcbin-muted); font-size: 11px; }
.menu button:disabled { opacity: 0.45; cursor: default; }

/* Small hosts: icons only (the buttons keep their accessible names). */
@container (max-width: 700px) {
  #toolbar .label { display: none; }
  #toolbar button, #toolbar select { padding: 0 8px; }
}
`;
