// The clipboard and resize messages of the input channel, and video.scale 'fit' in the media plan.
import t from 'tap';
import { MAX_CLIPBOARD_CHARS, checkAgentMessage, checkViewerMessage } from '../../lib/input/protocol.js';
import { planSend } from '../../lib/media/send.js';

t.test('viewer → agent: clipboard and resize are bounded', async (t) => {
  t.ok(checkViewerMessage.Check({ t: 'clipboard', text: 'héllo ☃' }));
  t.ok(checkViewerMessage.Check({ t: 'clipboard', text: 'x'.repeat(MAX_CLIPBOARD_CHARS) }));
  t.notOk(checkViewerMessage.Check({ t: 'clipboard', text: 'x'.repeat(MAX_CLIPBOARD_CHARS + 1) }), 'too long');
  t.notOk(checkViewerMessage.Check({ t: 'clipboard' }), 'no text');
  t.ok(checkViewerMessage.Check({ t: 'resize', width: 1920, height: 1080 }));
  t.notOk(checkViewerMessage.Check({ t: 'resize', width: 1921, height: 1080 }), 'odd width');
  t.notOk(checkViewerMessage.Check({ t: 'resize', width: 318, height: 240 }), 'too narrow');
  t.notOk(checkViewerMessage.Check({ t: 'resize', width: 3842, height: 2160 }), 'too wide');
  t.notOk(checkViewerMessage.Check({ t: 'resize', width: 800, height: 2162 }), 'too tall');
  t.notOk(checkViewerMessage.Check({ t: 'resize', width: 800, height: 600, extra: 1 }), 'unknown field');
  t.ok(checkViewerMessage.Check({ t: 'key', key: 'a', down: true }), 'input messages still pass');
});

t.test('agent → viewer: clipboard and resize-result', async (t) => {
  t.ok(checkAgentMessage.Check({ t: 'clipboard', text: 'x' }));
  t.ok(checkAgentMessage.Check({ t: 'resize-result', ok: true, width: 800, height: 600 }));
  t.ok(checkAgentMessage.Check({ t: 'resize-result', ok: false, width: 800, height: 600, code: 'rate-limited', message: 'later' }));
  t.notOk(checkAgentMessage.Check({ t: 'resize-result', ok: false, width: 800, height: 600, code: 'nope' }));
});

t.test("video.scale 'fit' bounds the size instead of fixing it", async (t) => {
  t.match(planSend({ kind: 'test' }, { width: 1280, height: 720 }).description, /width=1280,height=720,/);
  t.match(planSend({ kind: 'test' }, { width: 1280, height: 720, scale: 'fit' }).description, /width=\[16,1280\],height=\[16,720\],/);
  t.throws(() => planSend({ kind: 'test' }, { scale: 'stretch' as 'fit' }), /video.scale must be "fixed" or "fit"/);
});
