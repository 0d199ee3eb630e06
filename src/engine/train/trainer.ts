/**
 * The trainer: Hugging Face Trainer's loop on the compiled ONNX train step. It reads and
 * tokenizes the data, builds or loads the model (transfer, freezing, multi-task), runs K
 * optimizer steps per onnxruntime call, evaluates, logs, checkpoints (HF layout), stops early,
 * and resumes bit-identically. It speaks through typed events and a JSONL run log; it never
 * touches a UI.
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BertConfig, bertConfig } from '../models/bert/config.js';
import { BertForMaskedLM, BertForSequenceClassification, BertMultiTask } from '../models/bert/heads.js';
import { Weights, cleanCheckpointLeftovers, loadWeights, readConfig, writeModelFiles } from '../checkpoint/bert-folder.js';
import { syncFile } from '../checkpoint/durable.js';
import { readExamples } from '../data/readers.js';
import { isValidation } from '../data/split.js';
import { inferLabels, LabelMapping } from '../data/labels.js';
import { defaultBuckets } from '../data/batching.js';
import { Rng } from '../data/rng.js';
import { DatasetSpec, Example } from '../data/types.js';
import { Value } from '../ir/graph.js';
import * as F from '../autodiff/ops.js';
import { CompiledTrainStep, ParamSpec, compileTrainStep } from '../optim/train-step.js';
import { ModelRunner, TrainState, TrainStepRunner } from '../optim/runner.js';
import { EngineSession } from '../runtime/session.js';
import { WordPieceTokenizer, loadTokenizer, saveTokenizer, trainWordPiece } from '../tokenizer/index.js';
import { ParsedTrainingConfig, tasksOf } from './config.js';
import { TaskConfig } from './config-types.js';
import { learningRate, scheduleOf, totalStepsOf } from './schedule.js';
import { RunLogRecord, TrainerState, formatRunLogRecord, newTrainerState, readTrainerState, serializeTrainerState } from './state.js';
import { ClassificationTask, MlmTask, TaskModel, TaskRuntime, TaskState } from './tasks.js';
import { StreamingMlmTask } from './streaming.js';
import { checkpointName, lastCompleteCheckpoint, listCheckpoints, loadResumeState, rotateCheckpoints, saveTrainingCheckpoint } from './checkpoint.js';
import { AvailableMemory, availableMemory, estimateTrainingMemory, memoryProblem } from './resources.js';
import { metricKey } from './metrics.js';

export type TrainerEvent = RunLogRecord;
export type RunnerFactory = (model: Uint8Array, purpose: 'train' | 'eval') => Promise<ModelRunner & { choice?: { device: string; reason: string }; release?: () => Promise<void> }>;

export interface TrainerOptions {
  runnerFor?: RunnerFactory;
  /** Human-readable notes (transfer, data, device). */
  log?: (line: string) => void;
  /** Stop (with a checkpoint) once this many optimizer steps are done — as if interrupted. */
  stopAtStep?: number;
  /** The configuration file, recorded in the run log so a UI can resume the run. */
  configFile?: string;
  /** The memory the estimate is checked against (default: what the device reports free); for tests. */
  availableMemory?: AvailableMemory[];
}

/** A NaN or infinite loss or gradient norm that stops the run (nan_inf_policy "stop", or too many skips). */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(readonly step: number, message: string) { super(message); }
}

export interface TrainResult {
  step: number;
  reason: 'completed' | 'early_stopping' | 'stopped';
  bestModelCheckpoint: string | null;
  bestMetric: number | null;
  lastEval: Record<string, number> | null;
  outputDir: string;
}

type Model = BertForMaskedLM | BertForSequenceClassification | BertMultiTask;

/** Files larger than this are streamed (unless the configuration says otherwise). */
const STREAM_BYTES = 512 * 2 ** 20;
/** Examples of a streamed corpus the vocabulary trainer sees. */
const TOKENIZER_SAMPLE = 50_000;
function sizeOf(spec: string | DatasetSpec): number {
  const p = typeof spec === 'string' ? spec : spec.path;
  try { const st = statSync(p); return st.isDirectory() ? 0 : st.size; } catch { return 0; }
}

async function readAll(spec: string | DatasetSpec): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of readExamples(spec)) out.push(e);
  return out;
}

