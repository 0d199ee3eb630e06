/**
 * Training curves: the host sends whole runs (rows of logged values) and appends while a run is
 * live; the page asks for runs to be shown, checkpoints to be opened and files to be saved.
 */
import { arr, bool, int, lit, nullable, num, obj, opt, record, str } from '../validate.js';

/** One logged point: a training step's values or an evaluation's, as Hugging Face names them. */
export const curveRow = obj({
  step: int(0),
  epoch: nullable(num),
  /** Seconds since the run started, when known. */
  time: nullable(num),
  /** loss, learning_rate, grad_norm, tokens_per_second, eval_loss, eval_accuracy, …; null = NaN/Inf. */
  values: record(nullable(num), 1000),
});
export const checkpointMark = obj({ step: int(0), path: str(4096), best: bool });
export const runRef = obj({ id: str(4096), name: str(1000), source: lit('bertlab', 'hf'), status: str(100), live: bool, shown: bool });
export const curveRun = obj({ id: str(4096), name: str(1000), source: lit('bertlab', 'hf'), live: bool, rows: arr(curveRow, 5_000_000), checkpoints: arr(checkpointMark, 100_000), warnings: arr(str(10_000), 1000) });

export const curvesToHost = {
  /** Show exactly these runs (ids from `curves/runs`). */
  'curves/select': { ids: arr(str(4096), 1000) },
  /** Ask the user for a run folder (a BERT Lab run, or an HF Trainer output with trainer_state.json). */
  'curves/addRun': {},
  /** Open a checkpoint of a shown run (clicked at its step) in the predictions or attention panel. */
  'curves/openCheckpoint': { id: str(4096), step: int(0), view: lit('predictions', 'attention') },
} as const;

export const curvesToView = {
  /** The runs that can be shown (workspace runs and added folders). */
  'curves/runs': { runs: arr(runRef, 10_000) },
  /** A run's whole history (replaces what the page had for that id). */
  'curves/data': { run: curveRun },
  /** New rows (and checkpoints) of a live run. */
  'curves/append': { id: str(4096), rows: arr(curveRow, 1_000_000), checkpoints: arr(checkpointMark, 100_000), live: bool },
  /** A run is no longer shown. */
  'curves/remove': { id: str(4096) },
} as const;

export type CurveRowMsg = ReturnType<typeof curveRow>;
export type CurveRunMsg = ReturnType<typeof curveRun>;
export type RunRefMsg = ReturnType<typeof runRef>;
export type CheckpointMarkMsg = ReturnType<typeof checkpointMark>;
