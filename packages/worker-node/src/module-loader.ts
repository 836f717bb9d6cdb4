/**
 * Imports task and actor modules in a worker, once each, and finds remote functions and actor
 * classes in them. A module that is also a driver script stops at its `init()` (see @weft/core's
 * init): what it defined above is registered, but its namespace is out of reach.
 */
import path from 'node:path';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  DRIVER_CODE_IN_WORKER, ERROR_CODES, SystemError, definitionsIn, findActorClass, lookupDefinition,
  type ActorClass, type FunctionDescriptor,
} from '@weft/core';

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

  /** Where a job's modules are (told by the node before the job's first task). */
  setJobDir(jobId: string, dir: string): void {
    this.#jobDirs.set(jobId, dir);
  }

  constructor(workingDir: string, state: WorkerStateLike) {
    this.#workingDir = workingDir;
    this.#state = state;
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
  async loadClass(cls: FunctionDescriptor, jobId: string): Promise<ActorClass> {
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
    const file = path.isAbsolute(module) ? module : path.resolve(this.#jobDirs.get(jobId) ?? this.#workingDir, module);
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
