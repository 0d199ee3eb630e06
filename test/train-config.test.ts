/**
 * The training configuration (errors with lines, typo suggestions, HF defaults, rules across
 * fields, JSON and YAML), its JSON Schema against the TypeScript types, Hugging Face
 * trainer_state.json files, and the JSONL run log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../src/engine/models/bert/config.js';
import { type ConfigDiagnostic, IGNORED_HF_FIELDS, TASK_FIELDS, TRAINING_FIELDS, TrainingConfigError, applyTrainingDefaults, availableMetrics, checkTrainingConfig, editDistance, parseTrainingConfig, suggest, tasksOf } from '../src/engine/train/config.js';
import type { TrainingConfig } from '../src/engine/train/config-types.js';
import { learningRate } from '../src/engine/train/schedule.js';
import { TrainerStateError, formatRunLogRecord, logEntryKind, newTrainerState, parseRunLog, parseRunLogLine, parseTrainerState, readTrainerState, serializeTrainerState, writeTrainerState } from '../src/engine/train/state.js';
import type { RunLogRecord } from '../src/engine/train/state.js';
import { SCHEMA_PATH, schemaText, trainingConfigSchema } from '../scripts/gen-config-schema.js';

const ROOT = join(__dirname, '..', '..');
const DIR = resolve('/cfg/run');
const FILE = join(DIR, 'train.json');
const BASE = { output_dir: 'out', task: 'classification', train_file: 'train.jsonl', model_name_or_path: 'bert-tiny' };
const SCRATCH = { output_dir: 'out', task: 'mlm', train_file: 'corpus.txt', model_config: {}, train_tokenizer: { vocab_size: 1000 } };

/** One key per line, so the test can find each field's line by searching the text. */
const text = (o: object) => JSON.stringify(o, null, 2);
const lineOf = (t: string, needle: string, from = 0) => t.split('\n').findIndex((l, i) => i >= from && l.includes(needle)) + 1;
const errors = (t: string, file = FILE) => checkTrainingConfig(t, file).diagnostics.filter((d) => d.severity === 'error');
const warnings = (t: string, file = FILE) => checkTrainingConfig(t, file).diagnostics.filter((d) => d.severity === 'warning');
const only = (ds: ConfigDiagnostic[]) => { assert.equal(ds.length, 1, `expected one diagnostic, got ${JSON.stringify(ds, null, 1)}`); return ds[0]!; };

describe('training config: defaults and paths', () => {
  it('fills in TrainingArguments\' defaults and BERT Lab\'s', () => {
    const c = parseTrainingConfig(text(BASE), FILE);
    const hf = {
      learning_rate: 5e-5, weight_decay: 0, adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8, max_grad_norm: 1.0,
      num_train_epochs: 3, max_steps: -1, lr_scheduler_type: 'linear', warmup_ratio: 0, warmup_steps: 0,
      per_device_train_batch_size: 8, per_device_eval_batch_size: 8, gradient_accumulation_steps: 1,
      eval_strategy: 'no', save_strategy: 'steps', save_steps: 500, logging_steps: 500, seed: 42, load_best_model_at_end: false,
      max_seq_length: 128, mlm_probability: 0.15, steps_per_run: 8, device: 'auto', validation_split_percentage: 10,
      length_buckets: [32, 64, 96, 128], run_name: 'out', overwrite_output_dir: false,
    };
    for (const [k, v] of Object.entries(hf)) assert.deepEqual((c as unknown as Record<string, unknown>)[k], v, k);
    assert.equal(c.eval_steps, undefined);
    assert.equal(c.metric_for_best_model, undefined);
    assert.equal(c.greater_is_better, undefined);
    assert.equal(c.threads, undefined, 'left to the bertLab.threads setting');
  });

  it('resolves relative paths against the config file\'s folder, and keeps absolute ones', () => {
    const abs = resolve('/data/val.jsonl');
    const c = parseTrainingConfig(text({ ...BASE, validation_file: { path: abs, format: 'jsonl' }, train_file: { path: '../data/train.csv', format: 'csv', label_field: 'y' }, resume_from_checkpoint: 'out/checkpoint-500' }), FILE);
    assert.equal(c.output_dir, join(DIR, 'out'));
    // No folder bert-tiny beside the file: a Hub id stays the id (transformers' rule; test/hub-wiring.test.ts has the folder case).
    assert.equal(c.model_name_or_path, 'bert-tiny');
    assert.deepEqual(c.train_file, { path: resolve(DIR, '../data/train.csv'), format: 'csv', label_field: 'y' });
    assert.deepEqual(c.validation_file, { path: abs, format: 'jsonl' });
    assert.equal(c.resume_from_checkpoint, join(DIR, 'out', 'checkpoint-500'));
    assert.equal(c.validation_split_percentage, undefined, 'no split when validation_file is given');
    assert.equal(parseTrainingConfig(text({ ...BASE, resume_from_checkpoint: true }), FILE).resume_from_checkpoint, true);
  });

  it('derives eval_steps, buckets, the best-model metric and greater_is_better as HF does', () => {
    const c = parseTrainingConfig(text({ ...BASE, eval_strategy: 'steps', logging_steps: 50, save_steps: 100, load_best_model_at_end: true, max_seq_length: 100 }), FILE);
    assert.equal(c.eval_steps, 50);
    assert.equal(c.metric_for_best_model, 'eval_loss');
    assert.equal(c.greater_is_better, false);
    assert.deepEqual(c.length_buckets, [32, 64, 96, 100]);
    const acc = parseTrainingConfig(text({ ...BASE, metric_for_best_model: 'accuracy' }), FILE);
    assert.equal(acc.metric_for_best_model, 'eval_accuracy', 'HF adds the eval_ prefix');
    assert.equal(acc.greater_is_better, true);
    assert.equal(parseTrainingConfig(text({ ...BASE, metric_for_best_model: 'eval_f1', greater_is_better: false }), FILE).greater_is_better, false);
    const es = parseTrainingConfig(text({ ...BASE, eval_strategy: 'epoch', early_stopping_patience: 3 }), FILE);
    assert.equal(es.metric_for_best_model, 'eval_loss');
    assert.equal(es.early_stopping_threshold, 0);
  });
});

