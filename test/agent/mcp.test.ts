// `webrtcbin mcp` driven by the MCP SDK's own Client over stdio, as any MCP-capable model's host runs it:
// the server in a child process, a real daemon, publish() streaming an Xvfb display with an X client on it.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { publish } from '../../lib/client.js';
import { mintToken } from '../../lib/signaling/daemon/token.js';
import { SECRET, startDaemon } from '../helpers/daemon.js';
import { decodePng } from '../helpers/png.js';
import { startXev } from '../helpers/xev.js';
import { waitFor } from '../helpers/wait.js';
import { startXvfb } from '../helpers/xvfb.js';

const CLI = fileURLToPath(new URL('../../lib/cli/cli.ts', import.meta.url));
const TOOLS = ['click', 'clipboard_read', 'clipboard_write', 'drag', 'key', 'move', 'screenshot', 'scroll', 'type', 'wait_for_change'];

type Content = { type: string; text?: string; data?: string; mimeType?: string };

t.test('an MCP client lists the tools, sees the screen and clicks on it', async (t) => {
  const x = await startXvfb('640x480x24');
  t.teardown(() => x.kill());
  const xev = await startXev(x.display, '640x480', ['button']);
  t.teardown(() => xev.kill());
  const daemon = await startDaemon();
  t.teardown(() => daemon.app.close());
  const publisher = publish({ url: daemon.url, session: 'vm', token: mintToken({ secret: SECRET, session: 'vm', role: 'publisher' }), source: { kind: 'x11', display: x.display }, video: { width: 640, height: 480 } });
  t.teardown(() => publisher.close());

  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', CLI, 'mcp', '--url', daemon.url, '--session', 'vm'],
    env: { ...(process.env as Record<string, string>), WEBRTCBIN_TOKEN: mintToken({ secret: SECRET, session: 'vm', role: 'viewer', control: true }), WEBRTCBIN_TOKEN_FILE: '' },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d));
  const client = new Client({ name: 'webrtcbin-test', version: '1.0.0' });
  // A line on stdout that is not JSON-RPC (a stray log) arrives here as a parse error.
  const protocolErrors: Error[] = [];
  client.onerror = (error) => protocolErrors.push(error);
  await client.connect(transport);
  const pid = transport.pid;
  t.teardown(() => client.close());

  await t.test('tools are listed with JSON schemas in screen pixels', async (t) => {
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name).sort();
    for (const name of TOOLS) t.ok(names.includes(name), `${name} is listed`);
    for (const tool of tools) {
      t.equal(tool.inputSchema.type, 'object', `${tool.name} has an object schema`);
      t.ok((tool.description ?? '').length > 30, `${tool.name} has a description a model can read`);
    }
    const click = tools.find((tool) => tool.name === 'click')!;
    t.same([...(click.inputSchema.required ?? [])].sort(), ['x', 'y'], 'click requires x and y');
    t.match(click.inputSchema.properties, { x: { type: 'integer', minimum: 0 }, button: { enum: ['left', 'middle', 'right'] } });
    t.match(tools.find((tool) => tool.name === 'key')!.description, /ctrl\+/, 'key says how combinations are written');
  });

  await t.test('screenshot: a PNG image at the VM screen size, and the size in words', async (t) => {
    const result = await client.callTool({ name: 'screenshot', arguments: {} });
    t.notOk(result.isError, JSON.stringify(result.content).slice(0, 300));
    const content = result.content as Content[];
    const image = content.find((c) => c.type === 'image');
    t.equal(image?.mimeType, 'image/png');
    const png = decodePng(Buffer.from(image?.data ?? '', 'base64'));
    t.same([png.width, png.height], [640, 480], 'the image decodes to the VM screen size');
    t.match(content.find((c) => c.type === 'text')?.text, /640x480 pixels/, 'the text says the screen size');
  });

  await t.test('click lands on the X window at that pixel', async (t) => {
    const result = await client.callTool({ name: 'click', arguments: { x: 321, y: 123 } });
    t.notOk(result.isError, JSON.stringify(result.content));
    // The answer means the X server has the event; xev (another process) prints it through a pipe a moment
    // later (CI at load 7 read the pipe before it had).
    await waitFor('the ButtonPress at xev', () => /ButtonPress event[^]*?root:\(/.test(xev.text), 2000).catch(() => {});
    const press = /ButtonPress event[^]*?root:\((\d+),(\d+)\)/.exec(xev.text);
    t.ok(press, 'a ButtonPress reached the X client when the tool answered');
    t.same([Number(press?.[1]), Number(press?.[2])], [321, 123]);
    t.match((result.content as Content[])[0]?.text, /clicked left at \(321, 123\)/);
  });

  await t.test('bad arguments are tool errors with the words to fix them, and the server lives on', async (t) => {
    const negative = await client.callTool({ name: 'click', arguments: { x: -5, y: 10 } });
    t.equal(negative.isError, true, 'a negative x is refused by the schema');
    t.match((negative.content as Content[])[0]?.text, /x/);
    const outside = await client.callTool({ name: 'click', arguments: { x: 5000, y: 10 } });
    t.equal(outside.isError, true, 'a point off the screen is refused');
    t.match((outside.content as Content[])[0]?.text, /outside the screen: x must be 0-639 and y 0-479/);
    const key = await client.callTool({ name: 'key', arguments: { combo: 'ctrl+nosuchkey' } });
    t.equal(key.isError, true, 'an unknown key name is refused');
    // The click before moved the pointer, which the video shows a frame or two later: let it settle first.
    const settled = await client.callTool({ name: 'wait_for_still', arguments: { still_ms: 500, timeout_ms: 10_000 } });
    t.notOk(settled.isError, 'the screen settles after the click');
    const still = await client.callTool({ name: 'wait_for_change', arguments: { timeout_ms: 300 } });
    t.notOk(still.isError, 'a still screen is an answer, not a failure');
    t.match((still.content as Content[])[0]?.text, /no change within 300 ms/);
    const again = await client.callTool({ name: 'screenshot', arguments: {} });
    t.notOk(again.isError, 'the server still answers');
  });

  t.same(protocolErrors, [], `stdout carried only the protocol (stderr: ${stderr.slice(-500)})`);
  await client.close();
  // Closing stdin ends the server by itself.
  const deadline = Date.now() + 10_000;
  const alive = () => {
    try {
      process.kill(pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  while (pid && alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.notOk(pid && alive(), 'the server exited once the client closed');
});
