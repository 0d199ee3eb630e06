/**
 * A time budget (max_time, as PyTorch Lightning's): its forms and the errors for bad ones; a run
 * that stops when the budget is spent, evaluations included, with a complete checkpoint and the
 * reason; the learning-rate schedule sized to the budget (its end falls where the budget does);
 * resuming with the time already spent and the schedule's estimate, bit-identically; the CLI's
 * line and exit status; the wizard's question. The trainer runs on a fake clock that advances a
 * fixed time per optimizer step, so every stop and estimate is computed by hand here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RECIPES } from '../src/engine/train/recipes.js';
import { checkTrainingConfig, parseTrainingConfig } from '../src/engine/train/config.js';
import { Trainer, TrainerOptions } from '../src/engine/train/trainer.js';
import { RESUME_FILES } from '../src/engine/train/checkpoint.js';
import { formatDuration, parseDuration } from '../src/engine/train/duration.js';
import { lrLambda } from '../src/engine/train/schedule.js';
import { RunLogRecord, parseRunLog, readTrainerState, timeBudgetOf } from '../src/engine/train/state.js';
import { readSafetensors } from '../src/engine/checkpoint/safetensors.js';
import { sotuLines } from './tiny-mlm.js';
import { Uri, settings, useVscodeStub, window as stubWindow, workspace as stubWorkspace } from './vscode-stub.js';

useVscodeStub();

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bertlab-max-time-'));
  writeFileSync(join(dir, 'sotu.txt'), sotuLines(40, 200).filter((_, i) => i % 8 === 0).map((l) => l.text).join('\n'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const TINY = { hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64 };
const LR = 3e-3;
const json = (over: Record<string, unknown>) => ({
  task: 'mlm', train_file: 'sotu.txt', train_tokenizer: { vocab_size: 1000 }, model_config: TINY, max_seq_length: 32,
  learning_rate: LR, per_device_train_batch_size: 8, logging_steps: 3, steps_per_run: 3, device: 'cpu', seed: 7, ...over,
});
const config = (over: Record<string, unknown>) => parseTrainingConfig(JSON.stringify(json(over)), join(dir, 'config.json'));

/**
 * A trainer on a fake clock: `perStep` ms per optimizer step, `firstCall` ms more in the first
 * onnxruntime call (as creating the session costs), `perEval` ms per evaluation. The clock
 * starts at 0 for each trainer, as a new process's would.
 */
async function timed(over: Record<string, unknown>, clock: { perStep?: number; firstCall?: number; perEval?: number } = {}, opts: TrainerOptions = {}) {
  const { perStep = 1000, firstCall = 0, perEval = 0 } = clock;
  let t = 0, steps = 0;
  const trainer = await Trainer.create(config(over), { ...opts, now: () => t });
  trainer.on((e) => {
    if (e.type === 'step') t += perStep + (steps++ === 0 ? firstCall : 0);
    else if (e.type === 'eval') t += perEval;
  });
  return trainer;
}
const records = (out: string): RunLogRecord[] => parseRunLog(readFileSync(join(out, 'run_log.jsonl'), 'utf8'), 'run_log.jsonl').records;
const stepLrs = (out: string) => new Map(records(out).flatMap((r) => (r.type === 'step' ? [[r.step, r.learning_rate] as const] : [])));
const history = (folder: string) => readTrainerState(join(folder, 'trainer_state.json')).log_history.filter((e) => !('train_runtime' in e));