describe('training config: defaults are filled in after checking', () => {
  /** Freezes an object and everything in it, so that a test fails if it is written to. */
  const deepFreeze = <T>(o: T): T => { if (o && typeof o === 'object') { for (const v of Object.values(o)) deepFreeze(v); Object.freeze(o); } return o; };

  it('fills a hand-written valid config: table defaults, HF\'s derived ones, resolved paths; the input is left as it is', () => {
    const cfg: TrainingConfig = deepFreeze({
      output_dir: '/runs/a', task: 'classification', train_file: 'data/train.jsonl', model_config: { hidden_size: 64, num_attention_heads: 4 }, tokenizer_name: 'tok',
      learning_rate: 1e-4, max_seq_length: 70, eval_strategy: 'steps', save_strategy: 'steps', logging_steps: 20, early_stopping_patience: 2,
    });
    const before = JSON.stringify(cfg);
    const c = applyTrainingDefaults(cfg, '/base');
    assert.equal(JSON.stringify(cfg), before, 'the input is not changed');
    assert.deepEqual(c, {
      // as written (paths resolved against /base)
      output_dir: '/runs/a', task: 'classification', train_file: resolve('/base', 'data/train.jsonl'), tokenizer_name: 'tok', // no /base/tok: a Hub id
      model_config: {
        hidden_size: 64, num_attention_heads: 4, model_type: 'bert', num_hidden_layers: 12, intermediate_size: 3072, hidden_act: 'gelu', hidden_dropout_prob: 0.1,
        attention_probs_dropout_prob: 0.1, max_position_embeddings: 512, type_vocab_size: 2, initializer_range: 0.02, layer_norm_eps: 1e-12, position_embedding_type: 'absolute',
      },
      learning_rate: 1e-4, max_seq_length: 70, eval_strategy: 'steps', save_strategy: 'steps', logging_steps: 20, early_stopping_patience: 2,
      // the table's defaults
      overwrite_output_dir: false, model_revision: 'main', freeze_embeddings: false, freeze_layers: 0, line_by_line: false, mlm_probability: 0.15, whole_word_masking: false,
      weight_decay: 0, adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8, max_grad_norm: 1, num_train_epochs: 3, max_steps: -1, lr_scheduler_type: 'linear',
      warmup_ratio: 0, warmup_steps: 0, per_device_train_batch_size: 8, per_device_eval_batch_size: 8, gradient_accumulation_steps: 1, save_steps: 500, seed: 42,
      load_best_model_at_end: false, device: 'auto', steps_per_run: 8, nan_inf_policy: 'stop', nan_inf_patience: 10, skip_memory_check: false,
      // derived from other fields
      validation_split_percentage: 10, eval_steps: 20, early_stopping_threshold: 0, metric_for_best_model: 'eval_loss', greater_is_better: false,
      length_buckets: [32, 64, 70], run_name: 'a',
    });
  });

  it('never overrides what the user wrote, and completes each task', () => {
    const cfg: TrainingConfig = deepFreeze({
      output_dir: 'o', run_name: 'mine', model_name_or_path: '/m', metric_for_best_model: 'mlm_perplexity', greater_is_better: true, length_buckets: [128],
      eval_strategy: 'steps', eval_steps: 7,
      tasks: [{ name: 'mlm', kind: 'mlm', train_file: 'a.txt', validation_split_percentage: 5 }, { name: 'c', kind: 'classification', train_file: { path: 'c.csv', format: 'csv' }, validation_file: 'v.csv', loss_weight: 2 }],
    });
    const c = applyTrainingDefaults(cfg, '/base');
    assert.equal(c.run_name, 'mine');
    assert.equal(c.output_dir, resolve('/base', 'o'));
    assert.equal(c.metric_for_best_model, 'eval_mlm_perplexity', 'HF adds the eval_ prefix');
    assert.equal(c.greater_is_better, true);
    assert.deepEqual(c.length_buckets, [128]);
    assert.equal(c.eval_steps, 7);
    assert.deepEqual(c.tasks, [
      { name: 'mlm', kind: 'mlm', train_file: resolve('/base', 'a.txt'), validation_split_percentage: 5, loss_weight: 1 },
      { name: 'c', kind: 'classification', train_file: { path: resolve('/base', 'c.csv'), format: 'csv' }, validation_file: resolve('/base', 'v.csv'), loss_weight: 2 },
    ]);
    assert.equal(c.validation_split_percentage, undefined, 'the split is per task');
    assert.equal(c.early_stopping_threshold, undefined, 'no early stopping, no threshold');
  });

  it('is what parseTrainingConfig returns for a valid file', () => {
    for (const cfg of [BASE, SCRATCH, { ...BASE, eval_strategy: 'epoch', save_strategy: 'epoch', load_best_model_at_end: true, metric_for_best_model: 'f1', resume_from_checkpoint: 'ck' }]) {
      assert.deepEqual(parseTrainingConfig(text(cfg), FILE), applyTrainingDefaults(cfg as TrainingConfig, DIR), JSON.stringify(cfg));
    }
  });

  it('reports an invalid config\'s errors without defaults standing in for the wrong values', () => {
    // Each wrong field is reported once; the rules across fields do not run on a default (or on
    // nothing) in its place.
    const cases: [Record<string, unknown>, string, RegExp][] = [
      // eval_steps defaults to logging_steps (300): not a value to check save_steps against when eval_steps is wrong.
      [{ load_best_model_at_end: true, eval_strategy: 'steps', eval_steps: 0, logging_steps: 300 }, 'eval_steps', /^eval_steps is 0; it must be a positive integer$/],
      [{ load_best_model_at_end: true, eval_strategy: 'epochs' }, 'eval_strategy', /^eval_strategy is "epochs"; .* did you mean "epoch"\?$/],
      [{ load_best_model_at_end: true, eval_strategy: 'epoch', save_strategy: 'epoc' }, 'save_strategy', /^save_strategy is "epoc"; .* did you mean "epoch"\?$/],
      [{ load_best_model_at_end: true, eval_strategy: 'steps', eval_steps: 3, save_steps: 0 }, 'save_steps', /^save_steps is 0; it must be a positive integer \(default 500\)$/],
      [{ max_seq_length: 2, length_buckets: [32] }, 'max_seq_length', /^max_seq_length is 2; it must be an integer ≥ 3 \(default 128\)$/],
    ];
    for (const [over, field, re] of cases) {
      const r = checkTrainingConfig(text({ ...BASE, ...over }), FILE);
      assert.equal(r.config, undefined, 'no config, so no defaults, when there are errors');
      const d = only(r.diagnostics.filter((x) => x.severity === 'error'));
      assert.equal(d.field, field, JSON.stringify(over));
      assert.match(d.message, re);
      assert.doesNotMatch(d.message, /undefined/);
    }
    // A rule that needs a field the user left out still names its default, as before.
    assert.match(only(errors(text({ ...BASE, load_best_model_at_end: true, eval_strategy: 'epoch' }))).message, /^save_strategy is "steps" but eval_strategy is "epoch"/);
  });
});

