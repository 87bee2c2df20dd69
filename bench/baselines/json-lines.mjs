// The sender side of the harness protocol (bench/support/senders.ts): one JSON message per line, in on
// stdin, out on stdout. A handler that throws answers with {type: 'error'} for that message's id.
import { createInterface } from 'node:readline';

export const emit = (message) => process.stdout.write(JSON.stringify(message) + '\n');

export function serve(handle) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    handle(message).catch((error) => emit({ type: 'error', id: message.id, message: String(error?.message ?? error) }));
  });
}
