/** What crosses between data readers, collators and the trainer. Types only. */

/** Where a record came from: errors and predictions point back to it. */
export interface SourceRef { file: string; /** 1-based line where the record starts */ line: number }

/** How a classification task reads its labels (transformers' config.problem_type). */
export type ProblemType = 'single_label_classification' | 'multi_label_classification' | 'regression';

export type Label = string | number | (string | number)[];

export interface Example {
  text: string;
  pair?: string;
  /** Class name or id (single-label), list of names/ids (multi-label), or number (regression). */
  label?: Label;
  ref: SourceRef;
}

/** A dataset on disk: a file, or a folder of such files (read in sorted order). */
export interface DatasetSpec {
  path: string;
  /** Default: from the extension — .txt/.text: text, .jsonl/.ndjson: jsonl, .csv: csv, .tsv: tsv. */
  format?: 'text' | 'jsonl' | 'csv' | 'tsv';
  /** text format: one example per line (default), or documents separated by blank lines. */
  documents?: 'line' | 'blank-line';
  /** jsonl keys / csv and tsv column names. Defaults: "text", none, "label". */
  text_field?: string;
  pair_field?: string;
  label_field?: string;
}

/** Flat, row-major arrays of one masked-LM batch: B sequences of T tokens, N prediction slots. */
export interface MlmBatch {
  B: number; T: number; N: number;
  ids: number[]; mask: number[]; types: number[];
  /** Flat positions b·T + t of the predicted tokens, padded to N with 0. */
  positions: number[];
  /** Original token ids at `positions`; −100 for the padding slots. */
  labels: number[];
}

/** One classification batch. `labels`: class ids [B] (single-label), 0/1 [B·L] (multi-label) or values [B] (regression). */
export interface ClassificationBatch {
  B: number; T: number;
  ids: number[]; mask: number[]; types: number[];
  labels: number[];
  kind: 'single' | 'multi' | 'regression';
}