/** Train and validation examples of a task: its validation_file, or a hash split of train_file. */
async function taskData(t: TaskConfig, seed: number): Promise<{ train: Example[]; eval: Example[] }> {
  const all = await readAll(t.train_file);
  if (t.validation_file !== undefined) return { train: all, eval: await readAll(t.validation_file) };
  const ratio = (t.validation_split_percentage ?? 10) / 100;
  const train: Example[] = [], ev: Example[] = [];
  all.forEach((e, i) => (isValidation(i, seed, ratio) ? ev : train).push(e));
  return { train, eval: ev };
}

export class Trainer {
  private listeners: ((e: TrainerEvent) => void)[] = [];
  private stopRequested = false;
  private readonly compiled = new Map<string, { compiled: CompiledTrainStep; runner: Promise<ModelRunner> }>();
  private readonly outputDir: string;
  private readonly tokenizerDir: string;
  private trainState!: TrainState;
  private hfState!: TrainerState;
  private readonly runlog: string;
  private device = 'cpu';

  private constructor(readonly cfg: ParsedTrainingConfig, readonly model: Model, readonly tasks: TaskRuntime[],
    readonly tokenizer: WordPieceTokenizer, private readonly trainable: ParamSpec[], private readonly frozen: ParamSpec[],
    private readonly opts: TrainerOptions) {
    this.outputDir = resolve(cfg.output_dir);
    this.tokenizerDir = join(this.outputDir, 'tokenizer');
    this.runlog = join(this.outputDir, 'run_log.jsonl');
  }

  on(fn: (e: TrainerEvent) => void): () => void {
    this.listeners.push(fn);
    return () => { this.listeners = this.listeners.filter((f) => f !== fn); };
  }
  /** Stops after the current onnxruntime run, with a checkpoint. */
  stop(): void { this.stopRequested = true; }

  /** One record = one append of one whole line (a kill cannot tear it; a full disk can, and readers skip such a line). */
  private emit(e: TrainerEvent): void {
    let failed: unknown = null;
    try { appendFileSync(this.runlog, formatRunLogRecord(e)); } catch (x) { failed = x; }
    for (const f of this.listeners) f(e); // listeners hear of the event even when the disk is full
    if (failed) throw failed;
  }
  private note(s: string): void { this.opts.log?.(s); }

  // ---- setup -----------------------------------------------------------------------------------

