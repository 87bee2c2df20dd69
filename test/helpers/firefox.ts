// A real Firefox (Debian's firefox-esr) for the tests, headful on its own Xvfb (headless Firefox does
// not paint WebRTC video), in a fresh profile, driven over WebDriver BiDi with a small client on `ws`.
// Like launchChromium (browser.ts), every page it opens gets the viewer's test build (window.__viewer*)
// in place of the daemon's /viewer.js: the daemon's own response with the test bundle as its body.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startXvfb, type Xvfb } from './xvfb.js';

export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

// A quiet, test-only profile: video plays unmuted-or-not without a gesture, nothing is fetched from
// Mozilla (updates, telemetry, OpenH264, safe browsing, captive-portal probes), no first-run pages.
const PREFS: Record<string, boolean | number | string> = {
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  'media.autoplay.block-webaudio': false,
  'media.peerconnection.ice.loopback': true,
  'media.gmp-manager.updateEnabled': false,
  'media.gmp-gmpopenh264.autoupdate': false,
  'media.gmp-gmpopenh264.enabled': true,
  'app.update.disabledForTesting': true,
  'app.update.auto': false,
  'app.normandy.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.startup.page': 0,
  'browser.aboutwelcome.enabled': false,
  'browser.newtabpage.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'browser.region.network.url': '',
  'browser.search.update': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'toolkit.telemetry.enabled': false,
  'extensions.update.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
  'dom.disable_open_during_load': false,
};

/** A BiDi RemoteValue's shape as far as we read it (results come back as JSON strings). */
interface RemoteValue {
  type: string;
  value?: unknown;
}
interface EvaluateResult {
  type: 'success' | 'exception';
  result?: RemoteValue;
  exceptionDetails?: { text: string };
}
interface BidiEvent {
  method: string;
  params: Record<string, unknown>;
}

