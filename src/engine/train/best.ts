/**
 * The best model and early stopping: HF's metric_for_best_model / greater_is_better (the metric
 * that names best_model_checkpoint) and EarlyStoppingCallback (patience, threshold), as one piece
 * of state fed each evaluation's value. The trainer records its state in the checkpoint:
 * best_metric and best_global_step in trainer_state.json, the count of evaluations without
 * improvement in rng_state.json, so a resumed run stops where an uninterrupted one would.
 */

export interface BestMetricOptions {
  /** eval_loss, eval_accuracy, … */
  metric: string;
  greaterIsBetter: boolean;
  /** An improvement must exceed this to count (EarlyStoppingCallback's early_stopping_threshold; default 0). */
  threshold?: number;
  /** Stop after this many evaluations in a row without improvement; undefined: never. */
  patience?: number;
}

export interface BestMetricState {
  best: number | null;
  bestStep: number | null;
  /** Evaluations since the last improvement. */
  badEvals: number;
}

export class BestMetric {
  private s: BestMetricState = { best: null, bestStep: null, badEvals: 0 };
  constructor(readonly opts: BestMetricOptions, saved?: Partial<BestMetricState>) {
    if (saved) this.s = { best: saved.best ?? null, bestStep: saved.bestStep ?? null, badEvals: saved.badEvals ?? 0 };
  }
  get state(): BestMetricState { return { ...this.s }; }
  /** Patience used up (also right after restoring a checkpoint saved at an early stop). */
  get shouldStop(): boolean { return this.opts.patience !== undefined && this.s.badEvals >= this.opts.patience; }

  /** The tracked metric among an evaluation's metrics; an error naming the ones there are when it is missing. */
  valueIn(metrics: Record<string, number>): number {
    const v = metrics[this.opts.metric];
    if (v === undefined) throw new Error(`metric_for_best_model "${this.opts.metric}" is not among the evaluation's metrics: ${Object.keys(metrics).join(', ') || 'none (the validation set is empty)'}; set metric_for_best_model to one of them`);
    return v;
  }

  /**
   * One evaluation's value. The first one is the best so far; after it, a tie is no improvement
   * and a value must beat the best by more than the threshold (the best moves only then).
   */
  update(value: number, step: number): { improved: boolean; shouldStop: boolean } {
    const { best } = this.s, t = this.opts.threshold ?? 0;
    const improved = best === null || (this.opts.greaterIsBetter ? value > best + t : value < best - t);
    if (improved) this.s = { best: value, bestStep: step, badEvals: 0 };
    else this.s.badEvals++;
    return { improved, shouldStop: this.shouldStop };
  }
}

/** The metric a run tracks: metric_for_best_model, else eval_loss when the run evaluates; greater_is_better by HF's rule when unset. */
export function bestMetricOptions(cfg: { metric_for_best_model?: string; greater_is_better?: boolean; early_stopping_threshold?: number; early_stopping_patience?: number }, evaluates: boolean): BestMetricOptions | null {
  const metric = cfg.metric_for_best_model ?? (evaluates ? 'eval_loss' : undefined);
  if (!metric) return null;
  return {
    metric, // HF's rule, as config-defaults applies it (which warns when it picks "greater" for a perplexity or an error).
    greaterIsBetter: cfg.greater_is_better ?? !metric.endsWith('loss'),
    ...(cfg.early_stopping_threshold !== undefined ? { threshold: cfg.early_stopping_threshold } : {}),
    ...(cfg.early_stopping_patience !== undefined ? { patience: cfg.early_stopping_patience } : {}),
  };
}