describe('training config: errors name the line, field and value', () => {
  // [fields over BASE, the field reported, the text to find its line, message]
  const cases: [Record<string, unknown>, string, string, RegExp][] = [
    [{ learning_rate: -1 }, 'learning_rate', '"learning_rate"', /^learning_rate is -1; it must be a positive number \(default 0\.00005\)$/],
    [{ num_train_epochs: 0 }, 'num_train_epochs', '"num_train_epochs"', /num_train_epochs is 0; it must be a positive number/],
    [{ adam_beta2: 1 }, 'adam_beta2', '"adam_beta2"', /adam_beta2 is 1; it must be a number in \[0, 1\)/],
    [{ warmup_ratio: 1.5 }, 'warmup_ratio', '"warmup_ratio"', /warmup_ratio is 1\.5; it must be a number in \[0, 1\]/],
    [{ per_device_train_batch_size: 2.5 }, 'per_device_train_batch_size', '"per_device_train_batch_size"', /is 2\.5; it must be a positive integer \(default 8\)/],
    [{ per_device_train_batch_size: '16' }, 'per_device_train_batch_size', '"per_device_train_batch_size"', /is "16"; it must be a positive integer; write the number without quotes/],
    [{ lr_scheduler_type: 'cosin' }, 'lr_scheduler_type', '"lr_scheduler_type"', /is "cosin"; it must be one of "linear", "cosine", "constant", "constant_with_warmup" — did you mean "cosine"\?/],
    [{ eval_strategy: 'epochs' }, 'eval_strategy', '"eval_strategy"', /did you mean "epoch"\?/],
    [{ seed: -1 }, 'seed', '"seed"', /seed is -1; it must be an integer in \[0, 4294967295\]/],
    [{ max_steps: -2 }, 'max_steps', '"max_steps"', /max_steps is -2; it must be an integer ≥ -1/],
    [{ device: 'gpu' }, 'device', '"device"', /device is "gpu"; it must be one of "auto", "cpu", "cuda", "webgpu"/],
    [{ load_best_model_at_end: 'true' }, 'load_best_model_at_end', '"load_best_model_at_end"', /write true or false without quotes/],
    [{ mlm_probability: 0 }, 'mlm_probability', '"mlm_probability"', /in \(0, 1\)/],
    [{ output_dir: '' }, 'output_dir', '"output_dir"', /output_dir is empty; give a path/],
    [{ learning_rte: 1e-4 }, 'learning_rte', '"learning_rte"', /^learning_rte is not a field of the training configuration; did you mean "learning_rate"\?$/],
    [{ num_train_epoch: 2 }, 'num_train_epoch', '"num_train_epoch"', /did you mean "num_train_epochs"\?/],
    [{ evaluation_strategy: 'steps' }, 'evaluation_strategy', '"evaluation_strategy"', /did you mean eval_strategy \(renamed in transformers 4\.41\)\?/],
    [{ revision: 'v1.0' }, 'revision', '"revision"', /^revision is not a field of the training configuration; did you mean model_revision\?$/],
    [{ train_file: 42 }, 'train_file', '"train_file"', /train_file is 42; it must be a path \(a string\) or an object \{path, format, …\}/],
    [{ train_file: { path: 't.csv', fromat: 'csv' } }, 'train_file.fromat', '"fromat"', /train_file\.fromat is not a field of train_file; did you mean "format"\?/],
    [{ train_file: { format: 'csv' } }, 'train_file.path', '"train_file"', /train_file\.path is missing in train_file/],
    [{ length_buckets: [64, 32, 128] }, 'length_buckets[1]', '32', /length_buckets\[1\] is 32, not above the bucket before it \(64\)/],
    [{ length_buckets: [32, 64] }, 'length_buckets', '"length_buckets"', /the last bucket must be max_seq_length \(128\)/],
    [{ metric_for_best_model: 'eval_acuracy' }, 'metric_for_best_model', '"metric_for_best_model"', /is "eval_acuracy", which this configuration does not report; did you mean "eval_accuracy"\?/],
    [{ task: 'mlm', metric_for_best_model: 'eval_f1' }, 'metric_for_best_model', '"metric_for_best_model"', /it reports "eval_loss", "eval_perplexity", "eval_accuracy"$/],
    [{ problem_type: 'multi_label' }, 'problem_type', '"problem_type"', /did you mean "multi_label_classification"\?/],
    [{ validation_split_percentage: 100 }, 'validation_split_percentage', '"validation_split_percentage"', /is 100; it must be a number in \(0, 100\)/],
  ];
  for (const [over, field, needle, re] of cases) {
    it(`${JSON.stringify(over)} → ${field}`, () => {
      const t = text({ ...BASE, ...over });
      const d = only(errors(t));
      assert.equal(d.field, field);
      assert.equal(d.line, lineOf(t, needle, 1), 'line');
      assert.match(d.message, re);
    });
  }

  it('points into model_config for BertConfig rules, and suggests its field names', () => {
    let t = text({ ...SCRATCH, model_config: { hidden_size: 100, num_attention_heads: 12 } });
    let d = only(errors(t));
    assert.equal(d.field, 'model_config.num_attention_heads');
    assert.equal(d.line, lineOf(t, '"num_attention_heads"'));
    assert.match(d.message, /is 12; it must divide hidden_size \(100\)/);
    t = text({ ...SCRATCH, model_config: { hidden_sise: 64 } });
    assert.match(only(errors(t)).message, /model_config\.hidden_sise is not a field of model_config; did you mean "hidden_size"\?/);
    t = text({ ...SCRATCH, model_config: { max_position_embeddings: 64 } });
    assert.match(only(errors(t)).message, /max_seq_length is 128, more than model_config\.max_position_embeddings \(64\)/);
  });

  it('collects every error into one ConfigError with file:line:column lines', () => {
    const t = text({ ...BASE, learning_rate: 0, seed: 'x', warmup_stepz: 10 });
    assert.throws(() => parseTrainingConfig(t, FILE), (e: unknown) => {
      assert.ok(e instanceof TrainingConfigError && e instanceof ConfigError);
      assert.equal(e.diagnostics.length, 3);
      assert.match(e.message, /^\/.*train\.json: 3 problems in the training configuration:\n/);
      assert.ok(e.message.includes(`${FILE}:${lineOf(t, '"learning_rate"')}:3: learning_rate is 0; it must be a positive number`));
      assert.ok(e.message.includes(`${FILE}:${lineOf(t, '"warmup_stepz"')}:3: warmup_stepz is not a field of the training configuration; did you mean "warmup_steps"?`));
      assert.deepEqual(e.diagnostics.map((d) => d.line), [...e.diagnostics.map((d) => d.line)].sort((a, b) => a - b), 'in file order');
      return true;
    });
  });

  it('reports JSON syntax errors at their position, with what to do', () => {
    let d = only(errors('{\n  "output_dir": "o",\n}'));
    assert.deepEqual([d.line, d.column], [3, 1]);
    assert.match(d.message, /JSON allows no comma before "}"; remove it/);
    d = only(errors('{\n  // note\n  "output_dir": "o"\n}'));
    assert.equal(d.line, 2);
    assert.match(d.message, /JSON has no comments; .* YAML/);
    d = only(errors('{\n  "output_dir": "o"\n  "task": "mlm"\n}'));
    assert.deepEqual([d.line, d.column], [3, 3]);
    assert.match(d.message, /expected "," or "}" after the value of "output_dir", found "\\""/);
    d = only(errors(`{\n  "output_dir": 'o'\n}`));
    assert.match(d.message, /double quotes/);
    const dup = text({ ...BASE }).replace('"task"', '"seed": 1,\n  "seed"');
    d = errors(dup).find((x) => /twice/.test(x.message))!;
    assert.equal(d.line, lineOf(dup, '"seed"', lineOf(dup, '"seed"')));
    assert.match(d.message, /seed appears twice \(first on line \d+\); keep one/);
    assert.match(only(errors('[1, 2]')).message, /holds a list; a training configuration is an object/);
  });

  it('enforces what to train and which model', () => {
    const cases: [object, string, RegExp][] = [
      [{ output_dir: 'o', model_name_or_path: 'm' }, '', /nothing to train: set task .* and train_file, or a tasks list/],
      [{ output_dir: 'o', model_name_or_path: 'm', task: 'mlm' }, 'task', /train_file is missing: task "mlm" needs its training data/],
      [{ output_dir: 'o', model_name_or_path: 'm', train_file: 'x.txt' }, 'train_file', /task is missing: say what train_file trains/],
      [{ ...BASE, train_file: undefined, tasks: [{ name: 'a', kind: 'mlm', train_file: 'a.txt' }] }, 'task', /task is set next to tasks; with tasks, each entry has its own kind/],
      [{ output_dir: 'o', task: 'mlm', train_file: 'c.txt' }, '', /no model: set model_name_or_path .* or model_config/],
      [{ ...SCRATCH, train_tokenizer: undefined }, 'model_config', /a model from scratch needs a vocabulary: set tokenizer_name .* or train_tokenizer/],
      [{ ...BASE, model_config: {} }, 'model_config', /model_config builds a new model, model_name_or_path loads one/],
      [{ ...BASE, train_tokenizer: { vocab_size: 10 } }, 'train_tokenizer', /a trained model keeps its vocabulary/],
      [{ ...BASE, task: 'mlm', problem_type: 'regression' }, 'problem_type', /problem_type is "regression", but task is "mlm"/],
      [{ ...BASE, output_dir: undefined }, 'output_dir', /output_dir is missing in the training configuration; it must be a path/],
      [{ ...BASE, load_best_model_at_end: true }, 'load_best_model_at_end', /needs evaluations: set eval_strategy/],
      [{ ...BASE, load_best_model_at_end: true, eval_strategy: 'epoch' }, 'save_strategy', /save_strategy is "steps" but eval_strategy is "epoch"; load_best_model_at_end needs them equal/],
      [{ ...BASE, load_best_model_at_end: true, eval_strategy: 'steps', eval_steps: 300 }, 'save_steps', /save_steps is 500, not a multiple of eval_steps \(300\)/],
      [{ ...BASE, early_stopping_patience: 2 }, 'early_stopping_patience', /needs evaluations/],
      [{ ...BASE, freeze_layers: -1 }, 'freeze_layers', /an integer ≥ 0/],
    ];
    for (const [cfg, field, re] of cases) {
      const d = only(errors(text(cfg)));
      assert.equal(d.field, field, JSON.stringify(cfg));
      assert.match(d.message, re);
    }
  });

  it('warns, without failing, about ignored and questionable settings', () => {
    const t = text({ ...BASE, fp16: true, validation_file: 'v.jsonl', validation_split_percentage: 20, warmup_steps: 10, warmup_ratio: 0.1, metric_for_best_model: 'eval_mse' });
    const ws = warnings(t);
    assert.deepEqual(ws.map((w) => w.field), ['validation_split_percentage', 'warmup_ratio', 'metric_for_best_model', 'fp16'].sort((a, b) => lineOf(t, `"${a}"`) - lineOf(t, `"${b}"`)));
    assert.match(ws.find((w) => w.field === 'fp16')!.message, /does not implement; it is ignored/);
    assert.match(ws.find((w) => w.field === 'metric_for_best_model')!.message, /greater_is_better defaults to true for "eval_mse" .* set greater_is_better: false/);
    const frac = only(warnings(text({ ...BASE, validation_split_percentage: 0.1 })));
    assert.match(frac.message, /validation_split_percentage is 0\.1: a percentage, so 0\.1% of train_file is held out/);
    const seen: ConfigDiagnostic[] = [];
    const c = parseTrainingConfig(t, FILE, { onWarning: (w) => seen.push(w) });
    assert.equal(seen.length, 4);
    assert.equal((c as unknown as Record<string, unknown>)['fp16'], undefined, 'ignored fields are dropped');
  });
});

describe('training config: multi-task and YAML', () => {
  it('validates tasks, names their metrics, and lists them with tasksOf', () => {
    const cfg = {
      output_dir: 'o', model_name_or_path: 'm', metric_for_best_model: 'eval_sst2_accuracy',
      tasks: [{ name: 'mlm', kind: 'mlm', train_file: 'a.txt' }, { name: 'sst2', kind: 'classification', train_file: { path: 'sst2.csv' }, problem_type: 'single_label_classification', loss_weight: 0.5 }],
    };
    const c = parseTrainingConfig(text(cfg), FILE);
    assert.deepEqual(c.tasks![0], { name: 'mlm', kind: 'mlm', train_file: join(DIR, 'a.txt'), loss_weight: 1, validation_split_percentage: 10 });
    assert.equal(c.tasks![1]!.loss_weight, 0.5);
    assert.deepEqual(availableMetrics(c), ['eval_loss', 'eval_mlm_loss', 'eval_mlm_perplexity', 'eval_mlm_accuracy', 'eval_sst2_loss', 'eval_sst2_accuracy', 'eval_sst2_f1', 'eval_sst2_precision', 'eval_sst2_recall']);
    assert.equal(tasksOf(c), c.tasks);
    assert.deepEqual(tasksOf(parseTrainingConfig(text(BASE), FILE)), [{ name: 'classification', kind: 'classification', train_file: join(DIR, 'train.jsonl'), validation_split_percentage: 10 }]);

    const bad = text({ ...cfg, tasks: [{ name: 'a b', kind: 'mlm', train_file: 'a.txt', problem_type: 'regression' }, { name: 'x', kind: 'ner', train_file: 'b.txt' }, { name: 'x', kind: 'mlm' }] });
    const ds = errors(bad);
    assert.deepEqual(ds.map((d) => d.field), ['tasks[0].name', 'tasks[0].problem_type', 'tasks[1].kind', 'tasks[2].name', 'tasks[2].train_file', 'metric_for_best_model'].sort((a, b) => ds.findIndex((d) => d.field === a) - ds.findIndex((d) => d.field === b)));
    assert.match(ds.find((d) => d.field === 'tasks[0].name')!.message, /is "a b"; it must be a name of letters, digits, "_" and "-"/);
    assert.match(ds.find((d) => d.field === 'tasks[2].name')!.message, /already the name of tasks\[1\]; task names must differ/);
    assert.equal(ds.find((d) => d.field === 'tasks[2].train_file')!.line, lineOf(bad, '"name": "x"', lineOf(bad, '"name": "x"')) - 1, 'a missing field points at its task');
  });

  it('reads YAML with the same rules and line numbers', () => {
    const y = [
      '# from-scratch pretraining', // 1
      'output_dir: runs/yaml', // 2
      'task: mlm', // 3
      'train_file: corpus.txt', // 4
      'model_config:', // 5
      '  hidden_size: 64', // 6
      '  num_attention_heads: 3', // 7
      'train_tokenizer: { vocab_size: 500 }', // 8
      'learning_rate: 5e-4', // 9
      'warmup_steps: -3', // 10
      'seeed: 1', // 11
    ].join('\n');
    const ds = errors(y, join(DIR, 'train.yaml'));
    assert.deepEqual(ds.map((d) => [d.field, d.line, d.column]), [['model_config.num_attention_heads', 7, 3], ['warmup_steps', 10, 1], ['seeed', 11, 1]]);
    assert.match(ds[2]!.message, /did you mean "seed"\?/);
    const ok = parseTrainingConfig(y.split('\n').slice(0, 9).join('\n').replace('num_attention_heads: 3', 'num_attention_heads: 4'), join(DIR, 'train.yml'));
    assert.equal(ok.learning_rate, 5e-4);
    assert.equal(ok.output_dir, join(DIR, 'runs', 'yaml'));
    assert.equal(ok.model_config!.num_hidden_layers, 12);
    const syntax = only(errors('output_dir: o\ntask: [mlm\n', join(DIR, 'c.yaml')));
    assert.equal(syntax.severity, 'error');
    assert.match(syntax.message, /^YAML syntax: /);
    assert.match(only(errors('output_dir: o\noutput_dir: p\n', join(DIR, 'c.yaml'))).message, /unique/);
    assert.match(only(errors('', join(DIR, 'c.yaml'))).message, /the file is empty/);
  });

  it('suggests names by edit distance (a swap counts once)', () => {
    assert.equal(editDistance('learning_rte', 'learning_rate'), 1);
    assert.equal(editDistance('sede', 'seed'), 1);
    assert.equal(suggest('learnig_rate', Object.keys(TRAINING_FIELDS)), 'learning_rate');
    assert.equal(suggest('banana', Object.keys(TRAINING_FIELDS)), undefined);
  });
});

describe('training config schema', () => {
  const schema = trainingConfigSchema() as { properties: Record<string, { description?: string; properties?: Record<string, unknown>; items?: { properties: Record<string, unknown> } }>; required: string[]; additionalProperties: boolean };
  /** Field names of an interface, read from the TypeScript source (independent of the table). */
  const interfaceFields = (name: string) => {
    const src = readFileSync(join(ROOT, 'src', 'engine', 'train', 'config-types.ts'), 'utf8');
    const body = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(src)![1]!;
    return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]!).sort();
  };

  it('is the checked-in file (regenerate: node out/scripts/gen-config-schema.js)', () => {
    assert.equal(readFileSync(join(ROOT, SCHEMA_PATH), 'utf8'), schemaText());
  });
  it('has every TrainingConfig and TaskConfig field, and no others', () => {
    const props = Object.keys(schema.properties).filter((k) => k !== '$schema' && !IGNORED_HF_FIELDS.has(k)).sort();
    assert.deepEqual(props, interfaceFields('TrainingConfig'));
    assert.deepEqual(Object.keys(TRAINING_FIELDS).sort(), interfaceFields('TrainingConfig'));
    assert.deepEqual(Object.keys(schema.properties['tasks']!.items!.properties).sort(), interfaceFields('TaskConfig'));
    assert.deepEqual(Object.keys(TASK_FIELDS).sort(), interfaceFields('TaskConfig'));
    assert.deepEqual(schema.required, ['output_dir']);
    assert.equal(schema.additionalProperties, false);
    for (const [k, p] of Object.entries(schema.properties)) if (!IGNORED_HF_FIELDS.has(k)) assert.ok(p.description, `${k} has a description`);
  });
  it('has defaults the parser accepts and fills in itself', () => {
    const defaults = Object.fromEntries(Object.entries(schema.properties).filter(([, p]) => 'default' in p).map(([k, p]) => [k, (p as { default: unknown }).default]));
    assert.ok(Object.keys(defaults).length >= 20);
    assert.deepEqual(parseTrainingConfig(text({ ...BASE, ...defaults }), FILE), parseTrainingConfig(text(BASE), FILE));
  });
});

