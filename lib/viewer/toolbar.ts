// The <webrtcbin-viewer> toolbar: state and latency, control, special keys, clipboard, scaling, quality,
// sound, stats and full screen. It stays out of the way: hidden it takes no pointer events, and it opens
// from the top edge (mouse), the handle that a touch shows (touch), or Ctrl+Alt+Shift and Tab (keyboard).
// It knows nothing of WebRTC: the element hands it actions and a snapshot to show (ToolbarState).
import type { ViewerState } from './viewer.js';
import { describeLatency } from './latency-probe.js';

/** How the picture is scaled: fit the element, 1:1 with scrolling, or fit while the VM follows the element's size. */
export type ScaleMode = 'fit' | 'actual' | 'remote';

/** A key or combination the browser keeps for itself, sent as DOM key names (pressed in order, released in reverse). */
export interface SpecialKey {
  label: string;
  /** [DOM key, DOM code] pairs. */
  keys: [string, string][];
}

const fkeys: SpecialKey[] = Array.from({ length: 12 }, (_, i) => ({ label: `F${i + 1}`, keys: [[`F${i + 1}`, `F${i + 1}`]] }));
export const SPECIAL_KEYS: SpecialKey[] = [
  { label: 'Ctrl+Alt+Del', keys: [['Control', 'ControlLeft'], ['Alt', 'AltLeft'], ['Delete', 'Delete']] },
  { label: 'Super', keys: [['Meta', 'MetaLeft']] },
  { label: 'Alt+Tab', keys: [['Alt', 'AltLeft'], ['Tab', 'Tab']] },
  { label: 'Alt+F4', keys: [['Alt', 'AltLeft'], ['F4', 'F4']] },
  { label: 'Esc', keys: [['Escape', 'Escape']] },
  { label: 'Print', keys: [['PrintScreen', 'PrintScreen']] },
  ...fkeys,
];

/** The bitrate ceilings offered (bits per second; null = no ceiling, the publisher decides). */
export const QUALITY_STEPS: { label: string; hint: string; bps: number | null }[] = [
  { label: 'Automatic', hint: 'the publisher adapts to the network', bps: null },
  { label: 'High', hint: 'up to 8 Mb/s', bps: 8_000_000 },
  { label: 'Medium', hint: 'up to 2 Mb/s', bps: 2_000_000 },
  { label: 'Low', hint: 'up to 1 Mb/s', bps: 1_000_000 },
  { label: 'Lowest', hint: 'up to 500 kb/s, for slow links', bps: 500_000 },
];

const SCALES: { mode: ScaleMode; label: string; hint: string }[] = [
  { mode: 'fit', label: 'Fit', hint: 'the whole desktop in this window' },
  { mode: 'actual', label: '1:1', hint: 'one desktop pixel per screen pixel; scroll to see the rest' },
  { mode: 'remote', label: 'Follow window', hint: "the desktop's screen takes this window's size" },
];

export interface ToolbarActions {
  takeControl(): void;
  releaseControl(): void;
  sendKeys(key: SpecialKey): boolean;
  sendClipboard(text: string): boolean;
  setScale(mode: ScaleMode): void;
  /** false when this viewer cannot send a ceiling (older viewer module or publisher). */
  setMaxBitrate(bps: number | null): boolean;
  toggleSound(): void;
  toggleStats(): void;
  toggleFullscreen(): void;
  /** Where keyboard focus goes when the toolbar closes (the video). */
  focusVideo(): void;
  /** Brings up the device keyboard (touch screens); false when there is no input yet. */
  showKeyboard?(): boolean;
}

export interface ToolbarState {
  state: ViewerState;
  stateLabel: string;
  /** The receiver's share of the latency, ms (null before the first stats). */
  latencyMs: number | null;
  /** Capture → display, ms, when the glass-to-glass probe measures it (ViewerStats.glassToGlassMs). */
  glassToGlassMs?: number | null;
  glassToGlassUncertaintyMs?: number | null;
  /** The input channel is open (control, keys, clipboard and resize need it). */
  inputReady: boolean;
  controlling: boolean;
  /** Who controls, as the publisher says (undefined when it does not say). */
  holder: string | undefined;
  /** The publisher sends sound. */
  audio: boolean;
  muted: boolean;
  statsShown: boolean;
  fullscreen: boolean;
  scale: ScaleMode;
  /** false once the publisher refused a resize as unsupported. */
  resizeSupported: boolean;
  qualitySupported: boolean;
  maxBitrate: number | null;
  /** The last text the VM copied. */
  remoteClipboard: string | undefined;
}

