/**
 * Learning-rate schedules, equal to transformers' get_scheduler (optimization.py):
 * get_linear_schedule_with_warmup, get_cosine_schedule_with_warmup (num_cycles 0.5),
 * get_constant_schedule and get_constant_schedule_with_warmup. Pure functions of the step.
 *
 * Step convention (torch's LambdaLR): the lr used by optimizer step s (0-based) is lr·λ(s), so
 * with warm-up the very first update uses lr 0. HF's Trainer logs `learning_rate` after the
 * scheduler stepped, so the value logged at global_step g is lr·λ(g): the lr of the next update.
 */
import type { TrainingConfig } from './config-types.js';

export type ScheduleName = NonNullable<TrainingConfig['lr_scheduler_type']>;

export interface ScheduleOptions {
  /** The peak (base) learning rate. */
  lr: number;
  schedule: ScheduleName;
  warmupSteps: number;
  /** num_training_steps: the optimizer steps of the whole run (HF's max_steps). */
  totalSteps: number;
}

/** The multiplier λ(step), written as in transformers so floating point agrees too. */
export function lrLambda(step: number, o: Omit<ScheduleOptions, 'lr'>): number {
  if (!(Number.isInteger(step) && step >= 0)) throw new RangeError(`learning-rate step ${step}: it must be an integer ≥ 0`);
  const { warmupSteps: W, totalSteps: T } = o;
  switch (o.schedule) {
    case 'constant':
      return 1;
    case 'constant_with_warmup':
      return step < W ? step / Math.max(1, W) : 1;
    case 'linear':
      if (step < W) return step / Math.max(1, W);
      if (T === Infinity) return 1; // no end known yet (a time budget before its first estimate)
      return Math.max(0, (T - step) / Math.max(1, T - W));
    case 'cosine': {
      if (step < W) return step / Math.max(1, W);
      const progress = (step - W) / Math.max(1, T - W);
      const numCycles = 0.5;
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
    }
    default: {
      const never: never = o.schedule;
      throw new RangeError(`unknown lr_scheduler_type ${JSON.stringify(never)}; use "linear", "cosine", "constant" or "constant_with_warmup"`);
    }
  }
}

/** The learning rate of optimizer step `step` (0-based): lr·λ(step). */
export const learningRate = (step: number, o: ScheduleOptions): number => o.lr * lrLambda(step, o);

/**
 * TrainingArguments.get_warmup_steps: warmup_steps when > 0, else ceil(warmup_ratio · total).
 * The product is taken in floating point as in Python, so 100 · 0.07 = 7.000000000000001 → 8.
 */
export function warmupStepsOf(cfg: Pick<TrainingConfig, 'warmup_steps' | 'warmup_ratio'>, totalSteps: number): number {
  const ws = cfg.warmup_steps ?? 0;
  const ratio = cfg.warmup_ratio ?? 0;
  return ws > 0 ? ws : ratio > 0 ? Math.ceil(totalSteps * ratio) : 0;
}

/**
 * HF's max_steps: max_steps when > 0, else ceil(num_train_epochs · updates per epoch), where an
 * epoch of `batchesPerEpoch` micro-batches makes max(ceil(batches / gradient_accumulation_steps), 1)
 * updates (recent transformers' Trainer.set_initial_training_values; older releases took the floor).
 */
export function totalStepsOf(cfg: Pick<TrainingConfig, 'max_steps' | 'num_train_epochs' | 'gradient_accumulation_steps'>, batchesPerEpoch: number): number {
  if ((cfg.max_steps ?? -1) > 0) return cfg.max_steps!;
  const ga = cfg.gradient_accumulation_steps ?? 1;
  const perEpoch = Math.max(Math.ceil(batchesPerEpoch / ga), 1);
  return Math.ceil((cfg.num_train_epochs ?? 3) * perEpoch);
}

/** The schedule of a run from its (parsed) config and its total optimizer steps. */
export function scheduleOf(cfg: Pick<TrainingConfig, 'learning_rate' | 'lr_scheduler_type' | 'warmup_steps' | 'warmup_ratio'>, totalSteps: number): ScheduleOptions {
  return { lr: cfg.learning_rate ?? 5e-5, schedule: cfg.lr_scheduler_type ?? 'linear', warmupSteps: warmupStepsOf(cfg, totalSteps), totalSteps };
}

/**
 * A time budget's (max_time's) estimate of the run's optimizer steps, so that a decaying schedule
 * ends when the budget does: the steps done plus the remaining seconds at the measured speed
 * (steps per second), never past the step limit of max_steps / num_train_epochs.
 */
export function budgetTotalSteps(step: number, remainingSeconds: number, stepsPerSecond: number, limit: number): number {
  return Math.min(limit, step + Math.max(0, Math.round(remainingSeconds * stepsPerSecond)));
}