describe('max_time: its forms', () => {
  it('reads durations as Lightning and people write them, and seconds', () => {
    const cases: [string | number, number][] = [
      ['10m', 600], ['1h30m', 5400], ['90s', 90], ['1.5h', 5400], ['2d', 172800], ['1h 30m', 5400], ['1d2h3m4s', 93784], ['0.5s', 0.5],
      ['00:10:00', 600], ['1:30:00', 5400], ['1:00:00:00', 86400], ['0:00:01:30', 90], [45, 45], [0.25, 0.25],
    ];
    for (const [v, s] of cases) assert.equal(parseDuration(v), s, JSON.stringify(v));
    for (const bad of ['10', '10x', '', 'm', '30m1h', '1h-30m', '-5m', '1:60:00', '00:10', '10 minutes', 'h1']) assert.equal(parseDuration(bad), undefined, bad);
    assert.deepEqual([600, 5400, 90, 3600, 0.5, 86405].map(formatDuration), ['10m', '1h30m', '1m30s', '1h', '0.5s', '1d5s']);
    for (const x of [600, 5400, 90, 0.5, 86405, 3723.25]) assert.equal(parseDuration(formatDuration(x)), x, `${x} → ${formatDuration(x)}`);
  });

  it('a bad value is an error at its line and column that names the value and shows the valid forms', () => {
    for (const [v, what] of [['"10x"', '"10x"'], ['"10"', '"10"'], ['""', '""'], ['0', '0'], ['-5', '-5'], ['true', 'true'], ['"0m"', '"0m"'], ['"00:00:00"', '"00:00:00"']] as const) {
      const text = `{\n  "output_dir": "out", "task": "mlm", "train_file": "t.txt", "model_config": {}, "tokenizer_name": "tok",\n  "max_time": ${v}\n}\n`;
      const { config: c, diagnostics } = checkTrainingConfig(text, join(dir, 'bad.json'));
      assert.equal(c, undefined, v);
      const d = diagnostics.find((x) => x.field === 'max_time');
      assert.ok(d, `${v}: ${JSON.stringify(diagnostics)}`);
      assert.deepEqual([d.line, d.column, d.severity], [3, 3, 'error'], v);
      assert.ok(d.message.startsWith(`max_time is ${what}`), d.message);
      for (const form of ['"10m"', '"1h30m"', '"90s"', '"00:10:00"', 'seconds']) assert.ok(d.message.includes(form), `${form} in: ${d.message}`);
    }
  });

  it('with neither max_steps nor num_train_epochs only the budget ends the run; either one still limits it', () => {
    assert.equal(config({ output_dir: 'a', max_time: '10m' }).num_train_epochs, undefined);
    assert.equal(config({ output_dir: 'a', max_time: '10m', num_train_epochs: 2 }).num_train_epochs, 2);
    assert.equal(config({ output_dir: 'a', max_time: 600, max_steps: 50 }).max_steps, 50);
    assert.equal(config({ output_dir: 'a' }).num_train_epochs, 3, 'without max_time the default stays');
  });
});