const ICONS: Record<string, string> = {
  control: '<path d="M9 11V5a2 2 0 0 1 4 0v6m0-2a2 2 0 0 1 4 0v3m0-1a2 2 0 0 1 4 0v4a7 7 0 0 1-7 7h-1a7 7 0 0 1-6-3l-3-5a2 2 0 0 1 3-2l2 2V9"/>',
  keys: '<rect x="2" y="6" width="20" height="12" rx="2"/><path d="M6 10h.01M10 10h.01M14 10h.01M18 10h.01M7 14h10"/>',
  clipboard: '<rect x="8" y="2" width="8" height="4" rx="1"/><path d="M16 4h2a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h2"/>',
  scale: '<path d="M15 3h6v6M9 21H3v-6M21 3l-7 7M3 21l7-7"/>',
  quality: '<path d="M12 20a8 8 0 1 1 8-8"/><path d="M12 12l4-4"/>',
  sound: '<path d="M11 5 6 9H2v6h4l5 4z"/><path d="M15.5 8.5a5 5 0 0 1 0 7M19 5a10 10 0 0 1 0 14"/>',
  muted: '<path d="M11 5 6 9H2v6h4l5 4z"/><path d="m22 9-6 6M16 9l6 6"/>',
  stats: '<path d="M3 3v18h18"/><path d="M7 15l4-4 3 3 5-6"/>',
  fullscreen: '<path d="M8 3H5a2 2 0 0 0-2 2v3M21 8V5a2 2 0 0 0-2-2h-3M3 16v3a2 2 0 0 0 2 2h3M16 21h3a2 2 0 0 0 2-2v-3"/>',
  hide: '<path d="m18 15-6-6-6 6"/>',
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { attrs?: Record<string, string> } = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  const { attrs, ...rest } = props;
  Object.assign(node, rest);
  for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function icon(name: string): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  // Our own constant markup, never text from a peer.
  svg.innerHTML = ICONS[name] ?? '';
  return svg;
}

function toolButton(id: string, iconName: string, label: string, extra: Record<string, string> = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', id, attrs: { 'aria-label': label, title: label, ...extra } }, [icon(iconName), el('span', { className: 'label', textContent: label })]);
  return b;
}

type PanelName = 'keys' | 'clipboard' | 'scale' | 'quality';

/** How long the top edge is "near" for the handle to show, px. */
const PEEK_ZONE = 64;
/** Pointer this close to the top edge opens the toolbar, px. */
const EDGE_ZONE = 6;

export class Toolbar {
  readonly root: HTMLElement;
  readonly handle: HTMLButtonElement;
  private readonly host: HTMLElement;
  private readonly actions: ToolbarActions;
  private readonly buttons: Record<'control' | 'keys' | 'clipboard' | 'scale' | 'quality' | 'sound' | 'stats' | 'fullscreen' | 'hide', HTMLButtonElement>;
  private readonly status: HTMLElement;
  private readonly stateText: HTMLElement;
  private readonly latency: HTMLElement;
  private readonly holder: HTMLElement;
  private readonly panels: Record<PanelName, HTMLElement>;
  private readonly outgoing: HTMLTextAreaElement;
  private readonly incoming: HTMLTextAreaElement;
  private readonly clipNote: HTMLElement;
  private readonly scaleItems = new Map<ScaleMode, HTMLButtonElement>();
  private readonly qualityItems = new Map<number | null, HTMLButtonElement>();
  private snapshot: ToolbarState | undefined;
  private openPanel: PanelName | undefined;
  /** Opened by a hover at the edge (closes on leaving), or pinned (handle, shortcut, first connect). */
  private openedBy: 'hover' | 'pin' | 'intro' | undefined;
  private hideTimer: ReturnType<typeof setTimeout> | undefined;
  private peekTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly cleanups: (() => void)[] = [];
  /** Says things to screen readers (the element's live region). */
  announce: (text: string) => void = () => {};

