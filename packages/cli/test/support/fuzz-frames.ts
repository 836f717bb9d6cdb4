/**
 * Hostile frames for the fuzz test and `pnpm bench --fuzz` (issue 9, point 5), made with
 * fast-check: valid messages of each role (as a head, a node or a peer receives them) with fields
 * changed, truncated, flipped or padded bytes, weft's and msgpackr's extensions with bad payloads,
 * wrong ids, oversized frames, text frames, a second hello, and attachments announced but not
 * sent, too large, or not what was announced.
 *
 * Each session is one connection: a few frames, every one judged by the server's own decoder and
 * validator (the oracle), so a frame they refuse must close the connection and one they accept
 * must leave it open.
 */
import fc from 'fast-check';
import {
  PROTOCOL_VERSION, encode, type PeerRole, validateClientMessage, validateNodeToHead, validatePeerMessage,
  type Validator, decodeFrame, encodeFrame, rejectAfterHandshake,
} from '@weft/protocol';

import { FUZZ_BATCH_BYTES, FUZZ_FRAME_BYTES } from './fuzz-limits.ts';

/** What a server must do with a frame. */
export type Verdict = 'open' | 'close';
/** One frame of a session: its bytes (a string is sent as a text frame) and what the server must do. */
export interface Frame { data: Buffer | string; verdict: Verdict; kind: string }
/** One connection's worth of frames, to the role's port; `silentEnd`: it ends waiting for attachments (the client then hangs up). */
export interface Session { role: PeerRole; frames: Frame[]; silentEnd: boolean }

const VALIDATORS: Record<PeerRole, Validator<unknown>> = {
  driver: rejectAfterHandshake('hello', validateClientMessage), node: rejectAfterHandshake('hello', validateNodeToHead),
  peer: rejectAfterHandshake('hello', validatePeerMessage),
};

/** The server's judgement of a plain frame: it must decode as a batch and every message pass the role's validator. */
export function verdictOf(role: PeerRole, data: Buffer | string): Verdict {
  if (typeof data === 'string' || data.length > FUZZ_FRAME_BYTES) return 'close';
  try {
    for (const message of decodeFrame(data, true)) VALIDATORS[role](message);
    return 'open';
  } catch {
    return 'close';
  }
}

const value = encode({ x: [1, 2, 3], s: 'text' });
const task = {
  taskId: 'fuzz-task-1', jobId: 'job-fuzz', fn: { module: 'tasks.ts', name: 'square' }, name: 'square', args: value,
  argRefs: [[0, 'fuzz-obj-1']], resources: { CPU: 1 }, maxRetries: 0, retryExceptions: false,
};
const spec = {
  actorId: 'actor-fuzz-1', jobId: 'job-fuzz', cls: { module: 'actors.ts', name: 'Counter' }, args: value, argRefs: [],
  options: { maxRestarts: 0, maxTaskRetries: 0, maxConcurrency: 1, resources: {}, placement: { CPU: 1 } },
};
const call = { callId: 'fuzz-call-1', actorId: 'actor-fuzz-1', method: 'inc', name: 'Counter.inc', args: value, argRefs: [] };
const location = { objectId: 'fuzz-obj-1', nodeId: 'node-fuzzfuzzfuzz', size: 10 };
const ok = { status: 'ok', value };

