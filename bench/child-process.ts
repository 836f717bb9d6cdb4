/**
 * Child processes of `pnpm bench --cluster` (cluster processes, the ws floor's peers): spawned
 * with a pipe on stdin that they watch (so they end if the bench dies), awaited through a
 * readiness line on stdout (never a fixed sleep), and stopped by pid: SIGTERM, then SIGKILL
 * after a grace period. Their stderr is forwarded, prefixed with their name, since with the
 * default log level (warn) anything a healthy process writes there is a finding.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** How long a child may take to print its readiness line. */
const READY_TIMEOUT_MS = 60_000;
/** How long a child may take to exit after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 5_000;

/** A started child and the line it announced itself with. */
export class Child {
  readonly #proc: ChildProcess;
  readonly #exited: Promise<void>;
  #exitCode: number | null = null;
  #exitSignal: NodeJS.Signals | null = null;
  #stopping = false;
  #lines: string[] = [];
  #waiters: Array<() => void> = [];

  private constructor(readonly name: string, command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string) {
    this.#proc = spawn(command, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    this.#exited = new Promise((resolve) => {
      this.#proc.once("exit", (code, signal) => {
        this.#exitCode = code;
        this.#exitSignal = signal;
        if (!this.#stopping && code !== 0) console.error(`[${name}] exited unexpectedly (code ${String(code)}, signal ${String(signal)})`);
        resolve();
        this.#wake();
      });
    });
    // A spawn failure (ENOENT) comes as 'error' without 'exit'.
    this.#proc.once("error", (error) => {
      console.error(`[${name}] ${error.message}`);
      this.#exitCode ??= -1;
      this.#wake();
    });
    this.#proc.stdin?.on("error", () => {}); // EPIPE when the child is gone first
    createInterface({ input: this.#proc.stdout! }).on("line", (line) => {
      this.#lines.push(line);
      this.#wake();
    });
    createInterface({ input: this.#proc.stderr! }).on("line", (line) => console.error(`[${name}] ${line}`));
  }

  /** Spawns `command args` in `cwd` with `env` added to this process's environment. */
  static spawn(name: string, command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Child {
    return new Child(name, command, args, { ...process.env, ...options.env }, options.cwd);
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /**
   * The first stdout line that starts with `prefix` (the rest of it, trimmed); rejects if the
   * child exits first or stays silent for {@link READY_TIMEOUT_MS}.
   */
  async line(prefix: string, timeoutMs = READY_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.#lines.findIndex((l) => l.startsWith(prefix));
      if (found >= 0) {
        const [line] = this.#lines.splice(found, 1);
        return (line as string).slice(prefix.length).trim();
      }
      if (this.#exitCode !== null || this.#exitSignal !== null) {
        throw new Error(`${this.name} exited (code ${String(this.#exitCode)}, signal ${String(this.#exitSignal)}) before printing '${prefix}'`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name} did not print '${prefix}' within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Whether the child is still running. */
  get alive(): boolean {
    return this.#proc.pid !== undefined && this.#exitCode === null && this.#exitSignal === null;
  }

  /**
   * Sends `signal` to the child by its pid, on purpose (recovery: SIGKILL, SIGSTOP): its exit is
   * then expected, not reported. Resolves once it has exited when the signal ends it.
   */
  async signal(signal: "SIGKILL" | "SIGSTOP"): Promise<void> {
    this.#stopping = true;
    const pid = this.#proc.pid;
    if (!this.alive || pid === undefined) return;
    process.kill(pid, signal);
    if (signal === "SIGKILL") await this.#exited;
  }

  /**
   * Stops the child by its pid: SIGTERM, then SIGKILL if it has not exited after the grace
   * period. Resolves once it has exited; returns how it stopped, for the report.
   */
  async stop(): Promise<"exited" | "terminated" | "killed"> {
    this.#stopping = true;
    const pid = this.#proc.pid;
    if (!this.alive || pid === undefined) return "exited";
    this.#proc.stdin?.end();
    process.kill(pid, "SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const graceful = await Promise.race([
      this.#exited.then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), STOP_GRACE_MS); }),
    ]);
    clearTimeout(timer);
    if (graceful) return "terminated";
    console.error(`[${this.name}] still running ${STOP_GRACE_MS} ms after SIGTERM; sending SIGKILL to pid ${pid}`);
    if (this.alive) process.kill(pid, "SIGKILL");
    await this.#exited;
    return "killed";
  }
}

/**
 * Stops every child in `children`, one after the other in that order (each by its pid), never
 * throwing: for `finally` blocks.
 */
export async function stopAll(children: ReadonlyArray<Child | undefined>): Promise<void> {
  for (const child of children) {
    if (!child) continue;
    try {
      await child.stop();
    } catch (error) {
      console.error(`[${child.name}] stop failed: ${(error as Error).message}`);
    }
  }
}