  static async create(cfg: ParsedTrainingConfig, opts: TrainerOptions = {}): Promise<Trainer> {
    const log = (s: string) => opts.log?.(s);
    const outputDir = resolve(cfg.output_dir);
    // Temporary folders and files of a save interrupted by a crash are never checkpoints: removed.
    for (const n of cleanCheckpointLeftovers(outputDir)) log(`${outputDir}: ${n}`);
    const resumeFrom = Trainer.resumeFolder(cfg, log);
    if (!resumeFrom && listCheckpoints(outputDir).length && !cfg.overwrite_output_dir) {
      throw new Error(`output_dir ${outputDir} already has checkpoints; set "resume_from_checkpoint": true to continue that run, or "overwrite_output_dir": true to start over`);
    }
    mkdirSync(outputDir, { recursive: true });
    const taskCfgs = tasksOf(cfg);
    if (taskCfgs.length === 0) throw new Error('the configuration names no task: set "task" and "train_file", or "tasks"');
    const streams = taskCfgs.map((t) => t.kind === 'mlm' && (cfg.streaming ?? sizeOf(t.train_file) > STREAM_BYTES));
    if (streams.some(Boolean) && !(cfg.max_steps > 0)) throw new Error('streaming training reads its data as it goes, so the number of steps cannot come from epochs: set "max_steps"');
    const data = await Promise.all(taskCfgs.map((t, i) => (streams[i] ? { train: [] as Example[], eval: [] as Example[] } : taskData(t, cfg.seed))));
    data.forEach((d, i) => log(streams[i] ? `task "${taskCfgs[i]!.name}": streaming ${typeof taskCfgs[i]!.train_file === 'string' ? taskCfgs[i]!.train_file : (taskCfgs[i]!.train_file as DatasetSpec).path}` : `task "${taskCfgs[i]!.name}": ${d.train.length} training and ${d.eval.length} validation examples`));

    // Tokenizer: the model's, a named one, or trained on the training text.
    const tokDir = join(outputDir, 'tokenizer');
    let tokenizer: WordPieceTokenizer;
    const source = resumeFrom ?? cfg.model_name_or_path ?? cfg.tokenizer_name;
    if (source) tokenizer = loadTokenizer(source);
    else if (cfg.train_tokenizer) {
      const texts = data.flatMap((d) => d.train.flatMap((e) => (e.pair ? [e.text, e.pair] : [e.text])));
      // A streamed corpus lends the vocabulary trainer its first examples only.
      for (const [i, t] of taskCfgs.entries()) if (streams[i]) for await (const e of readExamples(t.train_file, { maxExamples: TOKENIZER_SAMPLE })) texts.push(e.text);
      tokenizer = trainWordPiece(texts, { vocabSize: cfg.train_tokenizer.vocab_size, minFrequency: cfg.train_tokenizer.min_frequency ?? 2, normalizer: { lowercase: cfg.train_tokenizer.lowercase ?? true } });
      log(`trained a WordPiece vocabulary of ${tokenizer.vocabSize} tokens on the training text`);
    } else throw new Error('no tokenizer: set "model_name_or_path", "tokenizer_name", or "train_tokenizer"');
    saveTokenizer(tokenizer, tokDir, { modelMaxLength: cfg.max_seq_length });

    // Labels of classification tasks.
    const labels = new Map<string, LabelMapping>();
    for (const [i, t] of taskCfgs.entries()) if (t.kind === 'classification') labels.set(t.name, await inferLabels(data[i]!.train, t.problem_type));

    // The model: config from the checkpoint or from model_config; heads from the tasks.
    const base: BertConfig = source && (resumeFrom ?? cfg.model_name_or_path) ? readConfig((resumeFrom ?? cfg.model_name_or_path)!) : bertConfig({ ...cfg.model_config, vocab_size: tokenizer.vocabSize });
    if (base.vocab_size < tokenizer.vocabSize) throw new Error(`the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${base.vocab_size}`);
    if (cfg.max_seq_length > base.max_position_embeddings) throw new Error(`max_seq_length ${cfg.max_seq_length} exceeds the model's max_position_embeddings (${base.max_position_embeddings}); lower max_seq_length`);
    let model: Model;
    if (taskCfgs.length === 1 && taskCfgs[0]!.kind === 'mlm') model = new BertForMaskedLM({ ...base, architectures: ['BertForMaskedLM'] });
    else if (taskCfgs.length === 1) {
      const l = labels.get(taskCfgs[0]!.name)!;
      model = new BertForSequenceClassification({ ...base, architectures: ['BertForSequenceClassification'], id2label: l.id2label, label2id: l.label2id, problem_type: l.problemType });
    } else {
      model = new BertMultiTask({ ...base, architectures: ['BertMultiTask'] }, taskCfgs.map((t) => (t.kind === 'mlm' ? { name: t.name, kind: 'mlm' as const }
        : { name: t.name, kind: 'classification' as const, labels: Object.keys(labels.get(t.name)!.id2label).length, problemType: labels.get(t.name)!.problemType })));
    }

    // Frozen parameters.
    const frozenPrefixes = [...(cfg.freeze_embeddings ? ['bert.embeddings.'] : []), ...Array.from({ length: cfg.freeze_layers }, (_, i) => `bert.encoder.layer.${i}.`)];
    const isFrozen = (n: string) => frozenPrefixes.some((p) => n.startsWith(p));
    const trainable = model.ps.specs.filter((p) => !isFrozen(p.name)), frozen = model.ps.specs.filter((p) => isFrozen(p.name));
    if (frozen.length) log(`frozen: ${frozen.length} parameter tensors (${frozenPrefixes.join(', ')})`);

    // Refuse a run that cannot fit before any weight is allocated.
    const numel = (ps: ParamSpec[]) => ps.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
    const est = { cfg: model.cfg, params: numel(model.ps.specs), trainable: numel(trainable), batchSize: cfg.per_device_train_batch_size, seqLength: cfg.max_seq_length,
      stepsPerRun: cfg.steps_per_run, accumulation: cfg.gradient_accumulation_steps, mlmProbability: taskCfgs.some((t) => t.kind === 'mlm') ? cfg.mlm_probability : 0 };
    const memory = estimateTrainingMemory(est);
    log(`memory estimate: ${(memory.total / 2 ** 20).toFixed(0)} MiB`);
    const tooBig = memoryProblem(memory, est, opts.availableMemory ?? availableMemory(cfg.device));
    if (tooBig && !cfg.skip_memory_check) throw new Error(tooBig);
    if (tooBig) log(`warning (skip_memory_check): ${tooBig}`);

    const buckets = cfg.length_buckets.length ? cfg.length_buckets : defaultBuckets(cfg.max_seq_length);
    const common = { seed: cfg.seed, buckets, stepsPerRun: cfg.steps_per_run, batchSize: cfg.per_device_train_batch_size, M: cfg.gradient_accumulation_steps };
    const tasks: TaskRuntime[] = taskCfgs.map((t, i) => {
      const c = { ...common, name: t.name, weight: t.loss_weight ?? 1 };
      const d = data[i]!;
      if (streams[i]) {
        return new StreamingMlmTask(c, tokenizer, t.train_file, { maxSeqLength: cfg.max_seq_length, lineByLine: cfg.line_by_line, mlmProbability: cfg.mlm_probability,
          wholeWord: cfg.whole_word_masking, validationRatio: (t.validation_split_percentage ?? 10) / 100, evalExamples: 1000, bufferSize: 4096 });
      }
      if (t.kind === 'mlm') {
        return new MlmTask(c, tokenizer, { train: d.train.map((e) => e.text), eval: d.eval.map((e) => e.text) },
          { maxSeqLength: cfg.max_seq_length, lineByLine: cfg.line_by_line, mlmProbability: cfg.mlm_probability, wholeWord: cfg.whole_word_masking });
      }
      return new ClassificationTask(c, tokenizer, d, labels.get(t.name)!, cfg.max_seq_length);
    });

    for (const t of tasks) if (t instanceof StreamingMlmTask) await t.init();
    const trainer = new Trainer(cfg, model, tasks, tokenizer, trainable, frozen, opts);
    // Weights: resumed, transferred, or initialized as Hugging Face does.
    const rng = Rng.derive(cfg.seed, 'init');
    let weights: Weights;
    const from = resumeFrom ?? cfg.model_name_or_path;
    if (from) {
      const r = loadWeights(from, model.ps, () => rng.next());
      weights = r.weights;
      for (const n of r.notes) log(`${from}: ${n}`);
    } else weights = model.ps.initialize(() => rng.next());
    trainer.initState(weights, resumeFrom);
    return trainer;
  }

