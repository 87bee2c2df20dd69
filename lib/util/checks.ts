// lib/util/: the small things every other folder does, written once: numeric option checks (this file)
// and reporting an error from an event source (emit.ts).
//
// Every numeric check words its refusal the same way:
//   <name> must be <a number | a whole number | an even whole number>[ of <unit>] <range> (got <value>)
// where <range> is "from A to B", "of at least A" (no upper bound) or "above A and at most B" (a
// bound the value may not equal). `orFalse` puts "false or " before the kind, for options that can
// also be switched off.
import { InvalidArgumentError } from '../errors.js';

export interface RangeCheck {
  /** The lowest value allowed (whole numbers; for `number`, unless `above` is given). */
  min?: number;
  /** The value must be greater than this (for `number` only). */
  above?: number;
  /** The highest value allowed; none when omitted. */
  max?: number;
  /** Said after the kind: "a whole number of milliseconds from 0 to 10000". */
  unit?: string;
  /** Whole numbers only: the value must also be even. */
  even?: boolean;
  /** `false` is accepted too (the caller handles it); the message says so. */
  orFalse?: boolean;
  /** What the refusal shows instead of the value, e.g. the command-line text it was parsed from. */
  given?: unknown;
}

/** A value as a refusal shows it: numbers as JS prints them (NaN, Infinity), the rest as JSON, cut short. */
export function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || value === undefined) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value); // a cycle
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Whether `value` is a whole number from `min` to `max`: for checks of a compound value. */
export function isWholeNumber(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function refusal(value: unknown, name: string, kind: string, check: RangeCheck): InvalidArgumentError {
  const range =
    check.above !== undefined
      ? `above ${check.above}${check.max === undefined ? '' : ` and at most ${check.max}`}`
      : check.max === undefined
        ? `of at least ${check.min ?? 0}`
        : `from ${check.min ?? 0} to ${check.max}`;
  const unit = check.unit ? ` of ${check.unit}` : '';
  const got = shown('given' in check ? check.given : value);
  return new InvalidArgumentError(`${name} must be ${check.orFalse ? 'false or ' : ''}${kind}${unit} ${range} (got ${got})`);
}

/** `value` if it is a whole number in range (and even, if asked); InvalidArgumentError otherwise. */
export function wholeNumber(value: unknown, name: string, check: RangeCheck & { min: number }): number {
  const ok =
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= check.min &&
    (check.max === undefined || value <= check.max) &&
    (!check.even || value % 2 === 0);
  if (!ok) throw refusal(value, name, check.even ? 'an even whole number' : 'a whole number', check);
  return value;
}

/** `value` if it is a number (not NaN) in range; InvalidArgumentError otherwise. */
export function number(value: unknown, name: string, check: RangeCheck & ({ min: number } | { above: number })): number {
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (check.above === undefined ? value >= (check.min ?? 0) : value > check.above) &&
    (check.max === undefined || value <= check.max);
  if (!ok) throw refusal(value, name, 'a number', check);
  return value;
}