  constructor(host: HTMLElement, shadow: ShadowRoot, actions: ToolbarActions) {
    this.host = host;
    this.actions = actions;
    this.handle = el('button', { type: 'button', id: 'handle', attrs: { 'aria-label': 'Show the toolbar (Ctrl+Alt+Shift)', title: 'Toolbar (Ctrl+Alt+Shift)', 'aria-controls': 'toolbar', 'aria-expanded': 'false' } });
    this.stateText = el('span', { id: 'status-text' });
    this.latency = el('span', { id: 'latency' });
    this.status = el('span', { id: 'status', attrs: { role: 'status' } }, [this.stateText, this.latency]);
    this.holder = el('span', { id: 'holder' });
    this.buttons = {
      control: toolButton('control', 'control', 'Take control', { 'aria-pressed': 'false' }),
      keys: toolButton('keys', 'keys', 'Special keys', { 'aria-expanded': 'false', 'aria-controls': 'keys-panel', 'aria-haspopup': 'true' }),
      clipboard: toolButton('clipboard', 'clipboard', 'Clipboard', { 'aria-expanded': 'false', 'aria-controls': 'clipboard-panel' }),
      scale: toolButton('scale', 'scale', 'Scaling: fit', { 'aria-expanded': 'false', 'aria-controls': 'scale-panel', 'aria-haspopup': 'true' }),
      quality: toolButton('quality', 'quality', 'Quality: automatic', { 'aria-expanded': 'false', 'aria-controls': 'quality-panel', 'aria-haspopup': 'true' }),
      sound: toolButton('sound-toggle', 'muted', 'Sound off', { 'aria-pressed': 'false' }),
      stats: toolButton('stats-toggle', 'stats', 'Statistics', { 'aria-pressed': 'true' }),
      fullscreen: toolButton('fullscreen', 'fullscreen', 'Full screen', { 'aria-pressed': 'false' }),
      hide: toolButton('hide', 'hide', 'Hide the toolbar'),
    };
    (this.buttons.hide.querySelector('.label') as HTMLElement).textContent = 'Hide';
    const b = this.buttons;
    this.root = el('div', { id: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Desktop viewer' } }, [
      this.status,
      el('span', { className: 'sep' }),
      b.control,
      this.holder,
      b.keys,
      b.clipboard,
      el('span', { className: 'sep' }),
      b.scale,
      b.quality,
      b.sound,
      b.stats,
      b.fullscreen,
      b.hide,
    ]);

    // Special keys: one button per combination.
    const keyMenu = el('div', { className: 'menu', attrs: { role: 'group', 'aria-label': 'Keys to send' } });
    for (const key of SPECIAL_KEYS) {
      const item = el('button', { type: 'button', textContent: key.label, attrs: { 'data-key': key.label, 'aria-label': `Send ${key.label}` } });
      item.addEventListener('click', () => {
        const sent = this.actions.sendKeys(key);
        this.announce(sent ? `Sent ${key.label}` : `${key.label} not sent: take control first`);
      });
      keyMenu.append(item);
    }
    // Phones and tablets: the device's own keyboard, typing into the VM (touch.ts).
    const deviceKeyboard = el('button', { type: 'button', textContent: 'Keyboard', attrs: { 'data-key': 'keyboard', 'aria-label': 'Show the on-screen keyboard' } });
    deviceKeyboard.addEventListener('click', () => {
      if (!this.actions.showKeyboard?.()) this.announce('No keyboard: not connected to the desktop input yet');
    });
    keyMenu.prepend(deviceKeyboard);
    const keysPanel = this.panel('keys', 'Send a key the browser keeps', [keyMenu]);

    // Clipboard: text out, the VM's text in (for when the async clipboard is not allowed).
    this.outgoing = el('textarea', { id: 'clip-out', attrs: { rows: '3', placeholder: 'Paste or type here, then Send' } });
    this.incoming = el('textarea', { id: 'clip-in', readOnly: true, attrs: { rows: '3', placeholder: 'Nothing copied on the desktop yet' } });
    this.clipNote = el('span', { className: 'note', attrs: { 'aria-live': 'polite' } });
    const send = el('button', { type: 'button', id: 'clip-send', className: 'primary', textContent: 'Send to desktop' });
    const copy = el('button', { type: 'button', id: 'clip-copy', textContent: 'Copy' });
    send.addEventListener('click', () => {
      const text = this.outgoing.value;
      if (!text) return;
      const ok = this.actions.sendClipboard(text);
      this.clipNote.textContent = ok ? 'Sent: paste it on the desktop' : this.snapshot?.controlling ? 'Not sent (too long, or not connected)' : 'Not sent: take control first';
    });
    copy.addEventListener('click', () => {
      this.incoming.select();
      const text = this.incoming.value;
      void navigator.clipboard?.writeText(text).then(
        () => (this.clipNote.textContent = 'Copied'),
        () => (this.clipNote.textContent = 'Selected: press Ctrl+C to copy'),
      );
    });
    const clipboardPanel = this.panel('clipboard', 'Clipboard', [
      el('label', { htmlFor: 'clip-out', textContent: 'Send text to the desktop clipboard' }),
      this.outgoing,
      el('div', { className: 'row' }, [this.clipNote, send]),
      el('label', { htmlFor: 'clip-in', textContent: 'Last copied on the desktop' }),
      this.incoming,
      el('div', { className: 'row' }, [copy]),
    ]);

    const scaleMenu = el('div', { className: 'menu', attrs: { role: 'radiogroup', 'aria-label': 'Scaling' } });
    for (const s of SCALES) {
      const item = el('button', { type: 'button', attrs: { role: 'radio', 'aria-checked': 'false', 'data-scale': s.mode } }, [s.label, el('small', { textContent: s.hint })]);
      item.addEventListener('click', () => {
        this.actions.setScale(s.mode);
        this.closePanel(true);
      });
      this.scaleItems.set(s.mode, item);
      scaleMenu.append(item);
    }
    const scalePanel = this.panel('scale', 'Scaling', [scaleMenu]);

    const qualityMenu = el('div', { className: 'menu', attrs: { role: 'radiogroup', 'aria-label': 'Quality' } });
    for (const q of QUALITY_STEPS) {
      const item = el('button', { type: 'button', attrs: { role: 'radio', 'aria-checked': 'false', 'data-bps': String(q.bps ?? 'auto') } }, [q.label, el('small', { textContent: q.hint })]);
      item.addEventListener('click', () => {
        if (!this.actions.setMaxBitrate(q.bps)) this.announce('This desktop does not take a quality setting');
        this.closePanel(true);
      });
      this.qualityItems.set(q.bps, item);
      qualityMenu.append(item);
    }
    const qualityPanel = this.panel('quality', 'Quality (the most the desktop may send)', [qualityMenu]);
    this.panels = { keys: keysPanel, clipboard: clipboardPanel, scale: scalePanel, quality: qualityPanel };

    shadow.append(this.handle, this.root, keysPanel, clipboardPanel, scalePanel, qualityPanel);
    this.wire();
  }