describe('max_time: stopping and the schedule', () => {
  it('stops when the budget is spent, with a complete checkpoint and the model, reason "max_time"; the schedule ends exactly there', async () => {
    const out = join(dir, 'budget');
    // 1 s a step, and 20 s more in the first call (session creation), which the speed measurement leaves out.
    const t = await timed({ output_dir: out, max_time: '50s', warmup_ratio: 0.25 }, { firstCall: 20_000 });
    assert.equal(t.totalSteps, Infinity, 'no step limit: the budget alone ends the run');
    const r = await t.train();
    assert.equal(r.reason, 'max_time');
    // Calls end at steps 3, 6, … at 23 s, 26 s, …: 50 s are spent at step 30.
    assert.equal(r.step, 30);
    const ckpt = join(out, 'checkpoint-30');
    for (const f of [...RESUME_FILES, 'training_args.json', 'tokenizer.json']) assert.ok(existsSync(join(ckpt, f)), `${ckpt}/${f}`);
    assert.ok(readSafetensors(join(ckpt, 'optimizer.safetensors')).tensors.size > 0);
    assert.deepEqual(readFileSync(join(out, 'model.safetensors')), readFileSync(join(ckpt, 'model.safetensors')), 'the model is saved in output_dir too');
    const state = readTrainerState(join(ckpt, 'trainer_state.json'));
    assert.equal(state.global_step, 30);
    assert.equal(state.max_steps, 0);
    assert.deepEqual(timeBudgetOf(state), { time_spent: 50, max_time: 50, total_steps: 30, warmup_steps: 8, stopped: true });
    const done = records(out).at(-1)!;
    assert.equal(done.type, 'done');
    assert.equal((done as { reason?: string }).reason, 'max_time');
    const start = records(out).find((x) => x.type === 'start') as { max_time?: number; max_steps: number };
    assert.deepEqual([start.max_time, start.max_steps], [50, 0]);

    // The schedule: the first two calls run before the speed is known (steps 0–5: warm-up of unknown length, lr 0).
    // After the second call: 3 steps in 3 s since the first call ended → 1 step/s, 24 s left at step 6 → 30 steps;
    // warm-up ceil(0.25 · 30) = 8 steps, fixed. The lr of the update at step s is logged at step s + 1.
    const lrs = stepLrs(out);
    assert.equal(lrs.size, 30);
    for (let s = 0; s < 30; s++) {
      const want = s < 6 ? 0 : LR * lrLambda(s, { schedule: 'linear', warmupSteps: 8, totalSteps: 30 });
      assert.ok(Math.abs(lrs.get(s + 1)! - want) <= 1e-9, `step ${s}: lr ${lrs.get(s + 1)} ≠ ${want}`);
    }
    // lr reaches 0 at step 30, where the budget ends (the last update's lr is within one call of it).
    assert.equal(lrLambda(30, { schedule: 'linear', warmupSteps: 8, totalSteps: 30 }), 0);
    assert.ok(lrs.get(30)! <= LR * (1 / 22) + 1e-9);
  });

  it('evaluations count: a budget with evaluations ends earlier', async () => {
    const out = join(dir, 'evals');
    // 1 s a step, 3 s an evaluation every 6 steps: step 39 is at 39 + 6·3 = 57 s, step 42 (evaluated) at 63 s ≥ 60 s.
    const r = await (await timed({ output_dir: out, max_time: '1m', eval_strategy: 'steps', eval_steps: 6, save_strategy: 'no' }, { perEval: 3000 })).train();
    assert.deepEqual([r.reason, r.step], ['max_time', 42]);
    assert.equal(timeBudgetOf(readTrainerState(join(out, 'checkpoint-42', 'trainer_state.json'))).time_spent, 63);
  });

  it('max_steps first: the run completes at max_steps with its usual schedule, as without max_time', async () => {
    const a = join(dir, 'steps-first'), b = join(dir, 'steps-plain');
    const common = { max_steps: 9, warmup_ratio: 0.25, save_strategy: 'no' };
    const r = await (await timed({ ...common, output_dir: a, max_time: '1h' })).train();
    await (await timed({ ...common, output_dir: b })).train();
    assert.deepEqual([r.reason, r.step], ['completed', 9]);
    assert.deepEqual(readFileSync(join(a, 'model.safetensors')), readFileSync(join(b, 'model.safetensors')));
    assert.deepEqual(history(a), history(b));
  });

  it('a budget that ends before max_steps sizes the schedule below it', async () => {
    const out = join(dir, 'budget-first');
    const r = await (await timed({ output_dir: out, max_time: '15s', max_steps: 100, save_strategy: 'no' })).train();
    assert.deepEqual([r.reason, r.step], ['max_time', 15]);
    // Before the estimate (steps 0–5) the schedule is max_steps'; then 1 step/s with 9 s left at step 6 → 15 steps.
    const lrs = stepLrs(out);
    for (let s = 0; s < 15; s++) {
      const want = LR * lrLambda(s, { schedule: 'linear', warmupSteps: 0, totalSteps: s < 6 ? 100 : 15 });
      assert.ok(Math.abs(lrs.get(s + 1)! - want) <= 1e-9, `step ${s}: lr ${lrs.get(s + 1)} ≠ ${want}`);
    }
  });
});

