import { describe, expect, it } from 'vitest';
import type { EncodedValue } from '../src/codec.ts';
import type {
  MapStatus, ActorCallSpec, ActorSpec, ClientMessage, HeadToNode, NodeMessage, NodeToHead, ObjectLocation, OutputChunk, OutputOrigin, PeerInfo, PeerMessage, Result,
  TaskSpec,
} from '../src/messages.ts';
import { CLOSE_CODES, PROTOCOL_VERSION } from '../src/messages.ts';
import {
  ProtocolError, validateClientMessage, validateHeadToNode, validateHello, validateNodeMessage, validateNodeToHead,
  validatePeerMessage, validateWelcome, type Validator,
} from '../src/validate.ts';
import { decodeFrame, encodeFrame } from '../src/ws-connection.ts';
import { isId, nextId, ownerOf, randomId, yieldId } from '../src/ids.ts';

const value: EncodedValue = { data: new Uint8Array([1, 2, 3]) };
const withRefs: EncodedValue = { data: new Uint8Array([4]), refs: ['obj-1', 'obj-2'] };
const fn = { module: 'tasks.ts', name: 'square' };
const task: TaskSpec = {
  taskId: 't-1', jobId: 'j-1', fn, name: 'square', args: withRefs, argRefs: [[0, 'obj-1'], [2, 'obj-2']],
  resources: { CPU: 1, gpu: 0.5 }, maxRetries: -1, retryExceptions: false,
};
const spec: ActorSpec = {
  actorId: 'a-1', jobId: 'j-1', cls: { module: 'actors.ts', name: 'Counter' }, args: value, argRefs: [],
  options: { name: 'counter', maxRestarts: -1, maxTaskRetries: 0, maxConcurrency: 1, resources: { CPU: 1 }, placement: {} },
};
const call: ActorCallSpec = { callId: 'c-1', actorId: 'a-1', method: 'inc', name: 'Counter.inc', args: value, argRefs: [[1, 'obj-1']] };
const ok: Result = { status: 'ok', value };
const failed: Result = {
  status: 'error', error: { code: 'TASK_ERROR', message: 'boom', taskName: 'square', remoteName: 'TypeError', remoteStack: 'at square' },
};
const location: ObjectLocation = { objectId: 'obj-1', nodeId: 'n-1', size: 1024 };
const peer: PeerInfo = { nodeId: 'n-1', address: 'ws://127.0.0.1:4000', resources: { CPU: 2 } };
const output: OutputChunk = { taskId: 't-1', jobId: 'j-1', name: 'square', stream: 'stdout', lines: ['hello', ''] };
const origin: OutputOrigin = { pid: 1234, nodeId: 'n-1', ip: '10.0.0.2' };
const mapStatus: MapStatus = { mapId: 'map-1', jobId: 'j-1', name: 'square', done: 3, failed: 0, total: 10, startedAt: 1, updatedAt: 2, state: 'running' };
const hello = { type: 'hello', version: PROTOCOL_VERSION, role: 'node', id: 'n-1' } as const;
const welcome = { type: 'welcome', version: PROTOCOL_VERSION, id: 'head' } as const;

