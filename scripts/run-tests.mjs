// Runs the compiled node:test files (out/test/*.test.js), or those named on the command line.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
const dir = 'out/test';
const files = process.argv.slice(2).length ? process.argv.slice(2) : readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => `${dir}/${f}`);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
