/**
 * The command line's surface: parsing (node:util parseArgs), --version, --help of each command,
 * usage errors (exit 2) that name the flag, the value and the allowed range, runtime errors
 * (exit 1), the configuration warnings `train` prints, and predict's table against its --json
 * lines. Most cases call main(argv, io) in this process; a few spawn the bundle (dist/cli.js) to
 * check what a shell sees.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Io, formatNumber, main } from '../src/engine/cli.js';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const MLM = join(ROOT, 'test', 'fixtures', 'hf-tiny-bert');
const CLS = join(ROOT, 'test', 'fixtures', 'hf-tiny-bert-cls');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** main() in this process, with its output captured. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const io: Io = { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, tty: false, exit: (c) => { throw new Error(`exit(${c}) called`); } };
  const code = await main(argv, io);
  return { code, out, err };
}
/** The bundle in a child process, as a shell runs it. */
function spawnCli(...argv: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...argv], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'bertlab-cli-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

/** Each command's flags, as the issue asks for them (the help must list these, the parser accept them). */
const FLAGS: Record<string, string[]> = {
  train: ['--resume', '--device', '--threads', '--skip-memory-check', '--offline', '--help'],
  eval: ['--data', '--batch-size', '--max-seq-length', '--ignore-unknown-labels', '--device', '--threads', '--json', '--revision', '--offline', '--help'],
  predict: ['--text', '--file', '--top-k', '--device', '--threads', '--json', '--revision', '--offline', '--help'],
  export: ['--no-int8', '--revision', '--offline', '--help'],
  download: ['--revision', '--offline', '--help'],
  cache: ['--json', '--help'],
};

describe('bert-lab --version and help', { timeout: 120_000 }, () => {
  it('--version prints the version of package.json (main and the bundle)', async () => {
    const r = await run('--version');
    assert.equal(r.code, 0);
    assert.equal(r.out.trim(), VERSION);
    const s = spawnCli('--version');
    assert.equal(s.code, 0, s.err);
    assert.equal(s.out.trim(), VERSION);
  });

  for (const [cmd, flags] of Object.entries(FLAGS)) {
    it(`${cmd} --help and help ${cmd} list every flag of ${cmd}, each with a description`, async () => {
      const a = await run(cmd, '--help'), b = await run('help', cmd), c = await run(cmd, '-h');
      for (const r of [a, b, c]) assert.equal(r.code, 0, r.err);
      assert.equal(a.out, b.out);
      assert.equal(a.out, c.out);
      assert.match(a.out, new RegExp(`^usage: bert-lab ${cmd} `));
      const listed = [...a.out.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)(?: \S+)?\s{2,}(\S.*)$/gm)].map((m) => ({ flag: m[1]!, help: m[2]! }));
      assert.deepEqual(listed.map((l) => l.flag).sort(), [...flags].sort(), `${cmd} --help lists exactly its flags`);
      for (const l of listed) assert.ok(l.help.length >= 8, `${cmd} ${l.flag} has a one-line description: "${l.help}"`);
    });
  }

  it('the general usage names every command, the exit statuses and the interrupt codes; no arguments is a usage error', async () => {
    const h = await run('--help');
    assert.equal(h.code, 0);
    for (const cmd of Object.keys(FLAGS)) assert.match(h.out, new RegExp(`bert-lab ${cmd} `));
    assert.match(h.out, /2 a wrong command line/);
    assert.match(h.out, /130 after Ctrl-C \(SIGINT\), 143 after SIGTERM/);
    const none = await run();
    assert.equal(none.code, 2);
    assert.equal(none.out, '');
    assert.match(none.err, /^usage:/);
    const help = await run('help', 'trian');
    assert.equal(help.code, 2);
    assert.match(help.err, /no command "trian" \(did you mean train\?\)/);
  });
});

