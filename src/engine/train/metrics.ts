/**
 * Evaluation metrics, accumulated batch by batch. Each accumulator's `result()` returns plain
 * names (accuracy, f1, loss, …); the trainer prefixes them HF-style (`eval_accuracy`,
 * `eval_<task>_f1`) with `metricKey`. Definitions follow scikit-learn (classification) and
 * transformers' example scripts (run_glue.py, run_mlm.py), so numbers compare with theirs.
 */

export type MetricTask = 'mlm' | 'electra' | 'single_label_classification' | 'multi_label_classification' | 'regression';

/** The metric names each kind of task reports (what metric_for_best_model may name, after "eval_"). */
export const METRIC_NAMES: Record<MetricTask, readonly string[]> = {
  mlm: ['loss', 'perplexity', 'accuracy'],
  // ELECTRA pretraining: loss = generator_loss + rtd_weight · discriminator_loss; "replaced" is the positive class.
  electra: ['loss', 'generator_loss', 'generator_accuracy', 'discriminator_loss', 'rtd_accuracy', 'replaced_precision', 'replaced_recall'],
  single_label_classification: ['loss', 'accuracy', 'f1', 'precision', 'recall'],
  // accuracy is subset accuracy: sklearn's accuracy_score on multi-label indicators.
  multi_label_classification: ['loss', 'accuracy', 'f1_micro', 'f1_macro'],
  regression: ['loss', 'mse', 'mae', 'pearson'],
};

/** HF's key for a metric: eval_accuracy, or eval_<task>_accuracy in multi-task runs. */
export const metricKey = (name: string, task?: string, prefix = 'eval'): string => `${prefix}_${task ? `${task}_` : ''}${name}`;

/** All metrics of one result under their HF keys. */
export function prefixMetrics(metrics: Readonly<Record<string, number | undefined>>, task?: string, prefix = 'eval'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) if (v !== undefined) out[metricKey(k, task, prefix)] = v;
  return out;
}

/** numpy's argmax: the first maximum; a NaN counts as the maximum (the first NaN wins). */
export function argmax(row: ArrayLike<number>): number {
  if (row.length === 0) throw new RangeError('argmax of an empty row');
  let best = 0;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (Number.isNaN(v)) return i;
    if (v > row[best]!) best = i;
  }
  return best;
}

/** precision, recall and F1 with sklearn's zero_division = 0 (its default, minus the warning). */
function prf(tp: number, fp: number, fn: number) {
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * eval_loss as HF's Trainer computes it: each batch's mean loss repeated batch-size times, then
 * averaged (evaluation_loop), i.e. weighted by examples, not by tokens.
 */
class LossMean {
  private sum = 0;
  private n = 0;
  add(meanLoss: number, batchSize: number) {
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`addLoss: batchSize is ${batchSize}; it must be a positive integer`);
    this.sum += meanLoss * batchSize;
    this.n += batchSize;
  }
  value(): number | undefined { return this.n > 0 ? this.sum / this.n : undefined; }
}

function checkLabel(label: number, numLabels: number): void {
  if (!(Number.isInteger(label) && label >= 0 && label < numLabels)) throw new RangeError(`label ${label} is not a class id 0…${numLabels - 1}`);
}

export interface ClassificationResult { accuracy: number; f1: number; precision: number; recall: number; loss?: number }
export interface ClassScores { label: string; precision: number; recall: number; f1: number; support: number }
export interface ClassificationDetails {
  per_class: ClassScores[];
  /** [true][pred] counts, rows and columns in class-id order. */
  confusion_matrix: number[][];
  /** Classes never predicted: their precision is 0 (sklearn's zero_division), which pulls macro precision and F1 down. */
  never_predicted: string[];
  /** Classes the macro averages ran over. */
  averaged_over: string[];
  samples: number;
}

export interface ClassificationOptions {
  /**
   * Which classes the macro averages cover. 'all' (default): every class of id2label, as
   * sklearn with labels=range(num_labels), so a class absent from the evaluation set counts
   * with F1 0. 'present': classes in the labels or the predictions, sklearn's default
   * (and evaluate's "f1" with average="macro").
   */
  classes?: 'all' | 'present';
}

/** Single-label classification: accuracy and macro precision/recall/F1 from a confusion matrix. */
export class ClassificationMetrics {
  readonly labels: string[];
  private readonly cm: number[][];
  private readonly loss = new LossMean();
  private n = 0;

  /** `labels`: id2label (HF config), the label names in id order, or the number of classes. */
  constructor(labels: Record<string, string> | readonly string[] | number, private readonly opts: ClassificationOptions = {}) {
    this.labels = typeof labels === 'number' ? Array.from({ length: labels }, (_, i) => `LABEL_${i}`)
      : Array.isArray(labels) ? [...labels]
      : Array.from({ length: Object.keys(labels).length }, (_, i) => {
        const name = (labels as Record<string, string>)[String(i)];
        if (name === undefined) throw new RangeError(`id2label has no entry "${i}"; its keys must be 0, 1, …, n−1`);
        return name;
      });
    if (this.labels.length < 1) throw new RangeError('classification needs at least one class');
    this.cm = this.labels.map(() => this.labels.map(() => 0));
  }

