// `webrtcbin doctor`: every GStreamer element node-webrtcbin can use, whether it is installed, and the
// Debian package that provides it, as data (checkEnvironment) and as the table the command prints.
import { spawnSync } from 'node:child_process';
import { loadBinding } from '../native/binding.js';
import { ELEMENTS } from '../native/packages.js';
import { BindingLoadError } from '../errors.js';

export interface ElementStatus {
  element: string;
  present: boolean;
  plugin?: string;
  debianPackage: string;
  feature: string;
  required: boolean;
}

export interface EnvironmentReport {
  ok: boolean;
  gstreamer: string;
  elements: ElementStatus[];
  missingRequired: ElementStatus[];
  /** At least one H.264 encoder (x264enc or openh264enc) is present. */
  h264: boolean;
}

export function checkEnvironment(): EnvironmentReport {
  const binding = loadBinding();
  const probes = new Map(binding.findElements(ELEMENTS.map((e) => e.element)).map((p) => [p.name, p]));
  const elements = ELEMENTS.map((e) => {
    const probe = probes.get(e.element);
    return {
      element: e.element,
      present: probe?.present ?? false,
      plugin: probe?.plugin,
      debianPackage: e.debianPackage,
      feature: e.feature,
      required: e.core,
    };
  });
  const missingRequired = elements.filter((e) => e.required && !e.present);
  return {
    ok: missingRequired.length === 0,
    gstreamer: binding.gstVersion(),
    elements,
    missingRequired,
    h264: elements.some((e) => (e.element === 'x264enc' || e.element === 'openh264enc') && e.present),
  };
}

export function formatReport(report: EnvironmentReport): string {
  const rows = report.elements.map((e) => [
    e.present ? 'ok' : e.required ? 'MISSING' : 'missing',
    e.element,
    e.feature,
    e.debianPackage,
  ]);
  const header = ['status', 'element', 'feature', 'debian package'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [report.gstreamer, '', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''];
  if (report.ok) {
    out.push('All required elements are present.');
    const optional = report.elements.filter((e) => !e.present);
    if (optional.length) out.push(`Optional features unavailable: ${optional.map((e) => e.feature).join(', ')}.`);
  } else {
    const packages = [...new Set(report.missingRequired.map((e) => e.debianPackage))];
    out.push(`Required elements are missing. Install them with:\n  apt-get install ${packages.join(' ')}`);
  }
  return out.join('\n');
}

/**
 * The report without the addon, when it cannot load (no prebuild and no compiler, a missing library):
 * just when the doctor is needed. GStreamer's own `gst-inspect-1.0 --exists` probes each element.
 */
function reportWithoutAddon(): EnvironmentReport & { addon: string } {
  const inspect = spawnSync('gst-inspect-1.0', ['--version'], { encoding: 'utf8' });
  const tools = !inspect.error && inspect.status === 0;
  const elements = ELEMENTS.map((e) => ({
    element: e.element,
    // Not `--exists`: it answers no for rank-none elements such as nicesrc.
    present: tools && spawnSync('gst-inspect-1.0', [e.element], { stdio: 'ignore' }).status === 0,
    debianPackage: e.debianPackage,
    feature: e.feature,
    required: e.core,
  }));
  const missingRequired = elements.filter((e) => e.required && !e.present);
  return {
    ok: false,
    addon: 'cannot load',
    gstreamer: tools ? (inspect.stdout.split('\n').find((l) => /GStreamer/.test(l))?.trim() ?? 'GStreamer (version unknown)') : 'gst-inspect-1.0 not found (apt-get install gstreamer1.0-tools to probe elements without the addon)',
    elements,
    missingRequired,
    h264: elements.some((e) => (e.element === 'x264enc' || e.element === 'openh264enc') && e.present),
  };
}

/**
 * The command: the table (or `--json`, the report itself); exit code 1 when a required element is
 * missing or the native addon cannot load (then the loader's remedies come first).
 */
export function doctor(argv: string[]): number {
  let report: EnvironmentReport;
  try {
    report = checkEnvironment();
  } catch (error) {
    if (!(error instanceof BindingLoadError)) throw error;
    const partial = reportWithoutAddon();
    if (argv.includes('--json')) console.log(JSON.stringify({ ...partial, addonError: error.message }, null, 2));
    else console.log(`${error.message}\n\nThe elements, probed without the addon:\n${formatReport(partial)}`);
    return 1;
  }
  if (argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
  else console.log(formatReport(report));
  return report.ok ? 0 : 1;
}