describe('usage errors exit 2 and name the flag, the value and the allowed range', { timeout: 120_000 }, () => {
  const cases: [string[], RegExp][] = [
    [['predict', MLM, '--text', 'a [MASK]', '--top-k', 'abc'], /^bert-lab predict: --top-k "abc" is not an integer \(allowed: 1 to 1000\)/],
    [['predict', MLM, '--text', 'a [MASK]', '--top-k', '0'], /^bert-lab predict: --top-k 0 is out of range \(allowed: 1 to 1000\)/],
    [['predict', MLM, '--text', 'a [MASK]', '--top-k', '1001'], /^bert-lab predict: --top-k 1001 is out of range \(allowed: 1 to 1000\)/],
    [['predict', MLM, '--text', 'a [MASK]', '--top-k=2.5'], /^bert-lab predict: --top-k "2.5" is not an integer \(allowed: 1 to 1000\)/],
    [['predict', MLM, '--text', 'a [MASK]', '--threads', 'abc'], /^bert-lab predict: --threads "abc" is not an integer \(allowed: 0 to 1024\)/],
    [['train', 'x.json', '--threads', 'abc'], /^bert-lab train: --threads "abc" is not an integer \(allowed: 0 to 1024\)/],
    [['train', 'x.json', '--threads', '-1'], /^bert-lab train: --threads -1 is out of range \(allowed: 0 to 1024\)/],
    [['eval', CLS, '--data', 'd.jsonl', '--batch-size', '-1'], /^bert-lab eval: --batch-size -1 is out of range \(allowed: 1 or more\)/],
    [['eval', CLS, '--data', 'd.jsonl', '--batch-size', '0'], /^bert-lab eval: --batch-size 0 is out of range \(allowed: 1 or more\)/],
    [['eval', CLS, '--data', 'd.jsonl', '--max-seq-length', 'long'], /^bert-lab eval: --max-seq-length "long" is not an integer \(allowed: 8 or more\)/],
    [['eval', CLS, '--data', 'd.jsonl', '--max-seq-length', '4'], /^bert-lab eval: --max-seq-length 4 is out of range \(allowed: 8 or more\)/],
    [['eval', CLS, '--dat', 'd.jsonl'], /^bert-lab eval: unknown flag --dat \(did you mean --data\?\)/],
    [['eval', CLS, '--batchsize', '4', '--data', 'd.jsonl'], /^bert-lab eval: unknown flag --batchsize \(did you mean --batch-size\?\)/],
    [['train', 'x.json', '--resum'], /^bert-lab train: unknown flag --resum \(did you mean --resume\?\)/],
    [['predict', MLM, '--text', 'a', '--topk', '3'], /^bert-lab predict: unknown flag --topk \(did you mean --top-k\?\)/],
    [['export', MLM, 'out', '--zzzzzzzz'], /^bert-lab export: unknown flag --zzzzzzzz; see bert-lab export --help$/m],
    [['train', 'x.json', '--device', 'gpu'], /^bert-lab train: --device "gpu" is not one of auto, cpu, cuda, webgpu/],
    [['eval', CLS, '--data', 'd.jsonl', '--device', 'tpu'], /^bert-lab eval: --device "tpu" is not one of auto, cpu, cuda, webgpu/],
    [['predict', MLM, '--text', 'a', '--device', 'CUDA'], /^bert-lab predict: --device "CUDA" is not one of auto, cpu, cuda, webgpu \(did you mean cuda\?\)/],
    [['predict', MLM, '--text'], /^bert-lab predict: --text needs a value/],
    [['eval', CLS, '--data', '--json'], /^bert-lab eval: --data needs a value \(--data <file>\), not the flag --json/],
    [['train', 'x.json', '--resume=yes'], /^bert-lab train: --resume takes no value \(got "yes"\)/],
    [['predict', MLM, '--text', 'a', '--json', '--json'], /^bert-lab predict: --json is given more than once/],
    [['eval', CLS], /^bert-lab eval: missing --data <file>/],
    [['predict', MLM], /^bert-lab predict: missing the inputs: give --text "…" or --file <file>/],
    [['train'], /^bert-lab train: missing <config\.json\|yaml>/],
    [['export', MLM], /^bert-lab export: missing <out-dir>/],
    [['train', 'a.json', 'b.json'], /^bert-lab train: unexpected argument "b\.json"/],
  ];
  for (const [argv, message] of cases) {
    it(argv.slice(0, 1).concat(argv.slice(2)).join(' '), async () => {
      const r = await run(...argv);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
      assert.match(r.err, /; see bert-lab \w+ --help\n$/);
      assert.equal(r.out, '');
    });
  }
  it('an unknown command or top-level flag prints the usage and exits 2', async () => {
    const a = await run('trian', 'x.json');
    assert.equal(a.code, 2);
    assert.match(a.err, /^bert-lab: unknown command "trian" \(did you mean train\?\)\nusage:/);
    const b = await run('--verison');
    assert.equal(b.code, 2);
    assert.match(b.err, /^bert-lab: unknown flag --verison/);
  });
  it('the bundle exits 2 for a usage error and 1 for a runtime error, as a shell sees them', () => {
    const u = spawnCli('predict', MLM, '--text', 'the [MASK]', '--top-k', 'abc');
    assert.equal(u.code, 2, u.err);
    assert.match(u.err, /--top-k "abc" is not an integer \(allowed: 1 to 1000\)/);
    const r = spawnCli('train', join(dir, 'no-such-config.json'));
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /^bert-lab train: .*no-such-config\.json: no such configuration file/);
  });
});