  private panel(name: PanelName, title: string, children: Node[]): HTMLElement {
    const headingId = `${name}-title`;
    return el('div', { id: `${name}-panel`, className: 'panel', hidden: true, attrs: { role: 'dialog', 'aria-labelledby': headingId } }, [el('h2', { id: headingId, textContent: title }), ...children]);
  }

  private listen<T extends EventTarget>(target: T, type: string, fn: (e: never) => void, options?: AddEventListenerOptions | boolean): void {
    target.addEventListener(type, fn as EventListener, options);
    this.cleanups.push(() => target.removeEventListener(type, fn as EventListener, options));
  }

  private wire(): void {
    const b = this.buttons;
    this.listen(this.handle, 'click', () => this.open('pin', true));
    this.listen(b.control, 'click', () => (this.snapshot?.controlling ? this.actions.releaseControl() : this.actions.takeControl()));
    this.listen(b.keys, 'click', () => this.togglePanel('keys'));
    this.listen(b.clipboard, 'click', () => this.togglePanel('clipboard'));
    this.listen(b.scale, 'click', () => this.togglePanel('scale'));
    this.listen(b.quality, 'click', () => this.togglePanel('quality'));
    this.listen(b.sound, 'click', () => this.actions.toggleSound());
    this.listen(b.stats, 'click', () => this.actions.toggleStats());
    this.listen(b.fullscreen, 'click', () => this.actions.toggleFullscreen());
    this.listen(b.hide, 'click', () => this.close(true));

    // Arrow keys move along the toolbar (Tab still walks it in order); Escape closes it.
    this.listen(this.root, 'keydown', (e: KeyboardEvent) => {
      const items = [...this.root.querySelectorAll<HTMLButtonElement>('button:not(:disabled)')];
      const at = items.indexOf(this.focused() as HTMLButtonElement);
      let next = -1;
      if (e.key === 'ArrowRight') next = (at + 1) % items.length;
      else if (e.key === 'ArrowLeft') next = (at - 1 + items.length) % items.length;
      else if (e.key === 'Home') next = 0;
      else if (e.key === 'End') next = items.length - 1;
      if (next >= 0) {
        e.preventDefault();
        items[next]?.focus();
      }
    });
    for (const p of Object.values(this.panels)) this.listen(p, 'keydown', (e: KeyboardEvent) => e.key === 'Escape' && this.closePanel(true));
    this.listen(this.root, 'keydown', (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        this.close(true);
      }
    });