/** Valid messages of each role, as its server receives them. */
export const SAMPLES: Record<PeerRole, object[]> = {
  driver: [
    { type: 'submit-task', task }, { type: 'put-object', objectId: 'fuzz-obj-2', value }, { type: 'get-objects', requestId: 1, objectIds: ['fuzz-obj-9'] },
    { type: 'cancel-get', requestId: 1 }, { type: 'wait-objects', requestId: 2, objectIds: ['fuzz-obj-1'], numReturns: 1, timeoutMs: 10 },
    { type: 'cancel-task', objectId: 'fuzz-task-1', requestId: 3 }, { type: 'add-refs', objectIds: ['fuzz-obj-1'], owners: ['node-fuzzfuzzfuzz'] },
    { type: 'release-refs', objectIds: ['fuzz-obj-1'] }, { type: 'task-done', taskId: 'fuzz-task-1', result: ok },
    { type: 'create-actor', spec }, { type: 'submit-actor-call', call }, { type: 'kill-actor', requestId: 4, actorId: 'actor-fuzz-1' },
    { type: 'get-actor', requestId: 5, name: 'fuzz' }, { type: 'register-job', requestId: 6, jobId: 'job-fuzz', package: new Uint8Array(8) },
    { type: 'actor-created', actorId: 'actor-fuzz-1', result: ok },
  ],
  node: [
    { type: 'register-node', node: { nodeId: 'node-fuzzfuzzfuzz', address: 'ws://127.0.0.1:1', resources: { CPU: 1 } } },
    { type: 'heartbeat', available: { CPU: 1 }, stats: { objects: 0, objectBytes: 0, workers: 1, actors: 0, queued: 0, running: 0 } },
    { type: 'spill-task', task, owner: 'node-fuzzfuzzfuzz', argLocations: [location] },
    { type: 'place-actor', requestId: 1, spec, owner: 'node-fuzzfuzzfuzz' },
    { type: 'actor-state', actorId: 'actor-fuzz-1', className: 'Counter', state: 'alive', nodeId: 'node-fuzzfuzzfuzz' },
    { type: 'claim-actor-name', requestId: 2, name: 'fuzz', actorId: 'actor-fuzz-1' },
    { type: 'find-actor', requestId: 3, name: 'fuzz' }, { type: 'get-package', requestId: 4, jobId: 'job-fuzz' },
    { type: 'job-event', jobId: 'job-fuzz', state: 'started', nodeId: 'node-fuzzfuzzfuzz' },
    { type: 'restart-actor', requestId: 5, actorId: 'actor-fuzz-1', cause: 'fuzz' },
    { type: 'reply', requestId: 6, result: { status: 'ok', value: null } },
  ],
  peer: [
    { type: 'task-result', taskId: 'fuzz-task-1', result: { status: 'remote', location } },
    { type: 'subscribe-object', objectId: 'fuzz-obj-1' }, { type: 'object-ready', objectId: 'fuzz-obj-1', result: ok },
    { type: 'pull-object', requestId: 1, objectId: 'fuzz-obj-1', offset: 0, length: 10 },
    { type: 'object-chunk', requestId: 1, objectId: 'fuzz-obj-1', offset: 0, total: 3, data: new Uint8Array(3) },
    { type: 'release-object', objectId: 'fuzz-obj-1' }, { type: 'cancel-task', taskId: 'fuzz-task-1' },
    { type: 'actor-call', call, owner: 'node-fuzzfuzzfuzz', argLocations: [] },
  ],
};

/** A request each role's server answers, to tell an open connection: its reply carries PROBE_ID. */
export const PROBE_ID = 987_654_321;
export const PROBES: Record<PeerRole, object> = {
  driver: { type: 'get-actor', requestId: PROBE_ID, name: 'no-such-actor' },
  node: { type: 'find-actor', requestId: PROBE_ID, name: 'no-such-actor' },
  peer: { type: 'pull-object', requestId: PROBE_ID, objectId: 'fuzz-probe', offset: 0, length: 1 },
};

export const helloOf = (role: PeerRole, id: string): Buffer => encodeFrame([{ type: 'hello', version: PROTOCOL_VERSION, role, id }]);