describe('model folders on the command line', { timeout: 120_000 }, () => {
  it('a folder that does not exist: "no such folder", exit 1 (predict, eval, export)', async () => {
    const missing = join(dir, 'nowhere');
    for (const argv of [['predict', missing, '--text', 'a [MASK]'], ['eval', missing, '--data', join(dir, 'd.txt')], ['export', missing, join(dir, 'o')]]) {
      const r = await run(...argv);
      assert.equal(r.code, 1, `${argv[0]}: ${r.err}`);
      assert.match(r.err, new RegExp(`^bert-lab ${argv[0]}: the checkpoint ".*nowhere": no such folder`));
    }
  });
  it('a Hub id is looked up in the Hugging Face cache; offline and not there: exit 1, naming the id, the revision and the cache folder', async () => {
    const cache = join(dir, 'empty-hf-cache');
    const was = process.env['HF_HUB_CACHE'];
    process.env['HF_HUB_CACHE'] = cache;
    try {
      const r = await run('predict', 'google-bert/bert-base-uncased', '--text', 'a [MASK]', '--offline');
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /^bert-lab predict: google-bert\/bert-base-uncased \(revision "main"\) is not in the Hugging Face cache and the offline option is set/);
      assert.ok(r.err.includes(cache), r.err);
    } finally {
      if (was === undefined) delete process.env['HF_HUB_CACHE']; else process.env['HF_HUB_CACHE'] = was;
    }
  });
  it('a file instead of a folder is named as such', async () => {
    const r = await run('predict', join(MLM, 'config.json'), '--text', 'a [MASK]');
    assert.equal(r.code, 1);
    assert.match(r.err, /is a file, not a folder/);
  });
  it('--top-k above the checkpoint\'s vocabulary is a usage error', async () => {
    const r = await run('predict', MLM, '--text', 'the [MASK]', '--top-k', '999');
    const vocab = (JSON.parse(readFileSync(join(MLM, 'config.json'), 'utf8')) as { vocab_size: number }).vocab_size;
    assert.ok(vocab < 999, 'the fixture\'s vocabulary is smaller than 999');
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, new RegExp(`--top-k 999 is out of range \\(allowed: 1 to ${vocab}, the checkpoint's vocabulary\\)`));
  });
});