describe('trainer_state.json', () => {
  const FIX = join(ROOT, 'test', 'fixtures', 'trainer-state');

  it('loads a recent Hugging Face file, whose numbers agree with each other', () => {
    const s = readTrainerState(join(FIX, 'hf-4.52-mrpc.json'));
    assert.equal(s.global_step, 345);
    assert.equal(s.train_batch_size, 32);
    const kinds = s.log_history.map(logEntryKind);
    assert.deepEqual([kinds.filter((k) => k === 'train').length, kinds.filter((k) => k === 'eval').length, kinds.filter((k) => k === 'summary').length], [6, 3, 1]);
    assert.equal(kinds[kinds.length - 1], 'summary');
    for (const e of s.log_history.filter((x) => logEntryKind(x) === 'train')) {
      // The logged lr is the lr of the next update: lr·λ(step).
      assert.equal(e['learning_rate'], learningRate(e['step'] as number, { lr: 2e-5, schedule: 'linear', warmupSteps: 0, totalSteps: 345 }));
      assert.equal(e['epoch'], (e['step'] as number) / 115);
    }
    const evals = s.log_history.filter((x) => logEntryKind(x) === 'eval');
    const best = evals.reduce((a, b) => ((b['eval_f1'] as number) > (a['eval_f1'] as number) ? b : a));
    assert.equal(s.best_metric, best['eval_f1']);
    assert.equal(s.best_global_step, best['step']);
    assert.ok(s.best_model_checkpoint!.endsWith(`checkpoint-${best['step']}`));
    assert.deepEqual(s.stateful_callbacks['EarlyStoppingCallback'], { args: { early_stopping_patience: 2, early_stopping_threshold: 0 }, attributes: { early_stopping_patience_counter: 1 } });
  });

  it('loads an older file, filling in the fields it lacks with HF\'s defaults', () => {
    const s = readTrainerState(join(FIX, 'hf-4.26-mlm.json'));
    assert.equal(s.global_step, 1000);
    assert.equal(s.logging_steps, 500);
    assert.equal(s.best_global_step, null);
    assert.deepEqual(s.stateful_callbacks, {});
    assert.equal(s.log_history[1]!['learning_rate'], 0);
  });

  it('round-trips: written sorted and indented like save_to_json, read back equal', () => {
    for (const f of ['hf-4.52-mrpc.json', 'hf-4.26-mlm.json']) {
      const original = readFileSync(join(FIX, f), 'utf8');
      const s = parseTrainerState(original, f);
      const out = serializeTrainerState(s);
      assert.deepEqual(parseTrainerState(out, 'out.json'), s);
      const extra = Object.keys(JSON.parse(out)).filter((k) => !(k in JSON.parse(original)));
      assert.deepEqual(JSON.parse(out), { ...JSON.parse(original), ...Object.fromEntries(extra.map((k) => [k, (newTrainerState() as unknown as Record<string, unknown>)[k]])) });
      const keys = [...out.matchAll(/^ {2}"(\w+)":/gm)].map((m) => m[1]!);
      assert.deepEqual(keys, [...keys].sort(), 'sort_keys');
      assert.ok(out.endsWith('}\n'));
    }
    const dir = mkdtempSync(join(tmpdir(), 'bertlab-state-'));
    try {
      const s = newTrainerState({ global_step: 3, log_history: [{ loss: NaN, grad_norm: Infinity, learning_rate: 1e-5, epoch: 0.5, step: 3 }], trial_name: 'tëst', kept_unknown: 1 } as never);
      writeTrainerState(join(dir, 'trainer_state.json'), s);
      const text = readFileSync(join(dir, 'trainer_state.json'), 'utf8');
      assert.match(text, /"grad_norm": Infinity,\n\s+"learning_rate": 1e-05|"grad_norm": Infinity,/);
      assert.match(text, /"loss": NaN,/);
      assert.match(text, /"trial_name": "t\\u00ebst"/, 'ensure_ascii');
      assert.deepEqual(readTrainerState(join(dir, 'trainer_state.json')), s);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('refuses broken files, naming the file, every bad field and its value', () => {
    assert.throws(() => parseTrainerState('{"global_step": 1', 'ck/trainer_state.json'), (e: Error) => e instanceof TrainerStateError && /^ck\/trainer_state\.json: not valid JSON/.test(e.message));
    assert.throws(() => parseTrainerState('{"epoch": 1}', 'a.json'), /a\.json: global_step and log_history are missing; this is not a trainer_state\.json/);
    const bad = JSON.stringify({ global_step: 'x', log_history: [{ loss: 1, step: 1 }, { loss: [1], step: -1 }, 3], stateful_callbacks: { TrainerControl: { args: {} } } });
    assert.throws(() => parseTrainerState(bad, 'b.json'), (e: Error) => {
      assert.match(e.message, /^b\.json: 5 problems in this trainer_state\.json:/);
      assert.match(e.message, /field "global_step" is "x"; it must be an integer ≥ 0/);
      assert.match(e.message, /field "log_history\[1\]\.loss" is \[1\]; it must be a number/);
      assert.match(e.message, /field "log_history\[1\]\.step" is -1; it must be an integer ≥ 0/);
      assert.match(e.message, /field "log_history\[2\]" is 3; it must be an object of logged values/);
      assert.match(e.message, /field "stateful_callbacks\.TrainerControl" is \{"args":\{\}\}; it must be an object \{"args"/);
      return true;
    });
  });
});

describe('run log', () => {
  const records: RunLogRecord[] = [
    { type: 'start', time: 1, run_name: 'r', output_dir: '/o', max_steps: 10, num_train_epochs: 1, device: 'cpu' },
    { type: 'step', step: 1, epoch: 0.1, loss: 2.5, learning_rate: 1e-5, grad_norm: 1.2, tokens_per_second: 900, time: 2 },
    { type: 'eval', step: 5, epoch: 0.5, metrics: { eval_loss: 1.5, eval_accuracy: 0.75 } },
    { type: 'checkpoint', step: 5, path: '/o/checkpoint-5', metrics: { eval_loss: 1.5 } },
    { type: 'done', step: 10, time: 3, reason: 'completed', metrics: { train_loss: 1.7 } },
    { type: 'error', time: 4, message: 'out of memory', step: 7 },
  ];

  it('reads each record type back as written', () => {
    const text = records.map(formatRunLogRecord).join('');
    assert.deepEqual(parseRunLog(text, 'run.jsonl'), { records, warnings: [] });
  });

  it('turns a torn last line into a warning and keeps the records before it', () => {
    const full = records.slice(0, 3).map(formatRunLogRecord).join('');
    const torn = `${full}${formatRunLogRecord(records[3]!).slice(0, 25)}`;
    const { records: rs, warnings: ws } = parseRunLog(torn, 'run.jsonl');
    assert.deepEqual(rs, records.slice(0, 3));
    assert.equal(ws.length, 1);
    assert.equal(ws[0]!.line, 4);
    assert.match(ws[0]!.message, /^run\.jsonl:4: not a complete JSON record \(cut off by a crash, or still being written\); skipped$/);
  });

  it('warns about lines that are not records, and reads null losses as NaN', () => {
    const w = (line: string) => { const r = parseRunLogLine(line, 'l.jsonl', 9); assert.ok(r && !r.ok, line); return r.warning.message; };
    assert.match(w('{"type":"stpe","step":1}'), /l\.jsonl:9: unknown record type "stpe"/);
    assert.match(w('{"type":"step","step":1,"epoch":0}'), /a "step" record without "loss"; skipped/);
    assert.match(w('{"type":"checkpoint","step":1,"path":3,"metrics":{}}'), /"path" of a "checkpoint" record is 3; expected a string/);
    assert.match(w('{"type":"eval","step":1,"epoch":1,"metrics":{"eval_loss":"low"}}'), /expected an object of numbers/);
    assert.match(w('[1]'), /not a record object/);
    assert.equal(parseRunLogLine('   ', 'l.jsonl', 1), null);
    const r = parseRunLogLine('{"type":"step","step":1,"epoch":0,"loss":null,"learning_rate":0,"grad_norm":null,"tokens_per_second":1,"time":0}', 'l.jsonl', 1);
    assert.ok(r?.ok && r.record.type === 'step' && Number.isNaN(r.record.loss) && Number.isNaN(r.record.grad_norm));
    const e = parseRunLogLine('{"type":"eval","step":1,"epoch":1,"metrics":{"eval_loss":null}}', 'l.jsonl', 1);
    assert.ok(e?.ok && e.record.type === 'eval' && Number.isNaN(e.record.metrics['eval_loss']));
  });
});
