// Tiny TAP-like reporting for the page checks (test/pages/*.page.mjs), read by scripts/run-tests.mjs:
// each check prints "ok - …" or "not ok - …", and finish() prints "N passed, M failed" and sets
// the exit code.
export function checker() {
  const counts = { passed: 0, failed: 0 };
  return {
    async check(what, fn) {
      try { await fn(); counts.passed++; console.log(`ok - ${what}`); }
      catch (e) { counts.failed++; console.log(`not ok - ${what}: ${(e?.stack ?? String(e)).split('\n').slice(0, 4).join(' | ')}`); }
    },
    finish() {
      console.log(`${counts.passed} passed, ${counts.failed} failed`);
      process.exitCode = counts.failed ? 1 : 0;
    },
  };
}