describe('train prints the configuration checker\'s warnings', { timeout: 120_000 }, () => {
  it('report_to, fp16 and eval_steps without eval_strategy: "warning: file:line:col: …", and the run goes on', () => {
    writeFileSync(join(dir, 'corpus.txt'), Array.from({ length: 80 }, (_, i) => `the state of the union is strong and line ${i} says so`).join('\n'));
    const lines = [
      '{',
      '  "task": "mlm", "train_file": "corpus.txt", "output_dir": "warned", "device": "cpu", "threads": 1,',
      '  "train_tokenizer": { "vocab_size": 120 },',
      '  "model_config": { "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 32 },',
      '  "max_seq_length": 32, "per_device_train_batch_size": 4, "max_steps": 2, "save_steps": 2,',
      '  "report_to": "wandb",',
      '  "fp16": true, "logging_dir": "logs",',
      '  "eval_steps": 2',
      '}',
    ];
    writeFileSync(join(dir, 'warned.json'), `${lines.join('\n')}\n`);
    const at = (key: string) => { const i = lines.findIndex((l) => l.includes(`"${key}"`)); return `${i + 1}:${lines[i]!.indexOf(`"${key}"`) + 1}`; };
    const r = spawnCli('train', 'warned.json');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`^warning: warned\\.json:${at('report_to')}: report_to .*ignored`, 'm'));
    assert.match(r.err, new RegExp(`^warning: warned\\.json:${at('fp16')}: fp16 .*ignored`, 'm'));
    assert.match(r.err, new RegExp(`^warning: warned\\.json:${at('logging_dir')}: logging_dir `, 'm'));
    assert.match(r.err, new RegExp(`^warning: warned\\.json:${at('eval_steps')}: eval_steps .*eval_strategy`, 'm'));
    assert.match(r.err, /^completed at step 2/m);
  });
});

/** predict's table: per input the text, then per mask a header and rows "rank  token  score". */
function parseTable(out: string): { text: string; groups: { header: string; rows: { token: string; score: number }[] }[] }[] {
  return out.replace(/\n$/, '').split('\n\n').map((block) => {
    const [text, ...rest] = block.split('\n');
    const groups: { header: string; rows: { token: string; score: number }[] }[] = [];
    for (const line of rest) {
      const row = /^ {4}\s*(\d+) {2}(.*?) +(-?[\d.]+(?:e[-+]\d+)?)$/.exec(line);
      if (row) {
        if (!groups.length) groups.push({ header: '', rows: [] });
        groups.at(-1)!.rows.push({ token: row[2]!, score: Number(row[3]) });
        assert.equal(Number(row[1]), groups.at(-1)!.rows.length, `ranks count up: ${line}`);
      } else {
        assert.match(line, /^ {2}\S.*:$/, `a mask header: ${line}`);
        groups.push({ header: line.trim(), rows: [] });
      }
    }
    return { text: text!, groups };
  });
}