describe('max_time: resuming', () => {
  it('a run stopped by max_time, resumed with a larger one, has only the rest of the budget and continues bit-identically', async () => {
    // A schedule the estimate does not change (constant after a fixed warm-up), so the two budgets train alike.
    const common = { lr_scheduler_type: 'constant_with_warmup', warmup_steps: 4, eval_strategy: 'steps', eval_steps: 6, save_steps: 12 };
    const straight = join(dir, 'straight'), split = join(dir, 'split');
    const s = await (await timed({ ...common, output_dir: straight, max_time: '30s' })).train();
    assert.deepEqual([s.reason, s.step], ['max_time', 30]);
    const first = await (await timed({ ...common, output_dir: split, max_time: '15s' })).train();
    assert.deepEqual([first.reason, first.step], ['max_time', 15]);
    const notes: string[] = [];
    const t = await timed({ ...common, output_dir: split, max_time: '30s', resume_from_checkpoint: true }, {}, { log: (n) => notes.push(n) });
    assert.ok(notes.some((n) => n.includes('max_time "15s" → "30s"')), notes.join('\n'));
    assert.ok(notes.includes('max_time 30s: 15s spent before this checkpoint, 15s left'), notes.join('\n'));
    const second = await t.train();
    // 15 s before the resume count: 15 more steps, not 30.
    assert.deepEqual([second.reason, second.step], ['max_time', 30]);
    for (const f of ['model.safetensors', join('checkpoint-30', 'optimizer.safetensors'), join('checkpoint-30', 'model.safetensors')]) {
      assert.deepEqual(readFileSync(join(split, f)), readFileSync(join(straight, f)), f);
    }
    assert.deepEqual(history(join(split, 'checkpoint-30')), history(join(straight, 'checkpoint-30')));
    assert.deepEqual(timeBudgetOf(readTrainerState(join(split, 'checkpoint-30', 'trainer_state.json'))), timeBudgetOf(readTrainerState(join(straight, 'checkpoint-30', 'trainer_state.json'))));
  });

  it('an interrupted run with a budget-sized schedule resumes from the saved estimate, bit-identically', async () => {
    const common = { max_time: '30s', warmup_ratio: 0.25, save_steps: 12 };
    const straight = join(dir, 'sized-straight'), split = join(dir, 'sized-split');
    await (await timed({ ...common, output_dir: straight })).train();
    const first = await (await timed({ ...common, output_dir: split }, {}, { stopAtStep: 15 })).train();
    assert.deepEqual([first.reason, first.step], ['stopped', 15]);
    // The checkpoint holds the time spent and the schedule's estimate (1 step/s, 30 s → 30 steps, warm-up 8).
    assert.deepEqual(timeBudgetOf(readTrainerState(join(split, 'checkpoint-15', 'trainer_state.json'))), { time_spent: 15, max_time: 30, total_steps: 30, warmup_steps: 8, stopped: false });
    const second = await (await timed({ ...common, output_dir: split, resume_from_checkpoint: true })).train();
    assert.deepEqual([second.reason, second.step], ['max_time', 30]);
    for (const f of ['model.safetensors', join('checkpoint-30', 'optimizer.safetensors')]) assert.deepEqual(readFileSync(join(split, f)), readFileSync(join(straight, f)), f);
    assert.deepEqual(history(join(split, 'checkpoint-30')), history(join(straight, 'checkpoint-30')));
    assert.deepEqual([...stepLrs(split)].filter(([k]) => k > 15), [...stepLrs(straight)].filter(([k]) => k > 15));
  });

  it('a budget already spent is refused on resume, saying how much was spent and what to do', async () => {
    // The run of the first test here, which spent 30 s.
    await assert.rejects(timed({ max_time: '15s', lr_scheduler_type: 'constant_with_warmup', warmup_steps: 4, eval_strategy: 'steps', eval_steps: 6, save_steps: 12, output_dir: join(dir, 'split'), resume_from_checkpoint: true }),
      /max_time 15s is spent already \(30s of training before this checkpoint\); to continue, raise max_time above 30s/);
  });
});