    // Mouse at the top edge opens it; near the edge, or after a touch, the handle shows.
    this.listen(this.host, 'pointermove', (e: PointerEvent) => {
      if (e.pointerType !== 'mouse') return;
      const y = e.clientY - this.host.getBoundingClientRect().top;
      if (y <= EDGE_ZONE && !this.isOpen) this.open('hover');
      if (y <= PEEK_ZONE) this.peek(1500);
    });
    this.listen(this.host, 'pointerdown', (e: PointerEvent) => {
      if (e.pointerType === 'touch' || e.pointerType === 'pen') this.peek(4000);
      // A press on the picture closes a hover-opened or introduced toolbar and any panel.
      if (!this.inside(e) && this.isOpen) this.close(false);
    });
    this.listen(this.root, 'pointerenter', () => clearTimeout(this.hideTimer));
    this.listen(this.root, 'pointerleave', () => {
      if (this.openedBy === 'hover') this.scheduleHide(1500);
    });
    this.listen(this.host, 'focusin', (e: FocusEvent) => {
      if (this.inside(e)) {
        clearTimeout(this.hideTimer);
        if (!this.isOpen) this.open('pin');
      }
    });
  }

  private inside(e: Event): boolean {
    const path = e.composedPath();
    return path.includes(this.root) || path.includes(this.handle) || Object.values(this.panels).some((p) => path.includes(p));
  }

  private focused(): Element | null {
    return (this.root.getRootNode() as ShadowRoot).activeElement;
  }

  get isOpen(): boolean {
    return this.host.dataset.toolbar === 'open';
  }

  /** Opens the toolbar; `focus` moves keyboard focus to its first button. */
  open(by: 'hover' | 'pin' | 'intro', focus = false): void {
    // Already open (the user got there first): the introduction must not close it later.
    if (by === 'intro' && this.isOpen) return;
    clearTimeout(this.hideTimer);
    if (!this.isOpen || by === 'pin') this.openedBy = by;
    this.host.dataset.toolbar = 'open';
    this.handle.setAttribute('aria-expanded', 'true');
    this.measure();
    if (focus) (this.root.querySelector('button:not(:disabled)') as HTMLButtonElement | null)?.focus();
    if (by === 'intro') this.scheduleHide(4000);
  }

  /** Closes the toolbar and its panels; `refocus` gives keyboard focus back to the video. */
  close(refocus: boolean): void {
    clearTimeout(this.hideTimer);
    this.closePanel(false);
    delete this.host.dataset.toolbar;
    this.openedBy = undefined;
    this.handle.setAttribute('aria-expanded', 'false');
    if (refocus) this.actions.focusVideo();
  }

  toggle(focus: boolean): void {
    if (this.isOpen) this.close(true);
    else this.open('pin', focus);
  }

  private scheduleHide(ms: number): void {
    clearTimeout(this.hideTimer);
    this.hideTimer = setTimeout(() => {
      if (this.openPanel || this.root.matches(':hover') || this.root.contains(this.focused())) return;
      this.close(false);
    }, ms);
  }

  private peek(ms: number): void {
    this.host.dataset.peek = '';
    clearTimeout(this.peekTimer);
    this.peekTimer = setTimeout(() => delete this.host.dataset.peek, ms);
  }

  private measure(): void {
    const h = this.root.getBoundingClientRect().height;
    if (h > 0) this.host.style.setProperty('--webrtcbin-toolbar-height', `${Math.ceil(h + 14)}px`);
  }

  private togglePanel(name: PanelName): void {
    if (this.openPanel === name) this.closePanel(true);
    else this.showPanel(name);
  }

  private showPanel(name: PanelName): void {
    this.closePanel(false);
    this.openPanel = name;
    this.panels[name].hidden = false;
    this.buttons[name].setAttribute('aria-expanded', 'true');
    this.measure();
    const first = name === 'clipboard' ? this.outgoing : this.panels[name].querySelector<HTMLElement>('[aria-checked="true"], button');
    first?.focus();
  }

  private closePanel(refocus: boolean): void {
    const name = this.openPanel;
    if (!name) return;
    this.openPanel = undefined;
    this.panels[name].hidden = true;
    this.buttons[name].setAttribute('aria-expanded', 'false');
    if (refocus) this.buttons[name].focus();
  }

  /** The VM copied text: shown in the clipboard panel. */
  setRemoteClipboard(text: string): void {
    this.incoming.value = text;
  }

  render(s: ToolbarState): void {
    this.snapshot = s;
    const b = this.buttons;
    this.status.className = `state-${s.state}`;
    this.stateText.textContent = s.stateLabel;
    const latency = describeLatency({ latencyEstimateMs: s.latencyMs, glassToGlassMs: s.glassToGlassMs, glassToGlassUncertaintyMs: s.glassToGlassUncertaintyMs });
    this.latency.textContent = s.state === 'connected' && latency ? latency.text : '';
    this.status.title = latency ? `State: ${s.stateLabel}. ${latency.tooltip}` : `State: ${s.stateLabel}`;

    const controlLabel = s.controlling ? 'Release control' : 'Take control';
    b.control.setAttribute('aria-label', controlLabel);
    b.control.title = s.inputReady ? (s.controlling ? 'You control the desktop: release it to view only' : 'Take the mouse and keyboard of the desktop') : 'Not connected to the desktop input yet';
    (b.control.querySelector('.label') as HTMLElement).textContent = controlLabel;
    b.control.setAttribute('aria-pressed', String(s.controlling));
    b.control.disabled = !s.inputReady;
    this.holder.textContent = s.controlling ? 'you control' : s.holder ? 'another viewer controls' : s.inputReady ? 'view only' : '';
    b.keys.disabled = !s.inputReady;
    b.clipboard.disabled = !s.inputReady;

    const scaleName = SCALES.find((x) => x.mode === s.scale)?.label ?? s.scale;
    b.scale.setAttribute('aria-label', `Scaling: ${scaleName}`);
    b.scale.title = `Scaling: ${scaleName}`;
    (b.scale.querySelector('.label') as HTMLElement).textContent = `Scale: ${scaleName}`;
    for (const [mode, item] of this.scaleItems) {
      item.setAttribute('aria-checked', String(mode === s.scale));
      if (mode === 'remote') {
        item.disabled = !s.resizeSupported;
        item.title = s.resizeSupported ? '' : 'This desktop does not allow resizing';
      }
    }

    const q = QUALITY_STEPS.find((x) => x.bps === s.maxBitrate) ?? QUALITY_STEPS[0]!;
    b.quality.setAttribute('aria-label', `Quality: ${q.label.toLowerCase()}`);
    b.quality.title = s.qualitySupported ? `Quality: ${q.label} (${q.hint})` : 'Quality: this viewer cannot set a ceiling on this desktop';
    (b.quality.querySelector('.label') as HTMLElement).textContent = `Quality: ${q.bps === null ? 'auto' : q.label.toLowerCase()}`;
    b.quality.disabled = !s.qualitySupported;
    for (const [bps, item] of this.qualityItems) item.setAttribute('aria-checked', String(bps === s.maxBitrate));

    const soundLabel = s.muted ? 'Sound off' : 'Sound on';
    b.sound.hidden = !s.audio;
    b.sound.setAttribute('aria-label', s.muted ? 'Turn sound on' : 'Turn sound off');
    b.sound.title = s.muted ? 'Sound is off: turn it on' : 'Sound is on: turn it off';
    b.sound.setAttribute('aria-pressed', String(!s.muted));
    (b.sound.querySelector('.label') as HTMLElement).textContent = soundLabel;
    b.sound.querySelector('svg')!.replaceWith(icon(s.muted ? 'muted' : 'sound'));

    b.stats.setAttribute('aria-pressed', String(s.statsShown));
    b.stats.title = s.statsShown ? 'Hide the statistics line (s)' : 'Show the statistics line (s)';
    b.fullscreen.setAttribute('aria-pressed', String(s.fullscreen));
    const fsLabel = s.fullscreen ? 'Leave full screen' : 'Full screen';
    b.fullscreen.setAttribute('aria-label', fsLabel);
    b.fullscreen.title = s.fullscreen ? 'Leave full screen (hold Esc)' : 'Full screen: browser shortcuts go to the desktop (f)';
    (b.fullscreen.querySelector('.label') as HTMLElement).textContent = fsLabel;
    if (s.remoteClipboard !== undefined && this.incoming.value !== s.remoteClipboard) this.incoming.value = s.remoteClipboard;
    if (this.isOpen) this.measure();
  }

  detach(): void {
    clearTimeout(this.hideTimer);
    clearTimeout(this.peekTimer);
    for (const c of this.cleanups.splice(0)) c();
  }
}