describe('predict: a readable table by default, one JSON line per input with --json', { timeout: 120_000 }, () => {
  const texts = ['The state of the [MASK] is strong.', 'the [MASK] of the [MASK] and the people'];
  it('fill-mask on the masked-LM fixture: the table and --json agree on tokens, order and scores', () => {
    const args = ['predict', MLM, '--text', texts[0]!, '--text', texts[1]!, '--top-k', '4'];
    const t = spawnCli(...args), j = spawnCli(...args, '--json');
    assert.equal(t.code, 0, t.err);
    assert.equal(j.code, 0, j.err);
    const json = j.out.trim().split('\n').map((l) => JSON.parse(l) as { text: string; masks: { offset: [number, number]; predictions: { token: string; score: number }[] }[] });
    assert.deepEqual(json.map((x) => x.text), texts);
    const table = parseTable(t.out);
    assert.deepEqual(table.map((x) => x.text), texts);
    for (let i = 0; i < texts.length; i++) {
      assert.equal(table[i]!.groups.length, json[i]!.masks.length, `input ${i}: one group per mask`);
      json[i]!.masks.forEach((m, k) => {
        const g = table[i]!.groups[k]!;
        assert.match(g.header, new RegExp(`\\(characters ${m.offset[0]}-${m.offset[1]}\\):$`));
        assert.equal(g.rows.length, 4);
        assert.deepEqual(g.rows.map((r) => r.token), m.predictions.map((p) => p.token));
        g.rows.forEach((r, n) => assert.ok(Math.abs(r.score - m.predictions[n]!.score) <= 5e-5, `${r.token}: ${r.score} vs ${m.predictions[n]!.score}`));
        // The scores are probabilities, sorted, and not all equal (a real model answered).
        assert.ok(m.predictions.every((p, n) => p.score > 0 && p.score < 1 && (n === 0 || p.score <= m.predictions[n - 1]!.score)));
      });
    }
    assert.equal(table[1]!.groups.length, 2);
    assert.match(table[1]!.groups[1]!.header, /^\[MASK\] 2 of 2 /);
    // Aligned: within a group every score ends in the same column.
    for (const block of t.out.split('\n\n')) {
      const ends = block.split('\n').filter((l) => /^ {4}/.test(l)).map((l) => l.length);
      assert.ok(ends.length > 0);
      assert.equal(new Set(ends.slice(0, 4)).size, 1, `scores aligned in:\n${block}`);
    }
  });
  it('a classifier: every label with its score, in the table and in --json', () => {
    const args = ['predict', CLS, '--text', 'what a wonderful film'];
    const t = spawnCli(...args), j = spawnCli(...args, '--json');
    assert.equal(t.code, 0, t.err);
    assert.equal(j.code, 0, j.err);
    const json = JSON.parse(j.out.trim()) as { labels: { label: string; score: number }[] };
    const [table] = parseTable(t.out);
    assert.equal(table!.text, 'what a wonderful film');
    const rows = table!.groups[0]!.rows;
    assert.deepEqual(rows.map((r) => r.token), json.labels.map((l) => l.label));
    assert.deepEqual(rows.map((r) => r.token).sort(), ['neg', 'neu', 'pos']);
    rows.forEach((r, n) => assert.ok(Math.abs(r.score - json.labels[n]!.score) <= 5e-5));
    assert.ok(Math.abs(json.labels.reduce((a, l) => a + l.score, 0) - 1) < 1e-5, 'softmax scores sum to 1');
  });
  it('--file reads one input per line; a text without a mask warns on stderr', async () => {
    writeFileSync(join(dir, 'inputs.txt'), 'the [MASK] is here\nno mask at all\n');
    const r = await run('predict', MLM, '--file', join(dir, 'inputs.txt'), '--top-k', '2', '--json');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as { text: string; masks: unknown[]; warnings: string[] });
    assert.deepEqual(lines.map((l) => [l.text, l.masks.length]), [['the [MASK] is here', 1], ['no mask at all', 0]]);
    const t = await run('predict', MLM, '--file', join(dir, 'inputs.txt'), '--top-k', '2');
    assert.equal(t.code, 0, t.err);
    assert.match(t.err, /^warning: "no mask at all": no \[MASK\] in the text$/m);
    assert.deepEqual(parseTable(t.out).map((x) => [x.text, x.groups.length]), [['the [MASK] is here', 1], ['no mask at all', 0]]);
  });
});

describe('eval: a table of metrics by default, one JSON line with --json', { timeout: 120_000 }, () => {
  it('the classifier fixture on a labelled file; unknown labels refused (exit 1), or skipped and counted', async () => {
    const data = join(dir, 'reviews.jsonl');
    writeFileSync(data, ['{"text":"a great film","label":"pos"}', '{"text":"dull and slow","label":"neg"}', '{"text":"it was fine","label":"neu"}', '{"text":"???","label":"meh"}'].join('\n'));
    const refused = await run('eval', CLS, '--data', data, '--device', 'cpu');
    assert.equal(refused.code, 1);
    assert.match(refused.err, /"meh"/);
    assert.match(refused.err, /--ignore-unknown-labels/);
    const j = await run('eval', CLS, '--data', data, '--device', 'cpu', '--ignore-unknown-labels', '--json');
    assert.equal(j.code, 0, j.err);
    const out = JSON.parse(j.out) as { metrics: Record<string, number>; examples: number; skipped: number };
    assert.equal(j.out.trim().split('\n').length, 1);
    assert.equal(out.examples, 3);
    assert.equal(out.skipped, 1);
    assert.match(j.err, /skipped 1 /);
    for (const k of ['eval_loss', 'eval_accuracy']) assert.equal(typeof out.metrics[k], 'number', k);
    const t = await run('eval', CLS, '--data', data, '--device', 'cpu', '--ignore-unknown-labels');
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /: 3 examples \(1 skipped\)\n/);
    for (const [k, x] of Object.entries(out.metrics)) assert.match(t.out, new RegExp(`^ {2}${k} +${formatNumber(x).replace(/[.+]/g, '\\$&')}$`, 'm'));
  });
});