// One valid example per message type; the Record types make a missing type a compile error.
const client: { [K in ClientMessage['type']]: Extract<ClientMessage, { type: K }> } = {
  'submit-task': { type: 'submit-task', task },
  'put-object': { type: 'put-object', objectId: 'obj-1', value: withRefs },
  'get-objects': { type: 'get-objects', requestId: 1, objectIds: ['obj-1'], taskId: 't-1' },
  'cancel-get': { type: 'cancel-get', requestId: 1 },
  'wait-objects': { type: 'wait-objects', requestId: 2, objectIds: ['obj-1', 'obj-2'], numReturns: 1, timeoutMs: null },
  'cancel-task': { type: 'cancel-task', objectId: 't-1', requestId: 3 },
  'add-refs': { type: 'add-refs', objectIds: ['obj-1'], owners: ['n-2'] },
  'release-refs': { type: 'release-refs', objectIds: [] },
  'task-done': { type: 'task-done', taskId: 't-1', result: failed, runMs: 1.5 },
  'worker-ready': { type: 'worker-ready', workerId: 'w-1' },
  'create-actor': { type: 'create-actor', spec },
  'submit-actor-call': { type: 'submit-actor-call', call },
  'kill-actor': { type: 'kill-actor', requestId: 4, actorId: 'a-1' },
  'get-actor': { type: 'get-actor', requestId: 5, name: 'counter' },
  'register-job': { type: 'register-job', requestId: 6, jobId: 'j-1', package: new Uint8Array(16) },
  'actor-created': { type: 'actor-created', actorId: 'a-1', result: ok },
  'task-yield': { type: 'task-yield', taskId: 't-1', index: 2, value: withRefs },
  'read-stream': { type: 'read-stream', requestId: 7, streamId: 't-1', index: 0, taskId: 't-2' },
  'get-resources': { type: 'get-resources', requestId: 4 },
  'claim-actor-name': { type: 'claim-actor-name', requestId: 9, name: 'counter', actorId: 'a-1' },
  'map-progress': { type: 'map-progress', map: mapStatus },
  'driver-exit': { type: 'driver-exit' },
  'task-output': { type: 'task-output', chunks: [output, { ...output, lines: [], dropped: 12 }] },
};
const node: { [K in NodeMessage['type']]: Extract<NodeMessage, { type: K }> } = {
  objects: { type: 'objects', requestId: 1, results: [ok, failed] },
  'wait-result': { type: 'wait-result', requestId: 2, readyIds: ['obj-1'] },
  'cancel-result': { type: 'cancel-result', requestId: 3, cancelled: true },
  'execute-task': { type: 'execute-task', task, argValues: [['obj-1', value]] },
  'actor-info': { type: 'actor-info', requestId: 4, actor: { actorId: 'a-1', className: 'Counter', state: 'alive' } },
  'kill-result': { type: 'kill-result', requestId: 5, killed: false },
  'stream-item': { type: 'stream-item', requestId: 7, objectId: null },
  'job-registered': { type: 'job-registered', requestId: 6, error: { code: 'SYSTEM', message: 'package too large' } },
  'job-dir': { type: 'job-dir', jobId: 'j-1', dir: '/tmp/weft/job-1' },
  'create-actor-instance': { type: 'create-actor-instance', spec, argValues: [] },
  'actor-call': { type: 'actor-call', call, argValues: [['obj-1', withRefs]] },
  resources: { type: 'resources', requestId: 4, total: { CPU: 4, gpu: 1 } },
  received: { type: 'received', count: 12 },
  'drop-task': { type: 'drop-task', taskId: 't-1' },
  'drop-actor': { type: 'drop-actor', actorId: 'a-1' },
  'name-claim': { type: 'name-claim', requestId: 8, claimed: false },
  'task-output': { type: 'task-output', origin, chunks: [output] },
};
const toHead: { [K in NodeToHead['type']]: Extract<NodeToHead, { type: K }> } = {
  hello,
  'register-node': { type: 'register-node', node: peer, headId: 'head-1' },
  heartbeat: { type: 'heartbeat', available: { CPU: 1 }, stats: { objects: 1, objectBytes: 10, workers: 2, actors: 0, queued: 0, running: 1,
    spilledObjects: 1, spilledBytes: 4096, bytesPulled: 10_485_760, bytesPushed: 0 } },
  'task-events': { type: 'task-events', dropped: 0, events: [
    { taskId: 't-1', jobId: 'j-1', name: 'square', state: 'waiting', nodeId: 'n-1', submittedAt: 1, deps: ['obj-1'] },
    { taskId: 't-2', name: 'square', state: 'failed', nodeId: 'n-1', submittedAt: 1, startedAt: 2, finishedAt: 3, workerId: 'w-1', error: 'TASK_ERROR' },
  ] },
  'spill-task': { type: 'spill-task', task, owner: 'n-1', argLocations: [location, { ...location, refs: ['obj-9'] }] },
  'place-actors': { type: 'place-actors', requestId: 1, specs: [spec], owner: 'n-1' },
  'actor-state': { type: 'actor-state', actorId: 'a-1', className: 'Counter', state: 'alive', nodeId: 'n-1', spec, owner: 'n-2', restarts: 1 },
  'claim-actor-name': { type: 'claim-actor-name', requestId: 2, name: 'counter', actorId: 'a-1' },
  'find-actor': { type: 'find-actor', requestId: 3, name: 'counter' },
  'put-package': { type: 'put-package', requestId: 4, jobId: 'j-1', data: new Uint8Array(8) },
  'get-package': { type: 'get-package', requestId: 5, jobId: 'j-1' },
  'job-event': { type: 'job-event', jobId: 'j-1', state: 'finished', nodeId: 'n-1' },
  'map-progress': { type: 'map-progress', map: { ...mapStatus, total: undefined, state: 'cancelled' } },
  'restart-actor': { type: 'restart-actor', requestId: 7, actorId: 'a-1', cause: 'worker exited with code 1' },
  'kill-actor': { type: 'kill-actor', requestId: 8, actorId: 'a-1' },
  'task-output': { type: 'task-output', origin, chunks: [{ ...output, stream: 'stderr' }] },
  reply: { type: 'reply', requestId: 6, result: { status: 'ok', value: { anything: [1, 'x'] } } },
};
const toNode: { [K in HeadToNode['type']]: Extract<HeadToNode, { type: K }> } = {
  welcome,
  registered: { type: 'registered', nodeId: 'n-1', headId: 'head-1', deathTimeoutMs: 4500 },
  fenced: { type: 'fenced', nodeId: 'n-1', reason: 'declared dead 3 s ago' },
  'kill-actor': { type: 'kill-actor', requestId: 3, actorId: 'a-1' },
  peers: { type: 'peers', nodes: [peer, { ...peer, available: { CPU: 0 } }] },
  'run-task': { type: 'run-task', task, owner: 'n-2', argLocations: [] },
  'spill-failed': { type: 'spill-failed', taskId: 't-1', error: { code: 'TASK_UNSCHEDULABLE', message: 'no node has gpu: 1' } },
  'host-actor': { type: 'host-actor', spec, owner: 'n-2', restarts: 2 },
  'task-placed': { type: 'task-placed', taskId: 't-1', nodeId: 'n-3' },
  'job-finished': { type: 'job-finished', jobId: 'j-1' },
  query: { type: 'query', requestId: 1, what: 'tasks' },
  'query-logs': { type: 'query-logs', requestId: 4, jobId: 'j-1', taskId: 't-1', afterSeq: 10 },
  'task-output': { type: 'task-output', origin, chunks: [output] },
  reply: { type: 'reply', requestId: 2, result: { status: 'error', error: { code: 'NOT_FOUND', message: 'no such job' } } },
};
const peers: { [K in PeerMessage['type']]: Extract<PeerMessage, { type: K }> } = {
  hello: { ...hello, role: 'peer' },
  welcome: { type: 'welcome', version: PROTOCOL_VERSION, id: 'n-2' },
  'task-result': { type: 'task-result', taskId: 't-1', result: { status: 'remote', location } },
  'task-yield': { type: 'task-yield', taskId: 't-1', index: 0, result: ok },
  'task-output': { type: 'task-output', origin, chunks: [output] },
  'subscribe-object': { type: 'subscribe-object', objectId: 'obj-1' },
  'object-ready': { type: 'object-ready', objectId: 'obj-1', result: ok },
  'pull-object': { type: 'pull-object', requestId: 1, objectId: 'obj-1', offset: 0, length: 1024 },
  'object-chunk': { type: 'object-chunk', requestId: 1, objectId: 'obj-1', offset: 0, total: 3, data: new Uint8Array(3) },
  'release-object': { type: 'release-object', objectId: 'obj-1' },
  'borrow-objects': { type: 'borrow-objects', requestId: 9, objectIds: ['obj-1', 'obj-2'] },
  'borrow-ack': { type: 'borrow-ack', requestId: 9, missing: [] },
  'cancel-task': { type: 'cancel-task', taskId: 't-1' },
  'actor-call': { type: 'actor-call', call, owner: 'n-1', argLocations: [location] },
  'kill-actor': { type: 'kill-actor', requestId: 2, actorId: 'a-1' },
  'kill-result': { type: 'kill-result', requestId: 2, killed: true },
};

