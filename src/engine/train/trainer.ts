/**
 * The trainer: Hugging Face Trainer's loop on the compiled ONNX train step. It executes a run's
 * plan (plan.ts: data, tokenizer, labels, model, transfer, freezing, multi-task), runs K optimizer
 * steps per onnxruntime call, evaluates, logs, checkpoints (HF layout), stops early or when its time
 * budget (max_time) is spent, and resumes bit-identically. It speaks through typed events and a JSONL run log; it never touches a UI.
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Weights, loadWeights, writeModelFiles } from '../models/bert/folder.js';
import { syncFile } from '../checkpoint/durable.js';
import { Value } from '../ir/graph.js';
import * as F from '../autodiff/index.js';
import { CompiledTrainStep, compileTrainStep } from '../optim/train-step.js';
import { ParamSpec } from '../nn/module.js';
import { TrainState, TrainStepRunner } from '../optim/runner.js';
import { ModelRunner } from '../runtime/runner.js';
import { EngineSession } from '../runtime/session.js';
import { WordPieceTokenizer, saveTokenizer } from '../tokenizer/index.js';
import { ParsedTrainingConfig } from './config.js';
import { budgetTotalSteps, learningRate, scheduleOf, totalStepsOf, warmupStepsOf } from './schedule.js';
import { RunLogRecord, TrainerState, formatRunLogRecord, newTrainerState, readTrainerState, serializeTrainerState, setTimeBudget, timeBudgetOf } from './state.js';
import { formatDuration, parseDuration } from './duration.js';
import { ClassificationTask, TaskModel, TaskRuntime, TaskState } from './tasks.js';
import { checkpointName, rotateCheckpoints, saveTrainingCheckpoint } from './checkpoint.js';
import { AvailableMemory } from './resources.js';
import { metricKey } from './metrics.js';
import { Model, RunPlan, planRun } from './plan.js';
import { BestMetric, bestMetricOptions } from './best.js';
import { ElectraPreTrainingModel } from '../models/electra/pretraining.js';

export type TrainerEvent = RunLogRecord;
export type RunnerFactory = (model: Uint8Array, purpose: 'train' | 'eval') => Promise<ModelRunner & { choice?: { device: string; reason: string } }>;

export interface TrainerOptions {
  runnerFor?: RunnerFactory;
  /** Human-readable notes (transfer, data, device, what a resume continues from and what changed). */
  log?: (line: string) => void;
  /** Stop (with a checkpoint) once this many optimizer steps are done — as if interrupted. */
  stopAtStep?: number;
  /** The configuration file, recorded in the run log so a UI can resume the run. */
  configFile?: string;
  /** The memory the estimate is checked against (default: what the device reports free); for tests. */
  availableMemory?: AvailableMemory[];
  /** The clock max_time is measured with, in milliseconds (default Date.now); tests give a fake one. */
  now?: () => number;
}

/** A NaN or infinite loss or gradient norm that stops the run (nan_inf_policy "stop", or too many skips). */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
  constructor(readonly step: number, message: string) { super(message); }
}

export interface TrainResult {
  step: number;
  /** max_time: the time budget was spent (a checkpoint and the model are saved). */
  reason: 'completed' | 'early_stopping' | 'stopped' | 'max_time';
  bestModelCheckpoint: string | null;
  bestMetric: number | null;
  lastEval: Record<string, number> | null;
  outputDir: string;
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
  readonly cfg: ParsedTrainingConfig;
  readonly model: Model;
  readonly tasks: TaskRuntime[];
  readonly tokenizer: WordPieceTokenizer;
  private readonly trainable: ParamSpec[];
  private readonly frozen: ParamSpec[];