/** Every path to a field inside `value` (objects and arrays, a few levels deep). */
function pathsOf(value: unknown, prefix: Array<string | number> = [], depth = 5): Array<Array<string | number>> {
  if (depth === 0 || value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return [];
  const keys: Array<string | number> = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((key) => [[...prefix, key], ...pathsOf((value as Record<string | number, unknown>)[key], [...prefix, key], depth - 1)]);
}

const DELETE = Symbol('delete');
/** A copy of `message` with the field at `path` set to `replacement` (or removed). */
function withField(message: object, path: Array<string | number>, replacement: unknown): object {
  const copy = structuredClone(message) as Record<string | number, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (replacement === DELETE) delete at[last];
  else at[last] = replacement;
  return copy;
}

const deep = (n: number): unknown => { let v: unknown = 0; for (let i = 0; i < n; i++) v = [v]; return v; };
/** Values a field should never hold: wrong types, bad ids, bad numbers, prototype keys, huge or deep values. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('../../../../x', '/etc/passwd', '..', '', 'a\0b', '__proto__', 'constructor', 'x'.repeat(65), 'node 1', 'ws://[::'),
  fc.constantFrom(Number.NaN, -1, -0.5, 1.5, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 2 ** 32, 0, -0),
  fc.constantFrom(null, true, false, [], {}, DELETE),
  fc.constantFrom(JSON.parse('{"__proto__": {"CPU": 1}}') as unknown, { constructor: 1, toString: 2 }, deep(64), 'y'.repeat(200_000)),
  fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.uint8Array({ maxLength: 64 }), fc.anything({ maxDepth: 2 }),
);

/** msgpack bytes of extensions with payloads weft's or msgpackr's readers must refuse, or read harmlessly. */
const badExtension: fc.Arbitrary<readonly number[]> = fc.oneof(
  fc.constantFrom<readonly number[]>(
    [0xd4, 0x20, 0, 0x05], [0xd4, 0x20, 0, 0x92, 1, 2], [0xd4, 0x21, 0, 0x92, 0, 0], [0xd4, 0x21, 0, 0x92, 0xff, 0xff],
    [0xd4, 0x22, 0, 0xd0, 0xe0], [0xd4, 0x23, 0, 0xa1, 0x78], [0xd4, 0x23, 0, 0x92, 0xc0, 0xc0], [0xd4, 0x73, 0, 0x05],
    [0xd4, 0x65, 0, 0x92, 0xa1, 0x78, 0x05], [0xd4, 0x69, 0, 0x05], [0xd4, 0x70, 0, 0xff], [0xd4, 0x78, 0, 0x92, 1, 2],
    [0xd6, 0xff, 0xff, 0xff, 0xff, 0xff], [0xc9, 0xff, 0xff, 0xff, 0xf0, 0x74], [0xc8, 0x00, 0x10, 0x74, 1], [0xd4, 0x62, 0, 0x05],
  ),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 24 })).map(([type, payload]) => [0xc7, payload.length, type, ...payload]),
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 2, maxLength: 24 })).map(([type, payload]) => [0xd4, type, ...payload]),
);

const PLACEHOLDER = 'FUZZ_EXTENSION_HERE!';
const PLACEHOLDER_BYTES = Buffer.from([0xa0 + PLACEHOLDER.length, ...Buffer.from(PLACEHOLDER)]);

/** encodeFrame, or (for a value msgpack cannot carry) a frame that is not msgpack at all. */
function packed(messages: unknown[]): Buffer {
  try {
    return encodeFrame(messages);
  } catch {
    return Buffer.from([0xc1]);
  }
}

/** One frame made from a valid message of `role`: as it is, with a field changed, or with an extension in a field. */
export function messageFrame(role: PeerRole): fc.Arbitrary<Frame> {
  const sample = fc.constantFrom(...SAMPLES[role]);
  const valid = fc.array(sample, { minLength: 1, maxLength: 4 }).map((messages) => encodeFrame(messages));
  const mutated = fc.tuple(sample, fc.nat(), hostileValue).map(([message, pick, replacement]) => {
    const paths = pathsOf(message);
    return packed([withField(message, paths[pick % paths.length]!, replacement)]);
  });
  const extension = fc.tuple(sample, fc.nat(), badExtension).map(([message, pick, ext]) => {
    const paths = pathsOf(message);
    const frame = packed([withField(message, paths[pick % paths.length]!, PLACEHOLDER)]);
    const at = frame.indexOf(PLACEHOLDER_BYTES);
    if (at < 0) return frame;
    return Buffer.concat([frame.subarray(0, at), Buffer.from(ext), frame.subarray(at + PLACEHOLDER_BYTES.length)]);
  });
  return fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: mutated, weight: 4 }, { arbitrary: extension, weight: 2 })
    .map((data) => ({ data, verdict: verdictOf(role, data), kind: 'message' }));
}

/** One frame of bytes gone wrong: a valid frame truncated, flipped, padded, or nothing like one. */
export function byteFrame(role: PeerRole): fc.Arbitrary<Frame> {
  const base = fc.constantFrom(...SAMPLES[role]).map((message) => encodeFrame([message]));
  const broken = fc.oneof(
    fc.tuple(base, fc.nat()).map(([frame, n]) => frame.subarray(0, n % frame.length)),
    fc.tuple(base, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([frame, i, byte]) => {
      const copy = Buffer.from(frame);
      copy[i % copy.length] = byte;
      return copy;
    }),
    fc.tuple(base, fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([frame, tail]) => Buffer.concat([frame, tail])),
    fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
    fc.constantFrom(Buffer.alloc(0), Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), Buffer.from([0xdf, 0x7f, 0xff, 0xff, 0xff]),
      Buffer.concat([Buffer.alloc(20_000, 0x91), Buffer.from([0xc0])]), Buffer.alloc(FUZZ_FRAME_BYTES + 1, 0x90)),
  );
  return broken.map((data) => ({ data, verdict: verdictOf(role, data), kind: 'bytes' }));
}

