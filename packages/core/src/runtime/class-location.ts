/**
 * Where a class was defined. Remote functions record their module when `remote()` runs, but a
 * plain `class Counter extends Actor {}` runs no code of ours when it is defined. So the first
 * `Counter.remote()` asks V8, through an in-process inspector session, for the class's
 * [[FunctionLocation]] and the URL of that script. The session's calls are synchronous; the
 * answer is cached per class, so this runs once per actor class and process.
 */
import inspector from 'node:inspector';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const cache = new WeakMap<object, string>();
const PROBE = Symbol.for('weft.class-location-probe');

function post<T>(session: inspector.Session, method: string, params: object): T {
  let result: T | undefined;
  let failure: Error | null = null;
  session.post(method, params, (error, value) => {
    failure = error;
    result = value as T;
  });
  if (failure) throw failure;
  if (result === undefined) throw new Error(`inspector ${method} did not answer synchronously`);
  return result;
}

/** The absolute path of the file that defines `cls`, or undefined when V8 cannot tell. */
export function classModule(cls: object): string | undefined {
  const cached = cache.get(cls);
  if (cached) return cached;
  const session = new inspector.Session();
  session.connect();
  const g = globalThis as { [PROBE]?: object };
  try {
    g[PROBE] = cls;
    const evaluated = post<{ result: { objectId?: string } }>(session, 'Runtime.evaluate',
      { expression: `globalThis[Symbol.for('weft.class-location-probe')]` });
    const objectId = evaluated.result.objectId;
    if (!objectId) return undefined;
    const props = post<{ internalProperties?: Array<{ name: string; value?: { value?: { scriptId: string } } }> }>(
      session, 'Runtime.getProperties', { objectId, ownProperties: true });
    const scriptId = props.internalProperties?.find((p) => p.name === '[[FunctionLocation]]')?.value?.value?.scriptId;
    if (!scriptId) return undefined;
    // Script URLs are only told by the debugger, which replays every script parsed so far.
    const urls = new Map<string, string>();
    session.on('Debugger.scriptParsed', (message: { params: { scriptId: string; url: string } }) => {
      urls.set(message.params.scriptId, message.params.url);
    });
    post(session, 'Debugger.enable', {});
    post(session, 'Debugger.disable', {});
    const url = urls.get(scriptId);
    if (!url) return undefined;
    const file = url.startsWith('file://') ? fileURLToPath(url) : path.resolve(url);
    cache.set(cls, file);
    return file;
  } finally {
    delete g[PROBE];
    session.disconnect();
  }
}