const unions: Array<[string, Validator<unknown>, Record<string, unknown>]> = [
  ['client', validateClientMessage, client], ['node', validateNodeMessage, node], ['node-to-head', validateNodeToHead, toHead],
  ['head-to-node', validateHeadToNode, toNode], ['peer', validatePeerMessage, peers],
];

/** The reason a validator gives for `message`, or undefined when it passes. */
function reasonOf(validate: Validator<unknown>, message: unknown): string | undefined {
  try {
    validate(message);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return (error as ProtocolError).reason;
  }
}

describe('message validators', () => {
  it.each(unions)('accept a valid example of every %s message type, before and after a msgpack round trip', (_name, validate, examples) => {
    for (const message of Object.values(examples)) {
      expect(reasonOf(validate, message)).toBeUndefined();
      const [decoded] = decodeFrame(encodeFrame([message]), true);
      expect(reasonOf(validate, decoded)).toBeUndefined();
    }
  });

  it("accepts a worker's name claim with its shared-memory signal, which only a port carries", () => {
    const claim = { ...client['claim-actor-name'], requestId: 0, signal: new SharedArrayBuffer(4) };
    expect(reasonOf(validateClientMessage, claim)).toBeUndefined();
    const [decoded] = decodeFrame(encodeFrame([claim]), true);
    expect(reasonOf(validateClientMessage, decoded)).toBe('claim-actor-name.signal must be a SharedArrayBuffer of 4 bytes or more');
  });

  it.each([
    [validateClientMessage, { ...client['submit-task'], task: { ...task, argRefs: [[0, 'a'], [1, 'b'], ['2', 'c']] } },
      'submit-task.task.argRefs[2] must be [number, id]'],
    [validateClientMessage, { ...client['submit-task'], task: { ...task, resources: { CPU: -1 } } }, 'submit-task.task.resources.CPU must be a finite number >= 0'],
    [validateClientMessage, { ...client['submit-task'], task: { ...task, fn: { module: 'm.ts' } } }, 'submit-task.task.fn.name must be a string'],
    [validateClientMessage, { type: 'put-object', objectId: 'o', value: { data: 'bytes' } }, 'put-object.value.data must be binary (Uint8Array)'],
    [validateClientMessage, { type: 'put-object', objectId: 'o', value: { data: new Uint8Array(1), refs: [7] } }, 'put-object.value.refs[0] must be an id'],
    [validateClientMessage, { type: 'cancel-get', requestId: 1.5 }, 'cancel-get.requestId must be an integer >= 0'],
    [validateClientMessage, { type: 'cancel-get' }, 'cancel-get.requestId must be an integer >= 0'],
    [validateClientMessage, { ...client['wait-objects'], timeoutMs: 'soon' }, 'wait-objects.timeoutMs must be a finite number >= 0'],
    [validateClientMessage, { ...client['get-objects'], taskId: null }, 'get-objects.taskId must be an id'],
    [validateClientMessage, { type: 'task-done', taskId: 't', result: { status: 'maybe' } }, 'task-done.result.status must be one of ok, error'],
    [validateClientMessage, { type: 'task-done', taskId: 't', result: { status: 'error', error: { code: 'OOPS', message: 'x' } } },
      'task-done.result.error.code must be one of TASK_ERROR'],
    [validateClientMessage, { ...client['create-actor'], spec: { ...spec, options: { ...spec.options, maxRestarts: -2 } } },
      'create-actor.spec.options.maxRestarts must be an integer >= -1'],
    [validateClientMessage, { type: 'nope' }, 'unknown client message type "nope"'],
    [validateClientMessage, { type: 'constructor' }, 'unknown client message type "constructor"'],
    [validateClientMessage, { requestId: 1 }, 'unknown client message type "undefined"'],
    [validateClientMessage, [1, 2], 'client message must be an object'],
    [validateClientMessage, new Uint8Array(2), 'client message must be an object'],
    [validateNodeMessage, { ...node['actor-info'], actor: { actorId: 'a', className: 'C', state: 'zombie' } }, 'actor-info.actor.state must be one of pending'],
    [validateNodeMessage, { ...node['execute-task'], argValues: [['obj-1', { data: [1] }]] }, 'execute-task.argValues[0] must be [id, EncodedValue]'],
    [validateNodeToHead, { ...toHead.heartbeat, stats: { objects: 1 } }, 'heartbeat.stats.objectBytes must be an integer >= 0'],
    [validateNodeToHead, { ...toHead.heartbeat, stats: { ...toHead.heartbeat.stats, bytesPulled: -1 } }, 'heartbeat.stats.bytesPulled must be an integer >= 0'],
    [validateNodeToHead, { type: 'task-events', events: [{ ...toHead['task-events'].events[0], state: 'lost' }] },
      'task-events.events[0].state must be one of waiting, queued, running, finished, failed'],
    [validateNodeToHead, { type: 'task-events', events: [{ ...toHead['task-events'].events[0], deps: ['../x'] }] }, 'task-events.events[0].deps[0] must be an id'],
    [validateNodeToHead, { ...toHead['put-package'], data: [1, 2] }, 'put-package.data must be binary (Uint8Array)'],
    [validateNodeToHead, { ...toHead.hello, role: 'admin' }, 'hello.role must be one of driver, node, peer'],
    [validateHeadToNode, { ...toNode.query, what: 'everything' }, 'query.what must be one of objects, actors, tasks'],
    [validateNodeMessage, { ...node['job-registered'], error: { message: 'x' } }, 'job-registered.error.code must be one of'],
    [validateClientMessage, { ...client['register-job'], package: 'zip' }, 'register-job.package must be binary (Uint8Array)'],
    [validateHeadToNode, { ...toNode.peers, nodes: [peer, { ...peer, address: 1 }] }, 'peers.nodes[1].address must be a string'],
    [validatePeerMessage, { ...peers['object-chunk'], data: undefined }, 'object-chunk.data must be binary (Uint8Array)'],
    [validatePeerMessage, { ...peers['object-chunk'], error: 'gone' }, 'object-chunk.error must be an object'],
    [validatePeerMessage, { type: 'task-result', taskId: 't', result: { status: 'remote', location: { ...location, size: 'big' } } },
      'task-result.result.location.size must be an integer >= 0'],
    [validatePeerMessage, { ...peers['pull-object'], offset: Number.NaN }, 'pull-object.offset must be an integer >= 0'],
    // Streaming generators: the index of a yield is a count, the generator flag a boolean.
    [validateClientMessage, { ...client['task-yield'], index: -1 }, 'task-yield.index must be an integer >= 0'],
    [validateClientMessage, { ...client['read-stream'], index: 0.5 }, 'read-stream.index must be an integer >= 0'],
    [validateClientMessage, { ...client['submit-task'], task: { ...task, generator: 'yes' } }, 'submit-task.task.generator must be a boolean'],
    [validateNodeMessage, { ...node['stream-item'], objectId: '../x' }, 'stream-item.objectId must be an id'],
    // A name claim's signal is shared memory (a port carries it; a frame decodes bytes, never that).
    [validateClientMessage, { ...client['claim-actor-name'], signal: new Uint8Array(4) }, 'claim-actor-name.signal must be a SharedArrayBuffer of 4 bytes or more'],
    [validateClientMessage, { ...client['claim-actor-name'], actorId: '../a' }, 'claim-actor-name.actorId must be an id'],
    [validatePeerMessage, { ...peers['task-yield'], result: { status: 'remote', location: { ...location, nodeId: 7 } } },
      'task-yield.result.location.nodeId must be an id'],
    // A map's chunk: an offset and, when its items have several arguments, their counts.
    [validateClientMessage, { ...client['submit-task'], task: { ...task, batch: { offset: -1 } } }, 'submit-task.task.batch.offset must be an integer >= 0'],
    [validateClientMessage, { ...client['submit-task'], task: { ...task, batch: { offset: 0, sizes: [1, 'two'] } } }, 'submit-task.task.batch.sizes[1] must be an integer >= 0'],
    // Option ranges as the API checks them (remote.ts, actor.ts).
    [validateClientMessage, { ...client['create-actor'], spec: { ...spec, options: { ...spec.options, maxConcurrency: 0 } } },
      'create-actor.spec.options.maxConcurrency must be an integer >= 1'],
    [validateNodeToHead, { ...toHead['place-actors'], specs: [spec, { ...spec, options: { ...spec.options, maxTaskRetries: 0.5 } }] },
      'place-actors.specs[1].options.maxTaskRetries must be an integer >= -1'],
    [validateClientMessage, { ...client['submit-task'], task: { ...task, maxRetries: -3 } }, 'submit-task.task.maxRetries must be an integer >= -1'],
    [validateClientMessage, { ...client['submit-task'], task: { ...task, resources: { gpu: Infinity } } }, 'submit-task.task.resources.gpu must be a finite number >= 0'],
    [validateHeadToNode, { ...toNode['host-actor'], spec: { ...spec, options: { ...spec.options, placement: { CPU: Number.NaN } } } },
      'host-actor.spec.options.placement.CPU must be a finite number >= 0'],
    // A `__proto__` key (JSON.parse makes one an own property) must not reach an object's prototype.
    [validateClientMessage, { ...client['submit-task'], task: { ...task, resources: JSON.parse('{"CPU": 1, "__proto__": 1}') as object } },
      'submit-task.task.resources has a key __proto__, which is not allowed'],
    [validateNodeToHead, { ...toHead.heartbeat, available: JSON.parse('{"__proto__": {"CPU": 1}}') as object }, 'heartbeat.available has a key __proto__'],
    // Task output: lines are strings, streams stdout or stderr, the origin's pid a number.
    [validateNodeMessage, { ...node['task-output'], chunks: [{ ...output, lines: ['ok', 7] }] }, 'task-output.chunks[0].lines[1] must be a string'],
    [validateNodeToHead, { ...toHead['task-output'], chunks: [{ ...output, stream: 'stdin' }] }, 'task-output.chunks[0].stream must be one of stdout, stderr'],
    [validateHeadToNode, { ...toNode['task-output'], origin: { ...origin, pid: 'me' } }, 'task-output.origin.pid must be an integer >= 0'],
    [validateHeadToNode, { ...toNode['query-logs'], taskId: '../x' }, 'query-logs.taskId must be an id'],
  ] as Array<[Validator<unknown>, unknown, string]>)('refuse a broken message with a reason naming the field (%#)', (validate, message, reason) => {
    expect(reasonOf(validate, message)).toContain(reason);
  });

  it('refuses a first message that is not a hello (or welcome) with the handshake close code', () => {
    expect(validateHello(hello)).toBe(hello);
    expect(validateWelcome(welcome)).toBe(welcome);
    for (const [validate, message] of [[validateHello, welcome], [validateWelcome, hello], [validateHello, { ...hello, id: 5 }]] as const) {
      const error = (() => { try { validate(message); } catch (e) { return e; } })();
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).closeCode).toBe(CLOSE_CODES.HANDSHAKE);
    }
  });

  it('keeps a long unknown type short in the reason', () => {
    expect(reasonOf(validatePeerMessage, { type: 'x'.repeat(10_000) })!.length).toBeLessThan(80);
  });
});

