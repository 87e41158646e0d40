/**
 * Child processes of the bench: spawned directly with `node` (no npx/tsx wrapper process), so the
 * pid we sample is the process doing the work, and every one is registered so that it is killed
 * when the bench ends, however it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

const live = new Set<BenchChild>();

export interface SpawnOptions {
  name: string;
  args: readonly string[];
  env?: Record<string, string>;
  cwd: string;
  /** stdout/stderr are appended here (the bench's own stdout is for results only). */
  logFile: string;
  /** Called per stdout line instead of logging it. */
  onStdoutLine?: (line: string) => void;
}

export class BenchChild {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly spawnedAtMs: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private rssTimer: NodeJS.Timeout | null = null;
  private peakKb = 0;

  constructor(readonly opts: SpawnOptions) {
    const log = createWriteStream(opts.logFile, { flags: 'a' });
    this.proc = spawn(process.execPath, [...opts.args], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.proc.pid === undefined) throw new Error(`${opts.name}: spawn failed`);
    this.pid = this.proc.pid;
    this.spawnedAtMs = Date.now();
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        this.stopRssSampling();
        resolve({ code, signal });
      });
    });
    this.proc.stderr?.pipe(log);
    if (opts.onStdoutLine) {
      let buf = '';
      this.proc.stdout?.setEncoding('utf8');
      this.proc.stdout?.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.length > 0) opts.onStdoutLine!(line);
        }
      });
    } else {
      this.proc.stdout?.pipe(log);
    }
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  /**
   * Peak resident set size, from the kernel's own high-water mark (VmHWM in /proc/<pid>/status,
   * proc(5)), read every `everyMs` so the last value before exit is kept. VmHWM already is the
   * peak since exec, so sampling frequency does not decide what is caught.
   */
  startRssSampling(everyMs = 100): void {
    this.sampleRss();
    this.rssTimer = setInterval(() => this.sampleRss(), everyMs);
  }

  private sampleRss(): void {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const m = /^VmHWM:\s+(\d+) kB$/m.exec(status);
      if (m) this.peakKb = Math.max(this.peakKb, Number(m[1]));
    } catch {
      // The process has exited between the check and the read; the last sample stands.
    }
  }

  private stopRssSampling(): void {
    if (this.rssTimer) clearInterval(this.rssTimer);
    this.rssTimer = null;
  }

  /** Peak RSS in MB (10^6 bytes) so far. */
  peakRssMb(): number {
    this.sampleRss();
    return Math.round((this.peakKb * 1024) / 1e4) / 100;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves when the process is gone. */
  async stop(graceMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.exitInfo) return this.exitInfo;
    this.sampleRss();
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }
}

/** Kills every child still running (SIGKILL: used on the way out, when waiting is not an option). */
export function killAllChildren(): void {
  for (const c of live) {
    try {
      c.proc.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

let hooked = false;
/** Makes sure no child outlives the bench: normal exit, error, Ctrl-C or SIGTERM. */
export function killChildrenOnExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAllChildren);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAllChildren();
      process.exit(130);
    });
  }
}

export function tailOf(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