/** One WebDriver BiDi connection: commands by id, events to listeners. */
class Bidi {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void; method: string }>();
  #listeners: ((e: BidiEvent) => void)[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; type: string; result?: Record<string, unknown>; error?: string; message?: string } & BidiEvent;
      if (msg.type === 'event') {
        for (const l of this.#listeners) l(msg);
        return;
      }
      const waiter = msg.id === undefined ? undefined : this.#pending.get(msg.id);
      if (!waiter) return;
      this.#pending.delete(msg.id!);
      if (msg.type === 'error') waiter.reject(new Error(`BiDi ${waiter.method}: ${msg.error}: ${msg.message}`));
      else waiter.resolve(msg.result ?? {});
    });
    ws.on('close', () => {
      for (const [, w] of this.#pending) w.reject(new Error(`BiDi ${w.method}: the connection closed`));
      this.#pending.clear();
    });
  }

  static open(url: string): Promise<Bidi> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once('open', () => resolve(new Bidi(ws)));
      ws.once('error', reject);
    });
  }

  /** One command; rejects with the method's name on an error reply, a closed connection or after `timeoutMs`. */
  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`BiDi ${method}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = <A>(f: (a: A) => void) => (a: A) => {
        clearTimeout(timer);
        f(a);
      };
      this.#pending.set(id, { resolve: settle(resolve as (r: Record<string, unknown>) => void), reject: settle(reject), method });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  on(listener: (e: BidiEvent) => void): void {
    this.#listeners.push(listener);
  }

  close(): void {
    this.#ws.close();
  }
}

export interface LaunchFirefoxOptions {
  /** Window size (also the Xvfb screen's). Default 800×600. */
  width?: number;
  height?: number;
  /** Extra prefs for this profile. */
  prefs?: Record<string, boolean | number | string>;
}

export class Firefox {
  readonly #bidi: Bidi;
  readonly #child: ChildProcess;
  readonly #xvfb: Xvfb;
  readonly #profile: string;
  #closed = false;
  /** Firefox's stderr, last 8 kB (for failure messages). */
  log = '';

  private constructor(bidi: Bidi, child: ChildProcess, xvfb: Xvfb, profile: string) {
    this.#bidi = bidi;
    this.#child = child;
    this.#xvfb = xvfb;
    this.#profile = profile;
  }

  /** The X display Firefox paints on. */
  get display(): string {
    return this.#xvfb.display;
  }

  static async launch(options: LaunchFirefoxOptions = {}): Promise<Firefox> {
    const width = options.width ?? 800;
    const height = options.height ?? 600;
    const xvfb = await startXvfb(`${width}x${height}x24`);
    const profile = await mkdtemp(path.join(tmpdir(), 'webrtcbin-firefox-'));
    const prefs = { ...PREFS, ...options.prefs };
    await writeFile(path.join(profile, 'user.js'), Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(''));
    const child = spawn(FIREFOX_PATH, ['--remote-debugging-port=0', '--no-remote', '--profile', profile, '--width', String(width), '--height', String(height), 'about:blank'], {
      env: { ...process.env, DISPLAY: xvfb.display, MOZ_CRASHREPORTER_DISABLE: '1', MOZ_DISABLE_AUTO_SAFE_MODE: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    // A test process that dies without close() must not leave Firefox and its display behind.
    const onExit = () => {
      child.kill('SIGKILL');
      void xvfb.kill();
    };
    process.once('exit', onExit);
    child.once('exit', () => process.off('exit', onExit));
    const cleanup = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await xvfb.kill();
      await rm(profile, { recursive: true, force: true });
    };
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`firefox-esr did not start WebDriver BiDi within 30 s:\n${log.slice(-2000)}`)), 30_000);
        child.stderr!.on('data', (d: Buffer) => {
          log = (log + d.toString()).slice(-8000);
          const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(log);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once('error', (e) => reject(new Error(`cannot run ${FIREFOX_PATH} (apt-get install firefox-esr): ${e.message}`)));
        child.once('exit', (code) => reject(new Error(`firefox-esr exited with ${code} before WebDriver BiDi listened:\n${log.slice(-2000)}`)));
      });
      const bidi = await Bidi.open(`${url}/session`);
      await bidi.send('session.new', { capabilities: {} });
      const firefox = new Firefox(bidi, child, xvfb, profile);
      child.stderr!.on('data', (d: Buffer) => (firefox.log = (firefox.log + d.toString()).slice(-8000)));
      firefox.log = log;
      await firefox.#serveTestViewer();
      return firefox;
    } catch (e) {
      await cleanup();
      throw e;
    }
  }

  // The daemon serves the page's script at /viewer.js (lib/signaling/daemon/server.ts). Firefox lets a
  // test supply a body only before the request goes out, so the daemon's response is fetched from here
  // (status and headers, CSP and all) and given to the page with the test bundle as its body.
  async #serveTestViewer(): Promise<void> {
    await this.#bidi.send('network.addIntercept', { phases: ['beforeRequestSent'], urlPatterns: [{ type: 'pattern', pathname: '/viewer.js' }] });
    await this.#bidi.send('session.subscribe', { events: ['network.beforeRequestSent'] });
    this.#bidi.on((e) => {
      if (e.method !== 'network.beforeRequestSent' || !e.params.isBlocked) return;
      const { request, url } = e.params.request as { request: string; url: string };
      const provide = async () => {
        const response = await fetch(url);
        const original = Buffer.from(await response.arrayBuffer()).toString();
        const body = response.status === 200 ? await testViewerScript() : original;
        const headers: { name: string; value: { type: 'string'; value: string } }[] = [];
        response.headers.forEach((value, name) => {
          if (!/^(content-length|content-encoding|transfer-encoding)$/i.test(name)) headers.push({ name, value: { type: 'string', value } });
        });
        await this.#bidi.send('network.provideResponse', { request, statusCode: response.status, reasonPhrase: response.statusText, headers, body: { type: 'string', value: body } });
      };
      provide().catch((err: Error) => {
        this.log += `\n[test] serving the test viewer failed: ${err.message}`;
        void this.#bidi.send('network.failRequest', { request }).catch(() => {});
      });
    });
  }

  /** A new tab at `url`, once its load event fired. */
  async open(url: string): Promise<FirefoxPage> {
    const { context } = await this.#bidi.send<{ context: string }>('browsingContext.create', { type: 'tab' });
    const page = new FirefoxPage(this.#bidi, context);
    await this.#bidi.send('browsingContext.navigate', { context, url, wait: 'complete' });
    return page;
  }

  /** Ends the session, kills Firefox and its Xvfb, removes the profile. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.race([this.#bidi.send('session.end').catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    this.#bidi.close();
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    }
    await this.#xvfb.kill();
    await rm(this.#profile, { recursive: true, force: true });
  }
}

export class FirefoxPage {
  readonly #bidi: Bidi;
  readonly context: string;

  constructor(bidi: Bidi, context: string) {
    this.#bidi = bidi;
    this.context = context;
  }

  /**
   * Runs `fn(...args)` in the page and returns its (awaited) result. Arguments and result travel as JSON.
   * `fn` is sent as source text: it may not close over anything.
   */
  async evaluate<R, A extends unknown[] = []>(fn: (...args: A) => R | Promise<R>, ...args: A): Promise<R> {
    // tsx (esbuild keepNames) may wrap nested functions in __name(); the page has no such helper.
    const declaration = `async function (json) { const __name = (f) => f; const result = await (${fn.toString()})(...JSON.parse(json)); return JSON.stringify(result === undefined ? null : result); }`;
    const r = await this.#bidi.send<EvaluateResult>('script.callFunction', {
      functionDeclaration: declaration,
      arguments: [{ type: 'string', value: JSON.stringify(args) }],
      target: { context: this.context },
      awaitPromise: true,
    });
    if (r.type === 'exception') throw new Error(`in Firefox: ${r.exceptionDetails?.text ?? 'exception'}`);
    return JSON.parse(String(r.result?.value)) as R;
  }

  /** Polls `fn(...args)` every 100 ms until it returns something truthy; rejects after `timeoutMs`. */
  async waitFor<R, A extends unknown[] = []>(what: string, timeoutMs: number, fn: (...args: A) => R | Promise<R>, ...args: A): Promise<R> {
    const deadline = Date.now() + timeoutMs;
    let last: R | undefined;
    while (Date.now() < deadline) {
      last = await this.evaluate(fn, ...args);
      if (last) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out after ${timeoutMs} ms in Firefox waiting for ${what} (last: ${JSON.stringify(last)})`);
  }

  /** Sets the page's viewport (CSS pixels), independent of the window's size. */
  async setViewport(width: number, height: number): Promise<void> {
    await this.#bidi.send('browsingContext.setViewport', { context: this.context, viewport: { width, height } });
  }

  /** A real click (pointer move, down, up) at viewport coordinates. */
  async click(x: number, y: number): Promise<void> {
    await this.#bidi.send('input.performActions', {
      context: this.context,
      actions: [{ type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' }, actions: [{ type: 'pointerMove', x, y }, { type: 'pointerDown', button: 0 }, { type: 'pause', duration: 30 }, { type: 'pointerUp', button: 0 }] }],
    });
  }

  /** Any WebDriver input source actions (e.g. a `touch` pointer's), performed together. */
  async performActions(actions: unknown[]): Promise<void> {
    await this.#bidi.send('input.performActions', { context: this.context, actions });
  }

  /** Types `text` key by key; WebDriver's key values (e.g. '\uE007' for Enter) are allowed. */
  async type(text: string): Promise<void> {
    const actions = [...text].flatMap((value) => [{ type: 'keyDown', value }, { type: 'keyUp', value }]);
    await this.#bidi.send('input.performActions', { context: this.context, actions: [{ type: 'key', id: 'keyboard', actions }] });
  }

  async close(): Promise<void> {
    await this.#bidi.send('browsingContext.close', { context: this.context }).catch(() => {});
  }
}