describe('max_time: the CLI and the wizard', () => {
  it('bert-lab train prints "stopped at max_time (…) after N steps" and exits 0', async () => {
    const file = join(dir, 'cli.json');
    writeFileSync(file, JSON.stringify({ ...json({ output_dir: 'cli-out' }), max_time: 0.001 }));
    // The bundle in a child process, as a shell runs it.
    const r = spawnSync(process.execPath, [join(__dirname, '..', '..', 'dist', 'cli.js'), 'train', file], { encoding: 'utf8', cwd: dir, timeout: 180_000 });
    const err = r.stderr;
    assert.equal(r.status, 0, err);
    // The first call (3 steps) takes more than a millisecond.
    assert.match(err, new RegExp(`^stopped at max_time \\(0\\.001s\\) after 3 steps; model saved in ${join(dir, 'cli-out').replace(/[/\\]/g, '.')}; `, 'm'));
    assert.ok(existsSync(join(dir, 'cli-out', 'checkpoint-3', 'optimizer.safetensors')));
  });

  it('the new-config wizard asks pretraining from scratch for a time budget and writes max_time', async () => {
    const { newTrainingConfig } = await import('../src/extension/commands.js');
    const ws = join(dir, 'ws');
    mkdirSync(join(ws, 'hub'), { recursive: true });
    writeFileSync(join(ws, 'text.txt'), 'one line\nanother line\n');
    settings['bertLab.hub.cacheDir'] = join(ws, 'hub');
    stubWorkspace.workspaceFolders = [{ uri: Uri.file(ws) }];
    stubWorkspace.findFiles = async () => [Uri.file(join(ws, 'text.txt'))];
    let budget = '', offered: string[] = [];
    stubWindow.showQuickPick = async (items: unknown, opts?: unknown) => {
      const list = items as { label: string }[];
      if ((opts as { placeHolder: string }).placeHolder !== 'Time budget') return list[0];
      offered = list.map((i) => i.label);
      return list.find((i) => i.label === budget);
    };
    let n = 0;
    stubWindow.showInputBox = async () => `budget-${++n}`;
    try {
      budget = '30 minutes';
      const out = (await newTrainingConfig({ extensionPath: '/ext' } as never, 'mlm'))!;
      assert.deepEqual(offered, ['Quick pretraining (≈10 min)', '10 minutes', '30 minutes', '1 hour', 'no limit — use num_train_epochs']);
      const cfg = parseTrainingConfig(readFileSync(out, 'utf8'), out);
      assert.equal(cfg.max_time, '30m');
      assert.equal(cfg.num_train_epochs, undefined, 'the budget alone ends the run');
      budget = 'no limit — use num_train_epochs';
      const plain = parseTrainingConfig(readFileSync((await newTrainingConfig({ extensionPath: '/ext' } as never, 'mlm'))!, 'utf8'), out);
      assert.deepEqual([plain.max_time, plain.num_train_epochs], [undefined, 1]);
      // The recipe: named, and every value written out (what the file says is what runs).
      budget = 'Quick pretraining (≈10 min)';
      const qFile = (await newTrainingConfig({ extensionPath: '/ext' } as never, 'mlm'))!;
      const written = JSON.parse(readFileSync(qFile, 'utf8'));
      assert.equal(written.recipe, 'quick-pretraining');
      for (const [k, v] of Object.entries(RECIPES['quick-pretraining']!.values)) assert.deepEqual(written[k], v, k);
      const quick = parseTrainingConfig(readFileSync(qFile, 'utf8'), qFile);
      assert.deepEqual([quick.max_time, quick.mlm_probability, quick.max_seq_length], ['10m', 0.3, 64]);
      // Cancelling the question cancels the wizard.
      budget = '';
      assert.equal(await newTrainingConfig({ extensionPath: '/ext' } as never, 'mlm'), undefined);
    } finally {
      stubWorkspace.workspaceFolders = undefined;
      stubWorkspace.findFiles = async () => [];
      stubWindow.showQuickPick = async () => undefined;
      delete settings['bertLab.hub.cacheDir'];
    }
  });
});
