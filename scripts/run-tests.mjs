// npm test's runner: the unit suites (node:test, out/test/*.test.js), then the end-to-end suites
// in a real VS Code (code-server + Chromium, installed by scripts/e2e/setup.sh): in the extension
// host with a trusted and an untrusted workspace, and through the UI with screenshots kept in
// .e2e/artifacts, and each webview panel's page alone in Chromium. Files named on the command line run alone (unit tests only).
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const dir = 'out/test';
const named = process.argv.slice(2);
const files = named.length ? named : readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort().map((f) => `${dir}/${f}`);
const counts = { passed: 0, failed: 0 };

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 2 ** 20, ...opts });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  return r;
}

// A failing test that leaves a timer or worker behind must not hold the run open: force the exit
// when the tests are done, and give up on any one test after 10 minutes.
const unit = run(process.execPath, ['--test', '--test-concurrency=1', '--test-force-exit', '--test-timeout=600000', ...files]);
counts.passed += Number(/^# pass (\d+)/m.exec(unit.stdout)?.[1] ?? 0);
counts.failed += Number(/^# fail (\d+)/m.exec(unit.stdout)?.[1] ?? 0) + (unit.status === 0 ? 0 : 1) * Number(!/^# fail [1-9]/m.test(unit.stdout));

if (!named.length) {
  const e2e = [
    ['in the extension host (trusted workspace)', ['scripts/e2e/run.mjs', 'out/test/e2e/index.js'], { E2E_GREP: '^(extension|smoke):' }],
    ['in the extension host (untrusted workspace)', ['scripts/e2e/run.mjs', '--trust', 'out/test/e2e/index.js'], { E2E_GREP: '^untrusted:' }],
    ['through the UI, with screenshots', ['test/e2e/ui-screenshots.mjs'], {}],
    ['model families through the UI (RoBERTa, DistilBERT)', ['test/e2e/family-ui.mjs'], {}],
    // Each panel's page alone in Chromium, fed host messages (test/pages/*.page.mjs).
    ...readdirSync('test/pages').filter((f) => f.endsWith('.page.mjs')).sort().map((f) => [`page ${f}`, [`test/pages/${f}`], {}]),
  ];
  // setup.sh installs code-server with its own Node 24: hide npm's variables of this (Node 20)
  // npm run, or code-server's install scripts find Node 20 through them.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE' && k !== 'INIT_CWD'));
  const setup = run('bash', ['scripts/e2e/setup.sh'], { env: clean });
  if (setup.status !== 0) { console.log('not ok - end-to-end setup failed (scripts/e2e/setup.sh)'); counts.failed++; }
  else {
    for (const [what, args, env] of e2e) {
      console.log(`# end-to-end ${what}`);
      const r = run(process.execPath, args, { env: { ...process.env, ...env } });
      const m = /^(\d+) passed, (\d+) failed$/m.exec(r.stdout);
      counts.passed += Number(m?.[1] ?? 0);
      counts.failed += Number(m?.[2] ?? 0) + (r.status === 0 ? 0 : Number(!m || m[2] === '0'));
    }
  }
}
console.log(`total: ${counts.passed} passed, ${counts.failed} failed`);
process.exitCode = counts.failed ? 1 : 0;