/** Each id field of each example message, as a path of keys (arrays by index). */
type IdField = [label: string, validate: Validator<unknown>, message: unknown, path: string[]];
const ID_FIELDS: IdField[] = [
  ...([
    ['submit-task', 'task.taskId'], ['submit-task', 'task.jobId'], ['submit-task', 'task.argRefs.0.1'], ['submit-task', 'task.args.refs.0'],
    ['put-object', 'objectId'], ['put-object', 'value.refs.1'], ['get-objects', 'objectIds.0'], ['get-objects', 'taskId'],
    ['wait-objects', 'objectIds.1'], ['wait-objects', 'taskId'], ['cancel-task', 'objectId'], ['add-refs', 'objectIds.0'],
    ['add-refs', 'owners.0'], ['release-refs', 'objectIds.0'], ['task-done', 'taskId'], ['worker-ready', 'workerId'],
    ['create-actor', 'spec.actorId'], ['create-actor', 'spec.jobId'], ['submit-actor-call', 'call.callId'],
    ['submit-actor-call', 'call.actorId'], ['submit-actor-call', 'call.argRefs.0.1'], ['kill-actor', 'actorId'],
    ['register-job', 'jobId'], ['actor-created', 'actorId'], ['task-yield', 'taskId'], ['read-stream', 'streamId'], ['read-stream', 'taskId'],
  ] as const).map(([type, field]) => [`client ${type}.${field}`, validateClientMessage, client[type], field.split('.')] as IdField),
  ...([
    ['objects', 'results.0.value.refs.0'], ['wait-result', 'readyIds.0'], ['execute-task', 'task.taskId'], ['execute-task', 'argValues.0.0'],
    ['actor-info', 'actor.actorId'], ['job-dir', 'jobId'], ['create-actor-instance', 'spec.actorId'], ['actor-call', 'call.callId'],
    ['actor-call', 'argValues.0.0'], ['drop-task', 'taskId'], ['stream-item', 'objectId'],
  ] as const).map(([type, field]) => [`node ${type}.${field}`, validateNodeMessage, node[type], field.split('.')] as IdField),
  ...([
    ['hello', 'id'], ['register-node', 'node.nodeId'], ['register-node', 'headId'], ['spill-task', 'task.taskId'], ['spill-task', 'owner'],
    ['spill-task', 'argLocations.0.objectId'], ['spill-task', 'argLocations.0.nodeId'], ['spill-task', 'argLocations.1.refs.0'],
    ['place-actors', 'specs.0.actorId'], ['place-actors', 'owner'], ['actor-state', 'actorId'], ['actor-state', 'nodeId'], ['actor-state', 'owner'],
    ['actor-state', 'spec.jobId'], ['claim-actor-name', 'actorId'], ['find-actor', 'actorId'],
    ['put-package', 'jobId'], ['get-package', 'jobId'], ['job-event', 'jobId'], ['job-event', 'nodeId'], ['restart-actor', 'actorId'],
    ['kill-actor', 'actorId'],
  ] as const).map(([type, field]) => [`node-to-head ${type}.${field}`, validateNodeToHead, toHead[type], field.split('.')] as IdField),
  ...([
    ['welcome', 'id'], ['registered', 'nodeId'], ['registered', 'headId'], ['fenced', 'nodeId'], ['kill-actor', 'actorId'],
    ['peers', 'nodes.1.nodeId'], ['run-task', 'task.jobId'], ['run-task', 'owner'], ['spill-failed', 'taskId'], ['host-actor', 'spec.actorId'],
    ['host-actor', 'owner'], ['task-placed', 'taskId'], ['task-placed', 'nodeId'], ['job-finished', 'jobId'],
  ] as const).map(([type, field]) => [`head-to-node ${type}.${field}`, validateHeadToNode, toNode[type], field.split('.')] as IdField),
  ...([
    ['hello', 'id'], ['welcome', 'id'], ['task-result', 'taskId'], ['task-result', 'result.location.objectId'], ['task-result', 'result.location.nodeId'],
    ['subscribe-object', 'objectId'], ['object-ready', 'objectId'], ['pull-object', 'objectId'], ['object-chunk', 'objectId'],
    ['release-object', 'objectId'], ['cancel-task', 'taskId'], ['actor-call', 'call.actorId'], ['actor-call', 'owner'],
    ['actor-call', 'argLocations.0.nodeId'], ['kill-actor', 'actorId'], ['task-yield', 'taskId'],
  ] as const).map(([type, field]) => [`peer ${type}.${field}`, validatePeerMessage, peers[type], field.split('.')] as IdField),
];