  private constructor(plan: RunPlan, private readonly opts: TrainerOptions) {
    ({ cfg: this.cfg, model: this.model, tasks: this.tasks, tokenizer: this.tokenizer, trainable: this.trainable, frozen: this.frozen, outputDir: this.outputDir } = plan);
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

  /** Plans the run (nothing is written if that fails), then creates output_dir and its tokenizer folder. */
  static async create(cfg: ParsedTrainingConfig, opts: TrainerOptions = {}): Promise<Trainer> {
    return Trainer.fromPlan(await planRun(cfg, opts), opts);
  }

  static fromPlan(plan: RunPlan, opts: TrainerOptions = {}): Trainer {
    mkdirSync(plan.outputDir, { recursive: true });
    saveTokenizer(plan.tokenizer, join(plan.outputDir, 'tokenizer'), { modelMaxLength: plan.cfg.max_seq_length });
    const trainer = new Trainer(plan, opts);
    trainer.initState(plan.weights, plan.resume);
    return trainer;
  }

  private initState(weights: Weights, resume: RunPlan['resume']): void {
    const params: Weights = {}, frozen: Weights = {}, m: Weights = {}, v: Weights = {};
    for (const p of this.trainable) { params[p.name] = weights[p.name]!; m[p.name] = new Float32Array(weights[p.name]!.length); v[p.name] = new Float32Array(weights[p.name]!.length); }
    for (const p of this.frozen) frozen[p.name] = weights[p.name]!;
    this.trainState = { params, expAvg: m, expAvgSq: v, step: 0, ...(this.frozen.length ? { frozen } : {}) };
    // HF's max_steps; 0 (TrainerState's default) when only max_time ends the run.
    const maxSteps = Number.isFinite(this.totalSteps) ? this.totalSteps : 0;
    this.hfState = newTrainerState({ max_steps: maxSteps, logging_steps: this.cfg.logging_steps, eval_steps: this.cfg.eval_steps ?? this.cfg.logging_steps, save_steps: this.cfg.save_steps, train_batch_size: this.cfg.per_device_train_batch_size, num_train_epochs: this.cfg.num_train_epochs ?? 0 });
    if (resume) {
      const { path: resumeFrom, state: r } = resume;
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
      if (resume.bestMetricChanged) {
        // The saved best is a value of another metric (or ranked the other way): tracking starts over.
        Object.assign(this.hfState, { best_metric: null, best_global_step: null, best_model_checkpoint: null });
        this.loop.badEvals = 0;
      }
      this.resumedFrom = resumeFrom;
      this.lastSaved = resumeFrom;
      const spent = timeBudgetOf(this.hfState).time_spent;
      if (this.maxTime < Infinity) {
        const budget = `max_time ${this.maxTimeText}`;
        if (spent >= this.maxTime) throw new Error(`${resumeFrom}: ${budget} is spent already (${formatDuration(spent)} of training before this checkpoint); to continue, raise max_time above ${formatDuration(spent)}`);
        this.note(`${budget}: ${formatDuration(spent)} spent before this checkpoint, ${formatDuration(this.maxTime - spent)} left`);
      }
    }
  }
  /** max_time in seconds (Infinity without one), and as written. */
  private get maxTime(): number { return this.cfg.max_time === undefined ? Infinity : parseDuration(this.cfg.max_time)!; }
  get maxTimeText(): string { return typeof this.cfg.max_time === 'number' ? `${this.cfg.max_time}s` : String(this.cfg.max_time); }
  private resumedFrom: string | null = null;

  /** Optimizer steps of the whole run (HF's max_steps rule, on the first task's epochs); Infinity when only max_time ends it. */
  get totalSteps(): number {
    if (this.cfg.num_train_epochs === undefined && this.cfg.max_steps <= 0) return Infinity;
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
    if (m.kind === 'electra') return { encoder: m.discriminator.encoder }; // its task (electra.ts) runs the whole model
    if (m.kind === 'mlm') return { encoder: m.encoder, mlm: m.head };
    if (m.kind === 'cls') return { encoder: m.encoder, head: m.head };
    return { encoder: m.encoder, mlm: m.mlm, ...(m.classifiers.get(t.name) ? { head: m.classifiers.get(t.name)! } : {}) };
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
    // The time budget: training time is counted from here (planning is done), plus the time before a resume.
    const maxTime = this.maxTime, now = this.opts.now ?? Date.now, t0 = now();
    const budget = { ...timeBudgetOf(this.hfState), max_time: Number.isFinite(maxTime) ? maxTime : null, stopped: false };
    const spentBefore = budget.time_spent;
    const spent = () => spentBefore + (now() - t0) / 1000;
    // A budget that ends the run before max_steps sizes the schedule: its total steps are an estimate, re-made after
    // each call from the speed measured since the end of this process's first call (which includes creating the
    // session); the warm-up is fixed at the first estimate. Until then (two calls) the schedule is max_steps' — with
    // no step limit, one that has not begun to decay, and a warm-up of unknown length still at 0. A resumed run
    // continues from the saved estimate until it has measured its own speed.
    let sched = scheduleOf(cfg, maxTime < Infinity ? budget.total_steps ?? total : total);
    if (maxTime < Infinity && budget.warmup_steps !== null) sched.warmupSteps = budget.warmup_steps;
    let mark: { step: number; spent: number } | null = null;
    if (!Number.isFinite(spe) && (cfg.eval_strategy === 'epoch' || cfg.save_strategy === 'epoch')) throw new Error('a streamed dataset has no known epoch length: use eval_strategy and save_strategy "steps"');
    const evalEvery = cfg.eval_strategy === 'steps' ? (cfg.eval_steps ?? cfg.logging_steps) : cfg.eval_strategy === 'epoch' ? spe : 0;
    const saveEvery = cfg.save_strategy === 'steps' ? cfg.save_steps : cfg.save_strategy === 'epoch' ? spe : 0;
    // Best model and early stopping; their state lives in hfState and this.loop, so that checkpoints carry it.
    const trackOpts = bestMetricOptions(cfg, evalEvery > 0);
    const best = trackOpts && new BestMetric(trackOpts, { best: this.hfState.best_metric, bestStep: this.hfState.best_global_step, badEvals: this.loop.badEvals });
    const started = Date.now();
    this.endRunLogLine();
    this.emit({ type: 'start', time: started, run_name: cfg.run_name, output_dir: this.outputDir, max_steps: this.hfState.max_steps, num_train_epochs: cfg.num_train_epochs ?? 0, device: cfg.device, resumed_from: this.resumedFrom,
      ...(this.opts.configFile ? { config_file: this.opts.configFile } : {}), ...(budget.max_time !== null ? { max_time: budget.max_time } : {}) });
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
          if (best) {
            if (best.update(best.valueIn(lastEval), step).improved) this.pendingBest = true;
            const b = best.state;
            this.hfState.best_metric = b.best; this.hfState.best_global_step = b.bestStep; L.badEvals = b.badEvals;
          }
        }
        this.hfState.global_step = step;
        this.hfState.epoch = epoch;
        budget.time_spent = spent();
        if (maxTime < Infinity) {
          if (!mark) mark = { step, spent: budget.time_spent };
          else if (step > mark.step && budget.time_spent > mark.spent) {
            budget.total_steps = budgetTotalSteps(step, maxTime - budget.time_spent, (step - mark.step) / (budget.time_spent - mark.spent), total);
            budget.warmup_steps ??= warmupStepsOf(cfg, budget.total_steps);
            sched = { ...sched, totalSteps: budget.total_steps, warmupSteps: budget.warmup_steps };
          }
        }
        const early = best?.shouldStop ?? false;
        const stopping = this.stopRequested || step >= (this.opts.stopAtStep ?? Infinity);
        const outOfTime = budget.time_spent >= maxTime;
        budget.stopped = outOfTime && !early && !stopping && step < total;
        setTimeBudget(this.hfState, budget);
        if ((saveEvery > 0 && step % saveEvery === 0) || stopping || early || budget.stopped) this.save(step, lastEval && isEval ? lastEval : {});
        if (early) { reason = 'early_stopping'; break; }
        if (stopping) { reason = 'stopped'; break; }
        if (budget.stopped) {
          this.note(`max_time ${this.maxTimeText} reached after ${step} steps (${formatDuration(budget.time_spent)} of training): stopping with a checkpoint; to train longer, raise max_time and resume`);
          reason = 'max_time';
          break;
        }
      }
      const step = this.trainState.step;
      const runtime = (Date.now() - started) / 1000;
      const summary = { train_runtime: runtime, train_samples_per_second: ((step - firstStep) * cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps) / runtime, train_steps_per_second: (step - firstStep) / runtime, total_flos: 0, train_loss: this.meanTrainLoss(), epoch: this.epochAt(step), step };
      if (reason === 'completed' || reason === 'max_time') {
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
      for (const { runner } of this.compiled.values()) await (await runner.catch(() => null))?.release();
      for (const t of this.tasks) await t.release();
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
    if (this.cfg.load_best_model_at_end && best && existsSync(best)) weights = (this.model instanceof ElectraPreTrainingModel ? this.model.load(best, Math.random) : loadWeights(best, this.model.ps, Math.random, this.model.family)).weights;
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