  private static resumeFolder(cfg: ParsedTrainingConfig, log: (s: string) => void): string | undefined {
    const r = cfg.resume_from_checkpoint;
    if (!r) return undefined;
    if (typeof r === 'string') return resolve(r);
    const last = lastCompleteCheckpoint(resolve(cfg.output_dir));
    for (const n of last.notes) log(n);
    if (!last.path) throw new Error(`resume_from_checkpoint is true but ${resolve(cfg.output_dir)} has no complete checkpoint-<step> folder`);
    return last.path;
  }

  private initState(weights: Weights, resumeFrom: string | undefined): void {
    const params: Weights = {}, frozen: Weights = {}, m: Weights = {}, v: Weights = {};
    for (const p of this.trainable) { params[p.name] = weights[p.name]!; m[p.name] = new Float32Array(weights[p.name]!.length); v[p.name] = new Float32Array(weights[p.name]!.length); }
    for (const p of this.frozen) frozen[p.name] = weights[p.name]!;
    this.trainState = { params, expAvg: m, expAvgSq: v, step: 0, ...(this.frozen.length ? { frozen } : {}) };
    this.hfState = newTrainerState({ max_steps: this.totalSteps, logging_steps: this.cfg.logging_steps, eval_steps: this.cfg.eval_steps ?? this.cfg.logging_steps, save_steps: this.cfg.save_steps, train_batch_size: this.cfg.per_device_train_batch_size, num_train_epochs: this.cfg.num_train_epochs });
    if (resumeFrom) {
      const r = loadResumeState(resumeFrom);
      for (const p of this.trainable) {
        if (!r.expAvg[p.name] || !r.expAvgSq[p.name]) throw new Error(`${resumeFrom}/optimizer.safetensors: no moments for ${p.name}; the checkpoint was made with another model or freezing`);
        m[p.name] = r.expAvg[p.name]!; v[p.name] = r.expAvgSq[p.name]!;
      }
      this.trainState.step = r.step;
      const rs = r.rng as { tasks: Record<string, TaskState>; loop?: Trainer['loop'] };
      if (rs.loop) this.loop = { ...rs.loop };
      for (const t of this.tasks) {
        const s = rs.tasks?.[t.name];
        if (!s) throw new Error(`${resumeFrom}/rng_state.json: no state for task "${t.name}"`);
        t.restore(s);
      }
      this.hfState = readTrainerState(join(resumeFrom, 'trainer_state.json'));
      this.resumedFrom = resumeFrom;
      this.lastSaved = resumeFrom;
    }
  }
  private resumedFrom: string | null = null;

