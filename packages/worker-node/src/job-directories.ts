/**
 * Where each job's code is on this node. The embedded job's is the driver's working directory.
 * A cluster job's is its packed working directory, fetched from the head and unpacked once into
 * `<sessionDir>/jobs/<jobId>`, with a `node_modules` link to this node's own installation so that
 * the job's modules import @weft/core (and what this node has installed) from there. This package
 * does not depend on @weft/core (core depends on it): the installation is found at run time, as
 * the nearest `node_modules` above this file that holds @weft/core, the way Node resolves it.
 */
import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isId, logger, unpackDirectory } from '@weft/protocol';
import { checkId, folderFor } from './safe-path.ts';

export class JobDirectories {
  readonly #dirs = new Map<string, Promise<string>>();
  /** The directories installed so far (what a new worker is told at once). */
  readonly #ready = new Map<string, string>();
  readonly #log = logger('job-directories');

  constructor(
    private readonly sessionDir: string | undefined,
    private readonly fetchPackage: (jobId: string) => Promise<Uint8Array>,
    private readonly announce: (jobId: string, dir: string) => void,
  ) {}

  /** Record a job whose code is already in place (the embedded driver's). */
  set(jobId: string, dir: string): void {
    this.#dirs.set(jobId, Promise.resolve(dir));
    this.#ready.set(jobId, dir);
    this.announce(jobId, dir);
  }

  /** Packages uploaded through this node, kept to give a restarted head again. */
  readonly uploaded = new Map<string, Uint8Array>();

  /** Unpack a package received directly (the driver attached to this node uploaded it). */
  async install(jobId: string, data: Uint8Array): Promise<string> {
    // Not kept for a restarted head when refused (its put-package would be refused in turn).
    if (isId(jobId)) this.uploaded.set(jobId, data);
    const installing = this.#unpack(jobId, data);
    this.#dirs.set(jobId, installing);
    return installing;
  }

  /** The job's directory, fetching and unpacking its package on first use. */
  ensure(jobId: string): Promise<string> {
    let dir = this.#dirs.get(jobId);
    if (!dir) {
      try {
        checkId(jobId, 'job'); // before asking the head for it
      } catch (error) {
        return Promise.reject(error);
      }
      dir = this.fetchPackage(jobId).then((data) => this.#unpack(jobId, data));
      this.#dirs.set(jobId, dir);
      dir.catch(() => this.#dirs.delete(jobId)); // a later task may try again
    }
    return dir;
  }

  /** The job is over: its package need not be kept. */
  finished(jobId: string): void {
    this.uploaded.delete(jobId);
  }

  /** Every job directory installed now (for a new worker). */
  known(): Array<[string, string]> {
    return [...this.#ready.entries()];
  }

  async #unpack(jobId: string, data: Uint8Array): Promise<string> {
    if (!this.sessionDir) throw new Error('this node has no session directory to unpack job code into');
    const dir = folderFor(path.join(this.sessionDir, 'jobs'), jobId, 'job');
    await mkdir(path.dirname(dir), { recursive: true });
    await unpackDirectory(data, dir);
    await this.#linkModules(dir);
    this.#log.info({ jobId, dir }, 'job code unpacked');
    this.#ready.set(jobId, dir);
    this.announce(jobId, dir);
    return dir;
  }

  /** Link the node's node_modules (the one that holds @weft/core) into the job directory. */
  async #linkModules(dir: string): Promise<void> {
    const modules = jobModulesDir();
    if (!modules) {
      throw new Error(`no node_modules above ${fileURLToPath(import.meta.url)} holds @weft/core, which job code imports: `
        + 'install @weft/core (or @weft/cli) beside @weft/worker-node on this node');
    }
    try {
      await symlink(modules, path.join(dir, 'node_modules'), 'dir');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/**
 * The `node_modules` that job folders link to: the nearest one above this installation that holds
 * @weft/core (undefined when none does). The head links it into submitted jobs' folders too.
 */
export function jobModulesDir(): string | undefined {
  return modulesHolding('@weft/core', path.dirname(fileURLToPath(import.meta.url)));
}

/** The nearest `node_modules` at or above `from` that holds `name`, as Node's resolution looks for it. */
export function modulesHolding(name: string, from: string): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const modules = path.basename(dir) === 'node_modules' ? undefined : path.join(dir, 'node_modules');
    if (modules && existsSync(path.join(modules, name, 'package.json'))) return modules;
    if (path.dirname(dir) === dir) return undefined;
  }
}