/** WebDriver's key value for Enter. */
export const ENTER = '\uE007';

let testViewer: Promise<string> | undefined;
function testViewerScript(): Promise<string> {
  testViewer ??= import('../../scripts/build-viewer.mjs').then((m: { bundleViewerScript(o: { test: boolean }): Promise<string> }) => m.bundleViewerScript({ test: true }));
  return testViewer;
}

/**
 * How a page's <video> is painting, measured inside the browser: frames presented (counted with
 * requestVideoFrameCallback; Firefox's `mozPaintedFrames` alongside) over a window, and whether a canvas
 * read-back of the picture changed. Firefox leaves inbound-rtp's totalVideoFrames at 0 for WebRTC, so
 * decoding alone says nothing about the screen.
 */
export interface Painting {
  /** Frames presented per second over the window (requestVideoFrameCallback). */
  fps: number;
  /** mozPaintedFrames advanced by this much over the window (null outside Firefox). */
  painted: number | null;
  /** Frames decoded per second over the window (inbound-rtp framesDecoded). */
  decodedFps: number;
  /** Distinct canvas read-backs over the window, one every 100 ms (1 = the picture never changed). */
  distinctPictures: number;
  /** Jitter-buffer time per frame over the window, ms (ΔjitterBufferDelay / ΔjitterBufferEmittedCount). */
  jitterBufferMs: number | null;
  width: number;
  height: number;
}