  /** Optimizer steps of the whole run (HF's max_steps rule, on the first task's epochs). */
  get totalSteps(): number {
    const t = this.tasks[0]!;
    return totalStepsOf(this.cfg, Math.ceil(t.trainSize / t.batchSize));
  }
  get stepsPerEpoch(): number {
    const t = this.tasks[0]!;
    if (!Number.isFinite(t.trainSize)) return Infinity; // streaming: epochs end when the file does
    return Math.max(Math.ceil(Math.ceil(t.trainSize / t.batchSize) / this.cfg.gradient_accumulation_steps), 1);
  }
  private epochAt(step: number): number {
    const spe = this.stepsPerEpoch;
    return Number.isFinite(spe) ? step / spe : this.tasks[0]!.epochProgress;
  }
  get weights(): Weights { return { ...this.trainState.frozen, ...this.trainState.params }; }

  // ---- the train step per bucket ----------------------------------------------------------------

  private taskModel(t: TaskRuntime): TaskModel {
    const m = this.model;
    if (m instanceof BertForMaskedLM) return { bert: m.bert, mlm: m.head };
    if (m instanceof BertForSequenceClassification) return { bert: m.bert, head: m.head };
    return { bert: m.bert, mlm: m.mlm, ...(m.classifiers.get(t.name) ? { head: m.classifiers.get(t.name)! } : {}) };
  }

  private runnerFor: RunnerFactory = async (model, purpose) => this.opts.runnerFor ? this.opts.runnerFor(model, purpose)
    : EngineSession.create(model, { device: this.cfg.device, threads: this.cfg.threads ?? 0, purpose: 'train' });

  private stepModel(Ts: number[]): { compiled: CompiledTrainStep; runner: Promise<ModelRunner> } {
    const key = Ts.join(',');
    let c = this.compiled.get(key);
    if (!c) {
      const compiled = compileTrainStep({
        params: this.trainable, frozen: this.frozen,
        batch: this.tasks.flatMap((t, i) => t.batchSpecs(Ts[i]!)),
        loss: ({ params, batch, seed }) => this.tasks.map((t, i) => {
          const l = t.loss(this.taskModel(t), params, batch, F.add(seed, i * 104729));
          return t.weight === 1 ? l : F.mul(l, t.weight);
        }).reduce((a: Value, b: Value) => F.add(a, b)),
        adamw: { beta1: this.cfg.adam_beta1, beta2: this.cfg.adam_beta2, eps: this.cfg.adam_epsilon, weightDecay: this.cfg.weight_decay },
        maxGradNorm: this.cfg.max_grad_norm,
        accumulation: this.cfg.gradient_accumulation_steps,
        ...(this.cfg.nan_inf_policy === 'skip' ? { nonFinite: 'skip' as const } : {}),
      });
      const runner = this.runnerFor(compiled.model, 'train').then((r) => {
        const choice = (r as { choice?: { device: string; reason: string } }).choice;
        if (choice) { this.device = choice.device; }
        return r;
      });
      c = { compiled, runner };
      this.compiled.set(key, c);
    }
    return c;
  }

  // ---- the loop -----------------------------------------------------------------------------------