/** Frames that end a connection whatever role: text, a second hello, a frame over the limit. */
const fatalFrame = (role: PeerRole): fc.Arbitrary<Frame> => fc.oneof(
  fc.string({ maxLength: 20 }).map((text): Frame => ({ data: text, verdict: 'close', kind: 'text' })),
  fc.constant<Frame>({ data: helloOf(role, 'driver-again'), verdict: 'close', kind: 'second hello' }),
);

const chunkWith = (data: unknown): object => ({ type: 'object-chunk', requestId: 1, objectId: 'fuzz-obj-1', offset: 0, total: 1, data });
const putWith = (data: unknown): object => ({ type: 'put-object', objectId: 'fuzz-obj-att', value: { data } });

/** Sessions of attachments: announced over the limit, lying about their length, flooding parts, or never sent. */
export function attachmentSession(role: PeerRole): fc.Arbitrary<Session> {
  const message = role === 'driver' ? putWith({ $att: 0 }) : chunkWith({ $att: 0 });
  const header = (extra: object): Buffer => encodeFrameOf({ $batch: [message], ...extra });
  const part = (n: number): Frame => ({ data: Buffer.alloc(n, 7), verdict: 'open', kind: 'attachment part' });
  return fc.oneof(
    fc.integer({ min: FUZZ_BATCH_BYTES + 1, max: 2 ** 40 }).map((bytes): Session => ({ role, silentEnd: false, frames: [
      { data: header({ $parts: [Math.ceil(bytes / FUZZ_FRAME_BYTES)], $bytes: [bytes] }), verdict: 'close', kind: 'announced over the limit' }] })),
    fc.integer({ min: 1, max: 1000 }).map((bytes): Session => ({ role, silentEnd: false, frames: [
      { data: header({ $parts: [1], $bytes: [bytes] }), verdict: 'open', kind: 'announced' }, { ...part(bytes + 1), verdict: 'close', kind: 'longer than announced' }] })),
    fc.constant<Session>({ role, silentEnd: false, frames: [
      { data: header({ $parts: [4096] }), verdict: 'open', kind: 'flood announced' },
      ...Array.from({ length: FUZZ_BATCH_BYTES / FUZZ_FRAME_BYTES }, () => part(FUZZ_FRAME_BYTES)),
      { ...part(FUZZ_FRAME_BYTES), verdict: 'close', kind: 'flood past the batch limit' }] }),
    fc.integer({ min: 2, max: 64 }).map((parts): Session => ({ role, silentEnd: true, frames: [
      { data: header({ $parts: [parts], $bytes: [parts * 1000] }), verdict: 'open', kind: 'announced, never sent' }, part(1000)] })),
  );
}

/** msgpack of a value as the transport packs a batch (not the value codec). */
function encodeFrameOf(batch: object): Buffer {
  // encodeFrame packs any value; a batch with attachments is an object, not an array.
  return encodeFrame(batch as unknown as unknown[]);
}

/** A session: a few frames to one of `roles`' servers, the last one possibly fatal, or an attachment scenario. */
export function sessionArb(roles: readonly PeerRole[]): fc.Arbitrary<Session> {
  return fc.oneof(...roles.map(sessionOf));
}

const sessions = new Map<PeerRole, fc.Arbitrary<Session>>();
/** A role's sessions, built once (their constants hold buffers of a megabyte). */
function sessionOf(role: PeerRole): fc.Arbitrary<Session> {
  let arbitrary = sessions.get(role);
  if (!arbitrary) {
    const frames = fc.array(fc.oneof({ arbitrary: messageFrame(role), weight: 4 }, { arbitrary: byteFrame(role), weight: 2 }), { minLength: 1, maxLength: 5 });
    arbitrary = fc.oneof(
      { weight: 8, arbitrary: fc.tuple(frames, fc.option(fatalFrame(role), { freq: 5 }))
        .map(([list, last]): Session => ({ role, silentEnd: false, frames: cutAtFirstClose(last ? [...list, last] : list) })) },
      { weight: 1, arbitrary: attachmentSession(role) },
    );
    sessions.set(role, arbitrary);
  }
  return arbitrary;
}

/** A session stops at its first frame that closes the connection: nothing after it would be read. */
function cutAtFirstClose(frames: Frame[]): Frame[] {
  const at = frames.findIndex((frame) => frame.verdict === 'close');
  return at < 0 ? frames : frames.slice(0, at + 1);
}