  /** One example: its logits row (argmax taken) or the predicted class id, and the true class id. */
  add(prediction: ArrayLike<number> | number, label: number): void {
    const L = this.labels.length;
    if (typeof prediction !== 'number' && prediction.length !== L) throw new RangeError(`logits row has ${prediction.length} values for ${L} classes`);
    const pred = typeof prediction === 'number' ? prediction : argmax(prediction);
    checkLabel(pred, L);
    checkLabel(label, L);
    this.cm[label]![pred]! += 1;
    this.n++;
  }

  /** A batch: row-major logits [B, L] and labels [B]. */
  addBatch(logits: ArrayLike<number>, labels: ArrayLike<number>): void {
    const L = this.labels.length;
    if (logits.length !== labels.length * L) throw new RangeError(`logits have ${logits.length} values; expected ${labels.length} × ${L}`);
    for (let b = 0; b < labels.length; b++) this.add(Array.prototype.slice.call(logits, b * L, (b + 1) * L) as number[], labels[b]!);
  }

  addLoss(meanLoss: number, batchSize: number): void { this.loss.add(meanLoss, batchSize); }

  details(): ClassificationDetails {
    if (this.n === 0) throw new Error('ClassificationMetrics: no examples were added');
    const L = this.labels.length;
    const col = (j: number) => this.cm.reduce((a, row) => a + row[j]!, 0);
    const per_class = this.labels.map((label, c) => {
      const tp = this.cm[c]![c]!;
      const support = this.cm[c]!.reduce((a, b) => a + b, 0);
      return { label, ...prf(tp, col(c) - tp, support - tp), support };
    });
    const present = (c: number) => per_class[c]!.support > 0 || col(c) > 0;
    const avg = Array.from({ length: L }, (_, c) => c).filter((c) => this.opts.classes !== 'present' || present(c));
    return {
      per_class,
      confusion_matrix: this.cm.map((row) => [...row]),
      never_predicted: this.labels.filter((_, c) => col(c) === 0),
      averaged_over: avg.map((c) => this.labels[c]!),
      samples: this.n,
    };
  }

  result(): ClassificationResult {
    const d = this.details();
    const avg = d.per_class.filter((c) => d.averaged_over.includes(c.label));
    const correct = this.cm.reduce((a, row, c) => a + row[c]!, 0);
    const r: ClassificationResult = {
      accuracy: correct / this.n,
      // sklearn's macro F1 is the mean of per-class F1s, not the F1 of macro precision and recall.
      f1: mean(avg.map((c) => c.f1)),
      precision: mean(avg.map((c) => c.precision)),
      recall: mean(avg.map((c) => c.recall)),
    };
    const loss = this.loss.value();
    if (loss !== undefined) r.loss = loss;
    return r;
  }
}

export interface MultiLabelResult { accuracy: number; f1_micro: number; f1_macro: number; loss?: number }

/**
 * Multi-label classification: label j is predicted when sigmoid(logit) ≥ 0.5 (HF's example
 * threshold on probabilities). accuracy is subset accuracy (every label of an example right).
 */
export class MultiLabelMetrics {
  private readonly tp: number[];
  private readonly fp: number[];
  private readonly fn: number[];
  private readonly loss = new LossMean();
  private exact = 0;
  private n = 0;

  constructor(readonly numLabels: number, private readonly scores: 'logits' | 'probabilities' = 'logits', readonly threshold = 0.5) {
    this.tp = new Array<number>(numLabels).fill(0);
    this.fp = new Array<number>(numLabels).fill(0);
    this.fn = new Array<number>(numLabels).fill(0);
  }

  /** One example: L scores (logits or probabilities) and L 0/1 labels. */
  add(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
    const L = this.numLabels;
    if (scores.length !== L || labels.length !== L) throw new RangeError(`expected ${L} scores and ${L} labels, got ${scores.length} and ${labels.length}`);
    for (let j = 0; j < L; j++) if (labels[j] !== 0 && labels[j] !== 1) throw new RangeError(`multi-label label ${labels[j]} at index ${j}; labels must be 0 or 1`);
    let allRight = true;
    for (let j = 0; j < L; j++) {
      const s = scores[j]!;
      const p = this.scores === 'logits' ? 1 / (1 + Math.exp(-s)) : s;
      const pred = p >= this.threshold;
      const y = labels[j]!;
      if (pred && y === 1) this.tp[j]!++;
      else if (pred) this.fp[j]!++;
      else if (y === 1) this.fn[j]!++;
      if (pred !== (y === 1)) allRight = false;
    }
    if (allRight) this.exact++;
    this.n++;
  }

