/**
 * Parsers for option values, in the shape commander wants: each takes the raw string and
 * returns the value or throws InvalidArgumentError, which commander reports with the option's
 * name (`error: option '--port <port>' argument 'x' is invalid. …`).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { CliError, messageOf } from './errors.ts';

/** A TCP port, 0 meaning any free one. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  return port;
}

/** A whole number ≥ 1. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1.');
  return n;
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** A size in bytes ≥ 1: a whole number, or one with a unit (`500MB`, `2GiB`, `1.5GB`). */
export function parseBytes(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = BYTE_UNITS[match?.[2]?.toLowerCase() ?? 'x'];
  const bytes = match && unit !== undefined ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new InvalidArgumentError('expected a size in bytes, e.g. 2000000000, 500MB or 2GiB.');
  }
  return bytes;
}

/** `--resources '{"gpu":1}'`: custom resources, names to non-negative amounts (CPU has its own option). */
export function parseResources(value: string): Record<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`expected a JSON object like '{"gpu":1}' (${messageOf(error)}).`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`expected a JSON object like '{"gpu":1}', got ${JSON.stringify(parsed)}.`);
  }
  const resources: Record<string, number> = {};
  for (const [name, amount] of Object.entries(parsed)) {
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      throw new InvalidArgumentError(`resource "${name}" must be a number ≥ 0, got ${JSON.stringify(amount)}.`);
    }
    if (name === 'CPU') throw new InvalidArgumentError('give CPUs with --num-cpus, not in --resources.');
    resources[name] = amount;
  }
  return resources;
}

/** Reads a file named by an option (a certificate, a key), saying which option when it cannot. */
export function readOptionFile(option: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(`cannot read ${option} ${file}: ${messageOf(error)}`);
  }
}

/** An environment variable, with empty meaning unset. */
export function fromEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}
