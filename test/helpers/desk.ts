// A VM session for input tests: a 640×480 Xvfb with an xev window over it, a daemon, and publish()
// streaming that display at its size. Everything is torn down with the test.
import { publish, type Publisher, type PublishOptions } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from './daemon.js';
import { startXev, type Xev } from './xev.js';
import { startXvfb } from './xvfb.js';

export interface Desk {
  display: string;
  xev: Xev;
  daemon: Awaited<ReturnType<typeof startDaemon>>;
  publisher: Publisher;
  session: string;
  /** A viewer token for the session, with or without the control claim. */
  viewerToken(control: boolean): string;
}

export async function startDesk(
  t: { teardown(fn: () => unknown): void },
  options: { session: string; xevEvents?: ('button' | 'keyboard' | 'mouse')[]; publish?: Partial<PublishOptions>; daemon?: Parameters<typeof startDaemon>[0] },
): Promise<Desk> {
  const { session } = options;
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const xev = await startXev(x.display, '640x480', options.xevEvents ?? ['button', 'keyboard']);
  t.teardown(() => xev.kill());
  const daemon = await startDaemon(options.daemon);
  t.teardown(() => daemon.app.close());
  const publisher = publish({
    url: daemon.url,
    session,
    token: mintToken({ secret: SECRET, session, role: 'publisher' }),
    source: { kind: 'x11', display: x.display },
    video: { width: 640, height: 480 },
    ...options.publish,
  });
  t.teardown(() => publisher.close());
  return { display: x.display, xev, daemon, publisher, session, viewerToken: (control) => mintToken({ secret: SECRET, session, role: 'viewer', control }) };
}
