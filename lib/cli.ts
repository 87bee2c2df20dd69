#!/usr/bin/env node
// The `webrtcbin` command. Subcommands: doctor (more arrive with the signaling daemon).
import { checkEnvironment, formatReport } from './doctor.js';

const USAGE = `usage: webrtcbin <command>

commands:
  doctor [--json]   check that every GStreamer element node-webrtcbin needs is installed;
                    exits 1 when a required one is missing and names the Debian package`;

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  switch (command) {
    case 'doctor': {
      const report = checkEnvironment();
      if (rest.includes('--json')) console.log(JSON.stringify(report, null, 2));
      else console.log(formatReport(report));
      return report.ok ? 0 : 1;
    }
    case undefined:
    case '-h':
    case '--help':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`webrtcbin: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