  async train(): Promise<TrainResult> {
    const cfg = this.cfg, total = this.totalSteps, spe = this.stepsPerEpoch;
    const sched = scheduleOf(cfg, total);
    if (!Number.isFinite(spe) && (cfg.eval_strategy === 'epoch' || cfg.save_strategy === 'epoch')) throw new Error('a streamed dataset has no known epoch length: use eval_strategy and save_strategy "steps"');
    const evalEvery = cfg.eval_strategy === 'steps' ? (cfg.eval_steps ?? cfg.logging_steps) : cfg.eval_strategy === 'epoch' ? spe : 0;
    const saveEvery = cfg.save_strategy === 'steps' ? cfg.save_steps : cfg.save_strategy === 'epoch' ? spe : 0;
    const metric = cfg.metric_for_best_model ?? (evalEvery ? 'eval_loss' : undefined);
    const greater = cfg.greater_is_better ?? (metric ? !/(loss|perplexity|mse|mae)$/.test(metric) : false);
    const started = Date.now();
    this.endRunLogLine();
    this.emit({ type: 'start', time: started, run_name: cfg.run_name, output_dir: this.outputDir, max_steps: total, num_train_epochs: cfg.num_train_epochs, device: cfg.device, resumed_from: this.resumedFrom, ...(this.opts.configFile ? { config_file: this.opts.configFile } : {}) });
    let reason: TrainResult['reason'] = 'completed';
    let lastEval: Record<string, number> | null = null;
    // Running log and early-stopping counters live in this.loop so that checkpoints carry them.
    const L = this.loop;
    const firstStep = this.trainState.step;
    const next = (every: number, s: number) => (every > 0 ? (Math.floor(s / every) + 1) * every : Infinity);
    try {
      while (this.trainState.step < total) {
        const s = this.trainState.step;
        const stopAt = this.opts.stopAtStep ?? Infinity;
        const boundary = Math.min(total, next(cfg.logging_steps, s), next(evalEvery, s), next(saveEvery, s), stopAt > s ? stopAt : Infinity);
        let n = Math.min(cfg.steps_per_run, boundary - s);
        for (const t of this.tasks) { await t.prepare(); n = Math.min(n, Math.floor(t.front().batches.length / t.M)); }
        const taken = this.tasks.map((t) => t.take(n));
        const feeds = Object.assign({}, ...this.tasks.map((t, i) => t.tensors(taken[i]!.batches, taken[i]!.T, n)));
        const { compiled, runner } = this.stepModel(taken.map((x) => x.T));
        const stepRunner = new TrainStepRunner(compiled, await runner, this.trainState);
        const lrs = Array.from({ length: n }, (_, i) => learningRate(s + i, sched));
        const t0 = performance.now();
        const out = await stepRunner.steps(lrs, feeds, cfg.seed);
        const ms = performance.now() - t0;
        this.trainState = stepRunner.state;
        const tokens = this.tasks.reduce((a, t) => a + countTokens(feeds[`${t.name}.attention_mask`]?.data as BigInt64Array | undefined), 0);
        for (let i = 0; i < n; i++) {
          const step = s + i + 1;
          const loss = out.loss[i]!, gn = out.gradNorm[i]!;
          const finite = Number.isFinite(loss) && Number.isFinite(gn);
          const what = `the ${Number.isFinite(loss) ? `gradient norm became ${gn}` : `loss became ${loss}`} at step ${step}`;
          const advice = 'lower learning_rate, keep max_grad_norm on, or check the data of that step';
          const kept = this.lastSaved ? `the last checkpoint, ${this.lastSaved}, is kept` : 'no checkpoint of this run was saved yet';
          if (!finite && cfg.nan_inf_policy === 'stop') {
            // The Loop ran on past this step with poisoned weights: nothing of this run is saved.
            throw new NonFiniteError(step, `${what}; the run stopped (nan_inf_policy "stop"); ${kept} — ${advice}, then resume or restart`);
          }
          L.skipsInARow = finite ? 0 : (L.skipsInARow ?? 0) + 1;
          if (finite) { L.logLoss += loss; L.logN++; L.lastGradNorm = gn; }
          this.emit({ type: 'step', step, epoch: this.epochAt(step), loss, learning_rate: out.lr[i]!, grad_norm: gn, tokens_per_second: tokens / (ms / 1000), time: Date.now(), ...(finite ? {} : { skipped: true }) });
          if (!finite) {
            this.note(`warning: ${what}; its update was skipped (nan_inf_policy "skip"), ${L.skipsInARow} in a row`);
            if (L.skipsInARow >= cfg.nan_inf_patience) throw new NonFiniteError(step, `${what}: ${L.skipsInARow} steps in a row had a NaN or infinite loss or gradient (nan_inf_patience ${cfg.nan_inf_patience}); the run stopped; ${kept} — ${advice}`);
          }
        }
        const step = this.trainState.step, epoch = this.epochAt(step);
        if (step % cfg.logging_steps === 0 || step === total) {
          this.hfState.log_history.push({ loss: L.logLoss / L.logN, grad_norm: L.lastGradNorm, learning_rate: out.lr[n - 1]!, epoch, step });
          L.logLoss = 0; L.logN = 0;
        }
        const isEval = evalEvery > 0 && (step % evalEvery === 0 || step === total);
        if (isEval) {
          lastEval = await this.evaluate();
          this.hfState.log_history.push({ ...lastEval, epoch, step });
          const details = Object.fromEntries(this.tasks.flatMap((t) => (t instanceof ClassificationTask && t.lastDetails ? [[t.name, t.lastDetails]] : [])));
          this.emit({ type: 'eval', step, epoch, metrics: lastEval, time: Date.now(), ...(Object.keys(details).length ? { details } : {}) });
          const value = metric ? lastEval[metric] : undefined;
          if (metric && value === undefined) throw new Error(`metric_for_best_model "${metric}" is not among the evaluation's metrics: ${Object.keys(lastEval).join(', ')}`);
          if (value !== undefined) {
            const best = this.hfState.best_metric;
            const threshold = cfg.early_stopping_threshold ?? 0;
            const improved = best === null || (greater ? value > best + threshold : value < best - threshold);
            if (improved) { this.hfState.best_metric = value; this.hfState.best_global_step = step; L.badEvals = 0; this.pendingBest = true; }
            else L.badEvals++;
          }
        }
        this.hfState.global_step = step;
        this.hfState.epoch = epoch;
        const early = cfg.early_stopping_patience !== undefined && L.badEvals >= cfg.early_stopping_patience;
        const stopping = this.stopRequested || step >= (this.opts.stopAtStep ?? Infinity);
        if ((saveEvery > 0 && step % saveEvery === 0) || stopping || early) this.save(step, lastEval && isEval ? lastEval : {});
        if (early) { reason = 'early_stopping'; break; }
        if (stopping) { reason = 'stopped'; break; }
      }
      const step = this.trainState.step;
      const runtime = (Date.now() - started) / 1000;
      const summary = { train_runtime: runtime, train_samples_per_second: ((step - firstStep) * cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps) / runtime, train_steps_per_second: (step - firstStep) / runtime, total_flos: 0, train_loss: this.meanTrainLoss(), epoch: this.epochAt(step), step };
      if (reason === 'completed') {
        this.hfState.log_history.push(summary);
        this.saveFinal();
      }
      this.emit({ type: 'done', step, time: Date.now(), reason, metrics: summary, best_model_checkpoint: this.hfState.best_model_checkpoint });
      return { step, reason, bestModelCheckpoint: this.hfState.best_model_checkpoint, bestMetric: this.hfState.best_metric, lastEval, outputDir: this.outputDir };
    } catch (e) {
      // On a full disk the error record may not fit either: the error itself must still reach the caller.
      try { this.emit({ type: 'error', time: Date.now(), message: (e as Error).message, step: e instanceof NonFiniteError ? e.step : this.trainState.step }); } catch { /* the run log cannot be written */ }
      throw e;
    } finally {
      for (const { runner } of this.compiled.values()) await (await runner.catch(() => null) as { release?: () => Promise<void> } | null)?.release?.();
    }
  }
  private pendingBest = false;
  /** skipsInARow: steps skipped for NaN/Inf in a row (absent in checkpoints of older versions). */
  private loop: { logLoss: number; logN: number; lastGradNorm: number; badEvals: number; skipsInARow?: number } = { logLoss: 0, logN: 0, lastGradNorm: 0, badEvals: 0 };
  private lastSaved: string | null = null;

