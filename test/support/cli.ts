/**
 * Runs the `innbyggertorg` CLI as a child process, the way an integrator does, and collects its
 * output. English messages, so tests can match them.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { ApiCliIo } from '../../cli/api-commands.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

export function runCli(args: readonly string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], { cwd: root, env: { ...process.env, ITORG_LANG: 'en' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/**
 * Runs CLI commands in this process, the way cli/main.ts wires them (`add(program, io)`), with
 * stdout, stderr and the exit code captured; a usage error's exit code comes from commander.
 */
export async function runCommandsInProcess(
  add: (program: Command, io: ApiCliIo) => void,
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; lang?: 'nb' | 'en'; now: number },
): Promise<{ code: number; stdout: string; stderr: string }> {
  let code = -1;
  let stdout = '';
  let stderr = '';
  const program = new Command('innbyggertorg');
  add(program, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env: opts.env ?? {},
    lang: () => opts.lang ?? 'en',
    setExit: (c) => (code = c),
    now: () => opts.now,
  });
  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = e.exitCode;
  }
  return { code, stdout, stderr };
}