/** A deep copy of `message` with the field at `path` set to `value` (a list of it for a list field), made if missing. */
function withField(message: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(message) as Record<string, unknown>;
  let at: Record<string, unknown> = copy;
  path.slice(0, -1).forEach((key, i) => {
    at = (at[key] ??= /^\d+$/.test(path[i + 1]!) ? [] : {}) as Record<string, unknown>;
  });
  const last = path[path.length - 1]!;
  at[last] = Array.isArray(at[last]) ? [value] : value;
  return copy;
}

describe('id fields', () => {
  const bad = ['../../../../x', 'a/b', 'a\\b', '..', '.', 'a\0b', '', 'x'.repeat(65), 'node 1', 7];

  it.each(ID_FIELDS)('refuse a bad id in %s', (_label, validate, message, path) => {
    expect(reasonOf(validate, message)).toBeUndefined();
    for (const id of bad) {
      const reason = reasonOf(validate, withField(message, path, id));
      expect(reason, `${path.join('.')} = ${JSON.stringify(id)}`).toMatch(/must be an id|must be \[/);
    }
  });

  it('refuses register-job with a jobId that climbs out of a folder, naming the field', () => {
    expect(reasonOf(validateClientMessage, { ...client['register-job'], jobId: '../../../../x' }))
      .toBe('register-job.jobId must be an id (1-64 characters of A-Z a-z 0-9 _ -)');
  });

  it('accepts every id weft makes', () => {
    for (const made of [nextId('node-abcdefghijkl'), randomId('node'), randomId('job'), randomId('driver'), randomId('worker'), randomId('head'), `actor-${nextId('node-abcdefghijkl')}`]) {
      expect(isId(made), made).toBe(true);
      expect(reasonOf(validateClientMessage, { type: 'release-refs', objectIds: [made] })).toBeUndefined();
    }
  });

  it('derives the ids of a generator\'s values from its task id: ids owned by the task\'s owner, unlike any other', () => {
    const taskId = nextId('node-abcdefghijkl');
    const made = [0, 1, 10, Number.MAX_SAFE_INTEGER].map((index) => yieldId(taskId, index));
    for (const id of made) {
      expect(isId(id), id).toBe(true);
      expect(ownerOf(id)).toBe('node-abcdefghijkl');
    }
    expect(new Set([...made, yieldId(`${taskId}1`, 0), taskId, nextId('node-abcdefghijkl')]).size).toBe(made.length + 3);
  });
});