  /** A run log whose last line a crash cut off gets a newline, so that line stays one bad line (skipped with a warning on reading) and the next record starts clean. */
  private endRunLogLine(): void {
    if (!existsSync(this.runlog)) return;
    const size = statSync(this.runlog).size;
    if (size === 0) return;
    const fd = openSync(this.runlog, 'r');
    const last = Buffer.alloc(1);
    try { readSync(fd, last, 0, 1, size - 1); } finally { closeSync(fd); }
    if (last[0] !== 10) appendFileSync(this.runlog, '\n');
  }

  private meanTrainLoss(): number {
    const losses = this.hfState.log_history.map((e) => e['loss']).filter((x): x is number => typeof x === 'number');
    return losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : NaN;
  }

  /** Evaluates every task; single task: eval_<metric>; multi-task: eval_<task>_<metric> and eval_loss (weighted sum). */
  async evaluate(): Promise<Record<string, number>> {
    const specs = this.model.ps.specs;
    const weights = this.weights;
    const out: Record<string, number> = {};
    let weighted = 0;
    for (const t of this.tasks) {
      const m = await t.evaluate(this.taskModel(t), weights, specs, (g) => this.runnerFor(g, 'eval'));
      const single = this.tasks.length === 1;
      for (const [k, v] of Object.entries(m)) out[metricKey(k, single ? undefined : t.name)] = v;
      weighted += (m['loss'] ?? 0) * t.weight;
    }
    if (this.tasks.length > 1) out['eval_loss'] = weighted;
    return out;
  }

