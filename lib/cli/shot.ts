// `webrtcbin shot`: one screenshot of a VM's screen, at its resolution, to a file or stdout. Joins the
// session as a viewer, takes a frame no older than the call (once the join's keyframe is refined:
// RemoteView.screenshot()), leaves.
//
//   webrtcbin shot --url ws://controller/v1/ws --session vm-42 --token-file viewer.token out.png
import { writeFileSync } from 'node:fs';
import { exitAdvice } from './exit-codes.js';
import { TARGET_USAGE, UsageError, agentExitCode, numberArg, openScreen, parseAgentArgs, resolveTarget, stderrLogger } from './remote-screen.js';

export const SHOT_USAGE = `usage: webrtcbin shot [options] OUT   (OUT: a file, or - for stdout)
${TARGET_USAGE}
      --format png|jpeg (from OUT's extension, else png)   --quality 1-100 (jpeg, 85)`;

/** Runs `shot`; resolves with the exit code. */
export async function shot(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let close: (() => Promise<void>) | undefined;
  try {
    const { values, positionals } = parseAgentArgs(argv, { format: { type: 'string' }, quality: { type: 'string' } });
    if (values.help) {
      console.log(SHOT_USAGE);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'shot needs where to write the image: a file name, or - for stdout' : `shot writes one image, not ${positionals.length}: ${positionals.join(' ')}`);
    const out = positionals[0]!;
    const format = values.format ?? (/\.jpe?g$/i.test(out) ? 'jpeg' : 'png');
    if (format !== 'png' && format !== 'jpeg') throw new UsageError(`--format must be png or jpeg, not ${JSON.stringify(format)}`);
    const quality = values.quality === undefined ? undefined : numberArg(values.quality, '--quality');
    if (quality !== undefined && (quality < 1 || quality > 100)) throw new UsageError(`--quality must be 1-100, not ${quality}`);
    const target = resolveTarget(values, env);

    const screen = await openScreen(target, values.verbose ? { log: stderrLogger('debug') } : {});
    close = screen.close;
    const image = await screen.view.screenshot({ format, ...(quality === undefined ? {} : { quality }) });
    if (out === '-') await new Promise<void>((resolve, reject) => process.stdout.write(image, (e) => (e ? reject(e) : resolve())));
    else writeFileSync(out, image);
    const { width, height } = screen.size();
    process.stderr.write(`${width}x${height} ${format}, ${image.length} bytes${out === '-' ? '' : ` → ${out}`}\n`);
    return 0;
  } catch (error) {
    const code = agentExitCode(error);
    console.error(`webrtcbin shot: ${(error as Error).message}${error instanceof UsageError ? `\n\n${SHOT_USAGE}` : ''}\n${exitAdvice(code)}`);
    return code;
  } finally {
    await close?.();
  }
}