/**
 * The in-page probe behind measurePainting, for any driver's evaluate (Playwright's page.evaluate too):
 * self-contained, it reads the RTCPeerConnection from the test viewer's window.__viewer.
 */
export async function paintingProbe(args: { ms: number; selector: string }): Promise<Painting> {
  const video = document.querySelector(args.selector) as HTMLVideoElement & { mozPaintedFrames?: number };
  const pc = (window as unknown as { __viewer?: { pc?: RTCPeerConnection } }).__viewer?.pc;
  const inbound = async () => {
    let found: Record<string, unknown> | undefined;
    if (pc) (await pc.getStats()).forEach((r: Record<string, unknown>) => r.type === 'inbound-rtp' && r.kind === 'video' && (found = r));
    return found;
  };
  const n = (s: Record<string, unknown> | undefined, k: string) => (typeof s?.[k] === 'number' ? (s[k] as number) : 0);
  const canvas = document.createElement('canvas');
  canvas.width = 64;
  canvas.height = 48;
  const g = canvas.getContext('2d', { willReadFrequently: true })!;
  const pictures = new Set<number>();
  const snap = () => {
    if (video.videoWidth === 0) return;
    g.drawImage(video, 0, 0, 64, 48);
    const d = g.getImageData(0, 0, 64, 48).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 4) h = (Math.imul(h, 31) + d[i]! + (d[i + 1]! << 8) + (d[i + 2]! << 16)) | 0;
    pictures.add(h);
  };
  let presented = 0;
  let stop = false;
  const onFrame = () => {
    presented++;
    if (!stop) video.requestVideoFrameCallback(onFrame);
  };
  const before = await inbound();
  const painted0 = video.mozPaintedFrames;
  video.requestVideoFrameCallback(onFrame);
  const start = performance.now();
  while (performance.now() - start < args.ms) {
    snap();
    await new Promise((r) => setTimeout(r, 100));
  }
  stop = true;
  const seconds = (performance.now() - start) / 1000;
  const after = await inbound();
  const emitted = n(after, 'jitterBufferEmittedCount') - n(before, 'jitterBufferEmittedCount');
  return {
    fps: presented / seconds,
    painted: painted0 === undefined ? null : video.mozPaintedFrames! - painted0,
    decodedFps: (n(after, 'framesDecoded') - n(before, 'framesDecoded')) / seconds,
    distinctPictures: pictures.size,
    jitterBufferMs: emitted > 0 ? (1000 * (n(after, 'jitterBufferDelay') - n(before, 'jitterBufferDelay'))) / emitted : null,
    width: video.videoWidth,
    height: video.videoHeight,
  };
}

/**
 * paintingProbe as an expression for a driver that sends a function as its source (Playwright): tsx
 * (esbuild keepNames) wraps nested functions in __name(), which the page does not have.
 */
export function paintingProbeExpression(ms: number, selector = 'video'): string {
  return `(async () => { const __name = (f) => f; return (${paintingProbe.toString()})(${JSON.stringify({ ms, selector })}); })()`;
}

/** Measures the page's `video` element (the viewer's #video unless `selector` says otherwise) for `ms`. */
export function measurePainting(page: FirefoxPage, ms = 2000, selector = 'video'): Promise<Painting> {
  return page.evaluate(paintingProbe, { ms, selector });
}

/** Waits until the viewer page (its test build's window.__viewerStats) has decoded at least `count` frames. */
export function waitForViewerFrames(page: FirefoxPage, count: number, timeoutMs = 20_000): Promise<number> {
  return page.waitFor(`${count} decoded frames`, timeoutMs, (n: number) => {
    const decoded = (window as unknown as { __viewerStats?: { framesDecoded?: number } | null }).__viewerStats?.framesDecoded ?? 0;
    return decoded >= n ? decoded : 0;
  }, count);
}