  private save(step: number, metrics: Record<string, number>): void {
    // HF names the best checkpoint when it saves one after an improved evaluation.
    if (this.pendingBest) { this.hfState.best_model_checkpoint = join(this.outputDir, checkpointName(step)); this.pendingBest = false; }
    let folder: string;
    try {
      folder = saveTrainingCheckpoint(this.outputDir, this.model, this.weights, {
        step, expAvg: this.trainState.expAvg, expAvgSq: this.trainState.expAvgSq,
        rng: { tasks: Object.fromEntries(this.tasks.map((t) => [t.name, t.state()])), loop: this.loop },
      }, { trainerState: this.hfState, trainingArgs: this.cfg, tokenizerFrom: this.tokenizerDir });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOSPC' ? 'the disk is full (ENOSPC)' : code === 'EDQUOT' ? 'the disk quota is exceeded (EDQUOT)' : (e as Error).message;
      throw new Error(`saving ${checkpointName(step)} in ${this.outputDir} failed: ${why}. Nothing of it was kept; ${this.lastSaved ? `the previous checkpoint ${this.lastSaved} is intact` : 'no earlier checkpoint of this run exists'}. Free some space (or lower save_total_limit) and resume with --resume`, { cause: e });
    }
    this.lastSaved = folder;
    rotateCheckpoints(this.outputDir, this.cfg.save_total_limit, this.hfState.best_model_checkpoint);
    this.emit({ type: 'checkpoint', step, path: folder, metrics, time: Date.now() });
    // Everything logged up to this checkpoint reaches the disk with it.
    syncFile(this.runlog);
  }

  /** The final model in output_dir itself (the best one with load_best_model_at_end), as trainer.save_model() does. */
  private saveFinal(): void {
    let weights = this.weights;
    const best = this.hfState.best_model_checkpoint;
    if (this.cfg.load_best_model_at_end && best && existsSync(best)) weights = loadWeights(best, this.model.ps, Math.random).weights;
    try {
      writeModelFiles(this.outputDir, this.model, weights, { tokenizerFrom: this.tokenizerDir, extraFiles: { 'trainer_state.json': serializeTrainerState(this.hfState) } });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(`saving the final model in ${this.outputDir} failed: ${code === 'ENOSPC' ? 'the disk is full (ENOSPC)' : (e as Error).message}. No file of it was replaced${this.lastSaved ? `; the last checkpoint ${this.lastSaved} is intact — free some space and resume with --resume to save the model` : ''}`, { cause: e });
    }
  }
}

function countTokens(mask: BigInt64Array | undefined): number {
  if (!mask) return 0;
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0n) n++;
  return n;
}