  /** A batch: row-major scores [B, L] and labels [B, L]. */
  addBatch(scores: ArrayLike<number>, labels: ArrayLike<number>): void {
    const L = this.numLabels;
    if (scores.length !== labels.length || scores.length % L !== 0) throw new RangeError(`scores (${scores.length}) and labels (${labels.length}) must both be B × ${L}`);
    for (let o = 0; o < scores.length; o += L) this.add(Array.prototype.slice.call(scores, o, o + L) as number[], Array.prototype.slice.call(labels, o, o + L) as number[]);
  }

  addLoss(meanLoss: number, batchSize: number): void { this.loss.add(meanLoss, batchSize); }

  details(): { per_label: Omit<ClassScores, 'label'>[]; samples: number } {
    return {
      per_label: this.tp.map((tp, j) => ({ ...prf(tp, this.fp[j]!, this.fn[j]!), support: tp + this.fn[j]! })),
      samples: this.n,
    };
  }

  result(): MultiLabelResult {
    if (this.n === 0) throw new Error('MultiLabelMetrics: no examples were added');
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const r: MultiLabelResult = {
      accuracy: this.exact / this.n,
      f1_micro: prf(sum(this.tp), sum(this.fp), sum(this.fn)).f1,
      f1_macro: mean(this.details().per_label.map((c) => c.f1)),
    };
    const loss = this.loss.value();
    if (loss !== undefined) r.loss = loss;
    return r;
  }
}

export interface RegressionResult { mse: number; mae: number; pearson: number; loss?: number }

/** Regression: MSE, MAE and Pearson's r, streamed with Welford's co-moment updates (stable). */
export class RegressionMetrics {
  private n = 0;
  private se = 0;
  private ae = 0;
  private mx = 0;
  private my = 0;
  private cxx = 0;
  private cyy = 0;
  private cxy = 0;
  private readonly loss = new LossMean();

  /** One example: the prediction (a number or a 1-value logits row) and the target. */
  add(prediction: number | ArrayLike<number>, target: number): void {
    if (typeof prediction !== 'number' && prediction.length !== 1) throw new RangeError(`a regression row has ${prediction.length} values; expected 1`);
    const x = typeof prediction === 'number' ? prediction : prediction[0]!;
    const y = target;
    this.n++;
    this.se += (x - y) ** 2;
    this.ae += Math.abs(x - y);
    const dx = x - this.mx;
    const dy = y - this.my;
    this.mx += dx / this.n;
    this.my += dy / this.n;
    this.cxx += dx * (x - this.mx);
    this.cyy += dy * (y - this.my);
    this.cxy += dx * (y - this.my);
  }

  addBatch(predictions: ArrayLike<number>, targets: ArrayLike<number>): void {
    if (predictions.length !== targets.length) throw new RangeError(`${predictions.length} predictions for ${targets.length} targets`);
    for (let i = 0; i < targets.length; i++) this.add(predictions[i]!, targets[i]!);
  }

  addLoss(meanLoss: number, batchSize: number): void { this.loss.add(meanLoss, batchSize); }

  /** pearson is NaN when predictions or targets are constant (scipy returns nan there too). */
  result(): RegressionResult {
    if (this.n === 0) throw new Error('RegressionMetrics: no examples were added');
    const r: RegressionResult = { mse: this.se / this.n, mae: this.ae / this.n, pearson: this.cxy / Math.sqrt(this.cxx * this.cyy) };
    if (!(this.cxx > 0 && this.cyy > 0)) r.pearson = NaN;
    const loss = this.loss.value();
    if (loss !== undefined) r.loss = loss;
    return r;
  }
}

export interface MlmResult { loss: number; perplexity: number; accuracy?: number }

/**
 * Masked-LM evaluation as run_mlm.py reports it: eval_loss (example-weighted, see LossMean),
 * perplexity = exp(eval_loss) (Infinity on overflow, like its OverflowError branch), and
 * accuracy over the masked tokens only (labels −100 are ignored).
 */
export class MlmMetrics {
  private readonly loss = new LossMean();
  private correct = 0;
  private masked = 0;

  addLoss(meanLoss: number, batchSize: number): void { this.loss.add(meanLoss, batchSize); }

  /** Predicted token ids and labels at the same positions; −100 marks a position that was not masked. */
  addTokens(predictedIds: ArrayLike<number>, labels: ArrayLike<number>): void {
    if (predictedIds.length !== labels.length) throw new RangeError(`${predictedIds.length} predictions for ${labels.length} labels`);
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] === -100) continue;
      this.masked++;
      if (predictedIds[i] === labels[i]) this.correct++;
    }
  }

  /** Masked-token counts computed elsewhere (e.g. in the graph). */
  addCounts(correct: number, masked: number): void { this.correct += correct; this.masked += masked; }

  result(): MlmResult {
    const loss = this.loss.value();
    if (loss === undefined) throw new Error('MlmMetrics: no losses were added');
    const r: MlmResult = { loss, perplexity: Math.exp(loss) };
    if (this.masked > 0) r.accuracy = this.correct / this.masked;
    return r;
  }
}
