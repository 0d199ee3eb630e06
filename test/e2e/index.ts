/**
 * In-extension-host test runner for the end-to-end suite (no mocha). scripts/e2e/run.mjs opens a
 * real VS Code workbench with extensionTestsPath = out/test/e2e/index.js; VS Code then calls run().
 *
 * Every `*.test.js` file in ./suite (compiled from test/e2e/suite/*.test.ts) is loaded in name
 * order, and every exported function in it is a test, run sequentially in declaration order:
 *
 *   export async function extensionActivates(): Promise<void> { ... }
 *
 * Output is TAP-like: `ok N - file: name` / `not ok N - file: name` (with the error), then a
 * `N passed, N failed` line; run() throws when a test failed, so the host exits with code 1.
 *
 * Environment (read in the extension host, which inherits code-server's environment):
 *   E2E_GREP             only tests whose "file: name" matches this regular expression
 *   E2E_TEST_TIMEOUT_MS  per-test limit (default 60000)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

type TestFn = () => unknown;

interface TestCase {
  name: string;
  fn: TestFn;
}

function collect(suiteDir: string): TestCase[] {
  const files = fs.readdirSync(suiteDir).filter((f) => f.endsWith('.test.js')).sort();
  // out/test/e2e/suite -> test/e2e/suite: tsc never deletes the output of a removed source, so a
  // compiled test whose .ts is gone is skipped (only when the source folder is there to compare).
  const sourceDir = path.resolve(suiteDir, '..', '..', '..', '..', 'test', 'e2e', 'suite');
  const tests: TestCase[] = [];
  for (const file of files) {
    if (fs.existsSync(sourceDir) && !fs.existsSync(path.join(sourceDir, file.replace(/\.js$/, '.ts')))) {
      console.log(`# skipping ${file}: no ${path.join(sourceDir, file.replace(/\.js$/, '.ts'))} (stale output)`);
      continue;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(suiteDir, file)) as Record<string, unknown>;
    const label = file.replace(/\.test\.js$/, '');
    for (const [key, value] of Object.entries(mod)) {
      if (typeof value === 'function') tests.push({ name: `${label}: ${key}`, fn: value as TestFn });
    }
  }
  return tests;
}

function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test "${name}" timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

function describe(err: unknown): string {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  return text.split('\n').map((l) => `  # ${l}`).join('\n');
}

export async function run(): Promise<void> {
  const grep = process.env.E2E_GREP ? new RegExp(process.env.E2E_GREP) : undefined;
  const timeoutMs = Number(process.env.E2E_TEST_TIMEOUT_MS) > 0 ? Number(process.env.E2E_TEST_TIMEOUT_MS) : 60_000;
  const tests = collect(path.join(__dirname, 'suite')).filter((t) => !grep || grep.test(t.name));
  console.log(`1..${tests.length}`);
  let passed = 0;
  let failed = 0;
  for (const [i, t] of tests.entries()) {
    const start = Date.now();
    try {
      await withTimeout(Promise.resolve().then(t.fn), timeoutMs, t.name);
      passed++;
      console.log(`ok ${i + 1} - ${t.name} (${Date.now() - start} ms)`);
    } catch (err) {
      failed++;
      console.log(`not ok ${i + 1} - ${t.name} (${Date.now() - start} ms)\n${describe(err)}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (failed > 0) throw new Error(`${failed} of ${tests.length} e2e tests failed`);
  if (tests.length === 0) throw new Error(grep ? `no e2e test matches E2E_GREP=${grep.source}` : 'no e2e tests found');
}
