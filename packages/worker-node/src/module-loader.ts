/**
 * Imports task and actor modules in a worker, once each, and finds remote functions and actor
 * classes in them. A module that is also a driver script stops at its `init()` (see @weft/core's
 * init): what it defined above is registered, but its namespace is out of reach.
 *
 * Module paths come in messages. A job that came over the network (its code unpacked into its
 * folder on this node) may only name files inside that folder, once symlinks are resolved: no
 * absolute path, no `..` or link leading out, so a message cannot make a worker import any file
 * of the node. Only the embedded driver's own job, whose code is this machine's, names modules
 * anywhere (absolute paths for modules outside its working directory).
 */
import path from 'node:path';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  ERROR_CODES, SystemError, type ActorConstructor, DRIVER_CODE_IN_WORKER, definitionsIn, findActorClass,
  lookupDefinition, type FunctionDescriptor,
} from '@weft/protocol';

type WorkerStateLike = { importing: boolean };

interface Loaded {
  /** The module's real path (the registry's key). */
  file: string;
  /** Its exports; absent when its evaluation stopped at init(). */
  namespace: Record<string, unknown> | undefined;
}

export class ModuleLoader {
  readonly #workingDir: string;
  readonly #state: WorkerStateLike;
  readonly #modules = new Map<string, Promise<Loaded>>();
  readonly #jobDirs = new Map<string, string>();
  /** The embedded driver's job; absent on a cluster node. */
  readonly #localJobId: string | undefined;
  /** Each job's modules by the path its messages give, checked once. */
  readonly #named = new Map<string, Promise<Loaded>>();

  /** Where a job's modules are (told by the node before the job's first task). */
  /** The folder of a job's code here; absent: the worker's working directory. */
  dirOf(jobId: string): string {
    return this.#jobDirs.get(jobId) ?? this.#workingDir;
  }

  setJobDir(jobId: string, dir: string): void {
    this.#jobDirs.set(jobId, dir);
  }

  /** @param localJobId the embedded driver's job, whose modules may be anywhere on this machine; absent on cluster nodes. */
  constructor(workingDir: string, state: WorkerStateLike, localJobId?: string) {
    this.#workingDir = workingDir;
    this.#state = state;
    this.#localJobId = localJobId;
  }

  /** The remote function a task names. */
  async loadFunction(fn: FunctionDescriptor, jobId: string): Promise<(...args: unknown[]) => unknown> {
    const { file } = await this.#load(fn.module, jobId);
    const found = lookupDefinition(file, fn.name);
    if (typeof found !== 'function') {
      const known = definitionsIn(file);
      throw new SystemError(`remote function ${fn.name} is not defined in ${fn.module} (found: ${known.join(', ') || 'none'}). `
        + 'Define remote functions at the top level of a module, above any await init() in that module.',
      ERROR_CODES.REMOTE_FUNCTION_NOT_FOUND);
    }
    return found as (...args: unknown[]) => unknown;
  }

  /** The actor class an actor names. */
  async loadClass(cls: FunctionDescriptor, jobId: string): Promise<ActorConstructor> {
    const { file, namespace } = await this.#load(cls.module, jobId);
    const found = findActorClass(file, namespace ?? {}, cls.name);
    if (!found) {
      const why = namespace ? `export it from ${cls.module}` : `${cls.module} is a driver script (it calls init()), so its exports are out of a worker's reach: move the class to a module of its own`;
      throw new SystemError(`actor class ${cls.name} was not found in ${cls.module}: ${why}, or decorate the class with @remote()`,
        ERROR_CODES.REMOTE_FUNCTION_NOT_FOUND);
    }
    return found;
  }

  #load(module: string, jobId: string): Promise<Loaded> {
    const key = `${jobId}\0${module}`;
    let named = this.#named.get(key);
    if (!named) {
      let file: string;
      try {
        file = this.#fileOf(module, jobId);
      } catch (error) {
        return Promise.reject(error); // not kept: the job's folder may be told later
      }
      named = this.#loadFile(file);
      this.#named.set(key, named);
    }
    return named;
  }

  /** The file `module` names for `jobId`; throws when a job from elsewhere names one outside its folder. */
  #fileOf(module: string, jobId: string): string {
    const dir = this.#jobDirs.get(jobId);
    if (jobId === this.#localJobId) return path.isAbsolute(module) ? module : path.resolve(dir ?? this.#workingDir, module);
    if (dir === undefined) {
      throw new SystemError(`job ${jobId} has no code on this node: its package was not installed here (was the job registered?)`,
        ERROR_CODES.REMOTE_FUNCTION_NOT_FOUND);
    }
    const outside = (): SystemError => new SystemError(`module ${module} is outside the folder of job ${jobId} (${dir}): a job sent to `
      + 'a node may only import modules of its working directory; move the module into the driver\'s working directory',
    ERROR_CODES.REMOTE_FUNCTION_NOT_FOUND);
    if (path.isAbsolute(module) || module.includes('\0')) throw outside();
    const file = path.resolve(dir, module);
    if (!isInside(dir, file)) throw outside();
    // Symlinks resolved before the check: a link inside the folder must not lead out of it.
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      return file; // missing: #import says so
    }
    if (!isInside(realpathSync(dir), real)) throw outside();
    return real;
  }

  #loadFile(file: string): Promise<Loaded> {
    let loading = this.#modules.get(file);
    if (!loading) {
      loading = this.#import(file);
      this.#modules.set(file, loading);
    }
    return loading;
  }

  async #import(file: string): Promise<Loaded> {
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      throw new SystemError(`cannot find module ${file} for a task: is the working directory right?`, ERROR_CODES.REMOTE_FUNCTION_NOT_FOUND);
    }
    this.#state.importing = true;
    try {
      const namespace = (await import(pathToFileURL(real).href)) as Record<string, unknown>;
      return { file: real, namespace };
    } catch (error) {
      // A driver script stops at its init(): what it defined above that is all a worker needs.
      if (error && typeof error === 'object' && DRIVER_CODE_IN_WORKER in error) return { file: real, namespace: undefined };
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new SystemError(`importing ${file} in a worker failed: ${message}`, ERROR_CODES.REMOTE_FUNCTION_NOT_FOUND);
    } finally {
      this.#state.importing = false;
    }
  }
}

/** Whether `file` is strictly inside the folder `dir` (both absolute). */
function isInside(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
