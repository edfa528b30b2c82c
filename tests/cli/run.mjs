// Runs the built package's CLI (build/pkg/dist/cli.js) as a user runs it: a child process, the
// secret or token in its environment.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { root } from '../js/harness.mjs';

const CLI = join(root, 'build/pkg/dist/cli.js');

/** Resolves { code, stdout, stderr }. */
export function cli(args, { env = {}, input } = {}) {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
    child.stdin.end(input);
  });
}
