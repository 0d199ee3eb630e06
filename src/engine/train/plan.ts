/**
 * A run's plan: everything the trainer decides from the configuration before it writes anything —
 * the checkpoint it resumes and what changed since, the data (read and checked), the tokenizer,
 * the labels, the model, the memory estimate, the task runtimes and the starting weights. A
 * configuration that cannot run fails here, with output_dir untouched (save for the clean-up of
 * an interrupted save's leftovers, which decides which checkpoint is the last). The Trainer
 * executes a plan.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BertConfig, bertConfig } from '../models/bert/config.js';
import { AnyModel, MaskedLMModel, MultiTaskModel, SequenceClassificationModel } from '../models/model.js';
import { familyOf, parseModelConfig } from '../models/registry.js';
import { Weights, cleanCheckpointLeftovers, loadWeights, readConfig } from '../models/bert/folder.js';
import { readSafetensorsHeader } from '../checkpoint/safetensors.js';
import { readExamples } from '../data/readers.js';
import { isValidation } from '../data/split.js';
import { inferLabels, LabelMapping } from '../data/labels.js';
import { defaultBuckets } from '../data/batching.js';
import { Rng } from '../data/rng.js';
import { DatasetSpec, Example } from '../data/types.js';
import { ParamSpec } from '../nn/module.js';
import { WordPieceTokenizer, loadTokenizer, trainByteLevelBpe, trainWordPiece } from '../tokenizer/index.js';
import { ParsedTrainingConfig, tasksOf } from './config.js';
import { TaskConfig } from './config-types.js';
import { ClassificationTask, MlmTask, TaskRuntime, TaskState } from './tasks.js';
import { StreamingMlmTask } from './streaming.js';
import { ElectraTask } from './electra.js';
import { ElectraPreTrainingModel, generatorConfig } from '../models/electra/pretraining.js';
import type { ElectraConfig } from '../models/electra/modeling.js';
import { ResumeState, lastCompleteCheckpoint, listCheckpoints, loadResumeState, readTrainingArgs } from './checkpoint.js';
import { compareForResume, describeChanges, refusal, showValue } from './resume.js';
import { AvailableMemory, MemoryEstimate, availableMemory, estimateTrainingMemory, memoryProblem } from './resources.js';
import { ResolveOptions, resolveModel, resolveModelFromCache } from '../hub/model.js';
import { looksLikeHubId } from '../hub/resolve.js';
import { progressLines } from '../hub/progress.js';

export type Model = AnyModel | ElectraPreTrainingModel;

export interface RunPlan {
  cfg: ParsedTrainingConfig;
  outputDir: string;
  /** The checkpoint a resumed run continues from, and its optimizer and data state. */
  resume: { path: string; state: ResumeState; bestMetricChanged: boolean } | null;
  taskConfigs: TaskConfig[];
  tokenizer: WordPieceTokenizer;
  /** Label mappings of the classification tasks, by task name. */
  labels: Map<string, LabelMapping>;
  model: Model;
  trainable: ParamSpec[];
  frozen: ParamSpec[];
  memory: MemoryEstimate;
  tasks: TaskRuntime[];
  /** The checkpoint's weights when resuming, else transferred from model_name_or_path or initialized as HF does. */
  weights: Weights;
}

export interface PlanOptions {
  log?: (line: string) => void;
  /** The memory the estimate is checked against (default: what the device reports free); for tests. */
  availableMemory?: AvailableMemory[];
  /** Cancels a download of model_name_or_path / tokenizer_name (the partial file stays, and the next run resumes it). */
  signal?: AbortSignal;
  /** How Hub ids are resolved (default: HF_HUB_OFFLINE, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN from the environment). */
  hub?: Pick<ResolveOptions, 'offline' | 'cacheDir' | 'endpoint' | 'token'>;
  /** Told when a Hub id starts and ends being resolved (the time `signal` cancels something). */
  onHubResolving?: (resolving: boolean) => void;
}

/** Files larger than this are streamed (unless the configuration says otherwise). */
const STREAM_BYTES = 512 * 2 ** 20;
/** Examples of a streamed corpus the vocabulary trainer sees. */
const TOKENIZER_SAMPLE = 50_000;

const pathOf = (spec: string | DatasetSpec): string => (typeof spec === 'string' ? spec : spec.path);
function sizeOf(spec: string | DatasetSpec): number {
  try { const st = statSync(pathOf(spec)); return st.isDirectory() ? 0 : st.size; } catch { return 0; }
}

async function readAll(spec: string | DatasetSpec): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of readExamples(spec)) out.push(e);
  return out;
}

/** Train and validation examples of a task: its validation_file, or a hash split of train_file. Empty data is an error naming the file. */
async function taskData(t: TaskConfig, seed: number, field: (f: string) => string): Promise<{ train: Example[]; eval: Example[] }> {
  const empty = (spec: string | DatasetSpec, f: 'train_file' | 'validation_file') =>
    new Error(`${pathOf(spec)}: no examples (the file is empty, or holds only blank lines or a header); put the ${f === 'train_file' ? 'training' : 'validation'} data there, or point ${field(f)} at it`);
  const all = await readAll(t.train_file);
  if (all.length === 0) throw empty(t.train_file, 'train_file');
  if (t.validation_file !== undefined) {
    const ev = await readAll(t.validation_file);
    if (ev.length === 0) throw empty(t.validation_file, 'validation_file');
    return { train: all, eval: ev };
  }
  const ratio = (t.validation_split_percentage ?? 10) / 100;
  const train: Example[] = [], ev: Example[] = [];
  all.forEach((e, i) => (isValidation(i, seed, ratio) ? ev : train).push(e));
  if (train.length === 0) throw new Error(`${pathOf(t.train_file)}: all ${all.length} examples went to the validation split (${field('validation_split_percentage')} ${t.validation_split_percentage ?? 10}); add examples, or set ${field('validation_file')}`);
  return { train, eval: ev };
}

/** A resumed run's checkpoint: the path given, or true: the last complete one in output_dir. */
function resumeFolder(cfg: ParsedTrainingConfig, log: (s: string) => void): string | undefined {
  const r = cfg.resume_from_checkpoint;
  if (!r) return undefined;
  if (typeof r === 'string') return resolve(r);
  const last = lastCompleteCheckpoint(resolve(cfg.output_dir));
  for (const n of last.notes) log(n);
  if (!last.path) throw new Error(`resume_from_checkpoint is true but ${resolve(cfg.output_dir)} has no complete checkpoint-<step> folder`);
  return last.path;
}

/** HF's names for labels nobody named: LABEL_0, LABEL_1, … (a config saved without id2label, or a regression head). */
const genericLabels = (id2label: Record<string, string>): boolean => Object.entries(id2label).every(([id, name]) => name === `LABEL_${id}`);
const labelNames = (m: Record<string, string>): string[] => Object.keys(m).sort((a, b) => Number(a) - Number(b)).map((id) => m[id]!);

/**
 * run_glue.py's rule for a classifier checkpoint: when the data's label names are the checkpoint's
 * (case aside, as there), the checkpoint's ids are kept, so its head still means the same classes.
 * Otherwise (`differs`) the data's own mapping; its head must start over. Generic LABEL_i names
 * say nothing: the data's mapping, with no warning.
 */
export function fineTuneLabels(data: LabelMapping, source: BertConfig): { mapping: LabelMapping; differs: { checkpoint: string[]; data: string[] } | null } {
  if (!source.id2label || genericLabels(source.id2label) || data.problemType === 'regression') return { mapping: data, differs: null };
  const ckpt = labelNames(source.id2label), ours = labelNames(data.id2label);
  const key = (fold: boolean) => (s: string) => (fold ? s.toLowerCase() : s);
  for (const fold of [false, true]) {
    const k = key(fold), ids = new Map(ckpt.map((n, i) => [k(n), i]));
    if (ids.size !== ckpt.length || new Set(ours.map(k)).size !== ours.length || ours.length !== ckpt.length || !ours.every((n) => ids.has(k(n)))) continue;
    const byId = [...ours].sort((a, b) => ids.get(k(a))! - ids.get(k(b))!);
    return {
      mapping: { id2label: Object.fromEntries(byId.map((n, i) => [String(i), n])), label2id: Object.fromEntries(byId.map((n, i) => [n, i])), problemType: data.problemType },
      differs: null,
    };
  }
  return { mapping: data, differs: { checkpoint: ckpt, data: ours } };
}

/**
 * model_name_or_path or tokenizer_name as a folder: a path that exists stays as it is; a Hub id is
 * its snapshot in the Hugging Face cache, downloaded there first when missing (at model_revision).
 * Anything else stays as written, so the reader's error names the missing folder.
 */
async function hubFolder(value: string, field: 'model_name_or_path' | 'tokenizer_name', cfg: ParsedTrainingConfig, opts: PlanOptions, log: (s: string) => void): Promise<string> {
  if (existsSync(value) || !looksLikeHubId(value)) return value;
  opts.onHubResolving?.(true);
  let r;
  try {
    r = await resolveModel(value, {
      ...opts.hub, revision: cfg.model_revision, purpose: field === 'model_name_or_path' ? 'model' : 'tokenizer', what: field,
      onProgress: progressLines(log), ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } finally {
    opts.onHubResolving?.(false);
  }
  log(`${field} ${value} (revision "${r.revision}", commit ${r.commit}): ${r.downloaded.length ? `downloaded ${r.downloaded.length} ${r.downloaded.length === 1 ? 'file' : 'files'} into` : 'from'} ${r.folder}`);
  return r.folder;
}

/** A new model's config: model_config's fields with its family's defaults (BERT's without model_type); vocab_size from the tokenizer. */
/**
 * A new model's config: model_config with the tokenizer's vocabulary size and, unless
 * model_config names one, its padding id (a byte-level BPE's <pad> is 1, WordPiece's [PAD] 0).
 */
function fromScratchConfig(mc: Partial<BertConfig> | undefined, vocabSize: number, padId: number | undefined): BertConfig {
  const c = { ...mc, vocab_size: vocabSize, ...(mc?.pad_token_id === undefined && padId !== undefined ? { pad_token_id: padId } : {}) };
  if (mc?.model_type === undefined || mc.model_type === 'bert') return bertConfig(c);
  return parseModelConfig(c, 'model_config');
}
const padIdOf = (t: WordPieceTokenizer): number | undefined => {
  const pad = t.specialTokens.pad;
  return pad === undefined ? undefined : t.tokenToId(pad);
};

/**
 * Task "electra": the discriminator from the model's config, the generator from the folder it
 * continues (its generator/) or from generator_size / generator_config.
 */
function electraModel(base: BertConfig, cfg: ParsedTrainingConfig, from: string | undefined, fromName: string | undefined): ElectraPreTrainingModel {
  if (base.model_type !== 'electra') throw new Error(`task "electra" trains an ELECTRA generator and discriminator, but ${from ? `${fromName} is a "${base.model_type}" model` : `model_config.model_type is "${base.model_type}"`}; ${from ? 'start from an ELECTRA folder (model_type "electra")' : 'set model_config.model_type: "electra"'}`);
  const disc = { ...base, architectures: ['ElectraForPreTraining'] } as ElectraConfig;
  delete disc.id2label; delete disc.label2id; delete disc.problem_type;
  const saved = from && existsSync(join(from, 'generator', 'config.json')) ? join(from, 'generator') : undefined;
  const gen = saved ? readConfig(saved) as ElectraConfig : generatorConfig(disc, { ...(cfg.generator_size !== undefined ? { generator_size: cfg.generator_size } : {}), ...(cfg.generator_config !== undefined ? { generator_config: cfg.generator_config } : {}) });
  return new ElectraPreTrainingModel(disc, gen, cfg.rtd_weight);
}

export async function planRun(cfg: ParsedTrainingConfig, opts: PlanOptions = {}): Promise<RunPlan> {
  const log = (s: string) => opts.log?.(s);
  const outputDir = resolve(cfg.output_dir);
  // Temporary folders and files of a save interrupted by a crash are never checkpoints: removed (or put back) before the last checkpoint is looked for.
  for (const n of cleanCheckpointLeftovers(outputDir)) log(`${outputDir}: ${n}`);
  const resumeFrom = resumeFolder(cfg, log);
  if (!resumeFrom && listCheckpoints(outputDir).length && !cfg.overwrite_output_dir) {
    throw new Error(`output_dir ${outputDir} already has checkpoints; set "resume_from_checkpoint": true to continue that run, or "overwrite_output_dir": true to start over`);
  }
  const taskCfgs = tasksOf(cfg);
  if (taskCfgs.length === 0) throw new Error('the configuration names no task: set "task" and "train_file", or "tasks"');
  const field = (i: number) => (f: string) => (cfg.tasks ? `tasks[${i}].${f}` : f);

  // The checkpoint a resumed run continues from: what changed since is refused or listed, before any data is read.
  let resume: RunPlan['resume'] = null;
  let ckptConfig: BertConfig | undefined;
  if (resumeFrom) {
    ckptConfig = readConfig(resumeFrom);
    const state = loadResumeState(resumeFrom);
    log(`resuming from ${resumeFrom} (step ${state.step})`);
    const { args: was, problem } = readTrainingArgs(resumeFrom);
    if (problem) log(`${problem}; the configuration is compared with its config.json only`);
    // A Hub id's config is read from the cache only: a resumed run does not need the model itself.
    const sourceConfig = (p: string) => { try { return readConfig(existsSync(p) ? p : resolveModelFromCache(p, { ...opts.hub, revision: cfg.model_revision, what: 'model_name_or_path' }).folder); } catch { return null; } };
    const cmp = compareForResume(was as Partial<ParsedTrainingConfig> | null, cfg, ckptConfig, sourceConfig);
    if (cmp.refused.length) throw new Error(refusal(resumeFrom, cmp.refused));
    const changes = describeChanges(cmp.changed);
    if (changes) log(changes);
    if (cmp.bestMetricChanged) log('resume: the best-model metric changed, so the best checkpoint and early stopping start over from this run\'s next evaluation');
    resume = { path: resumeFrom, state, bestMetricChanged: cmp.bestMetricChanged };
  }

  // Hub ids become folders in the Hugging Face cache (downloaded when missing) before anything else
  // is read; cfg keeps the ids as written (training_args.json, the run log). A resumed run reads
  // the checkpoint's model and tokenizer instead.
  const modelDir = !resumeFrom && cfg.model_name_or_path !== undefined ? await hubFolder(cfg.model_name_or_path, 'model_name_or_path', cfg, opts, log) : undefined;
  const tokenizerDir = !resumeFrom && cfg.tokenizer_name !== undefined ? await hubFolder(cfg.tokenizer_name, 'tokenizer_name', cfg, opts, log) : undefined;

  const streams = taskCfgs.map((t) => t.kind === 'mlm' && (cfg.streaming ?? sizeOf(t.train_file) > STREAM_BYTES));
  if (streams.some(Boolean) && !(cfg.max_steps > 0)) throw new Error('streaming training reads its data as it goes, so the number of steps cannot come from epochs: set "max_steps"');
  if (resume) {
    const saved = (resume.state.rng as { tasks?: Record<string, TaskState> }).tasks ?? {};
    for (const [i, t] of taskCfgs.entries()) {
      const s = saved[t.name];
      if (s && Boolean(s.stream) !== streams[i]) throw new Error(`cannot resume from ${resumeFrom}: task "${t.name}" was ${s.stream ? 'streamed' : 'read whole'} in that run but would be ${streams[i] ? 'streamed' : 'read whole'} now; set "streaming": ${Boolean(s.stream)} to continue it, or start a new run (a new output_dir, or "overwrite_output_dir": true without "resume_from_checkpoint")`);
    }
  }
  const data = await Promise.all(taskCfgs.map(async (t, i) => {
    if (!streams[i]) return taskData(t, cfg.seed, field(i));
    for await (const _ of readExamples(t.train_file, { maxExamples: 1 })) return { train: [] as Example[], eval: [] as Example[] };
    throw new Error(`${pathOf(t.train_file)}: no examples (the file is empty, or holds only blank lines); put the training data there, or point ${field(i)('train_file')} at it`);
  }));
  data.forEach((d, i) => log(streams[i] ? `task "${taskCfgs[i]!.name}": streaming ${pathOf(taskCfgs[i]!.train_file)}` : `task "${taskCfgs[i]!.name}": ${d.train.length} training and ${d.eval.length} validation examples`));

  // Tokenizer: the checkpoint's, the model's, a named one, or trained on the training text.
  let tokenizer: WordPieceTokenizer;
  const source = resumeFrom ?? modelDir ?? tokenizerDir;
  if (source) tokenizer = loadTokenizer(source);
  else if (cfg.train_tokenizer) {
    const texts = data.flatMap((d) => d.train.flatMap((e) => (e.pair ? [e.text, e.pair] : [e.text])));
    // A streamed corpus lends the vocabulary trainer its first examples only.
    for (const [i, t] of taskCfgs.entries()) if (streams[i]) for await (const e of readExamples(t.train_file, { maxExamples: TOKENIZER_SAMPLE })) texts.push(e.text);
    const t = cfg.train_tokenizer, minFrequency = t.min_frequency ?? 2;
    tokenizer = t.type === 'bpe'
      ? trainByteLevelBpe(texts, { vocabSize: t.vocab_size, minFrequency, lowercase: t.lowercase ?? false })
      : trainWordPiece(texts, { vocabSize: t.vocab_size, minFrequency, normalizer: { lowercase: t.lowercase ?? true } });
    log(`trained a ${t.type === 'bpe' ? 'byte-level BPE' : 'WordPiece'} vocabulary of ${tokenizer.vocabSize} tokens on the training text`);
  } else throw new Error('no tokenizer: set "model_name_or_path", "tokenizer_name", or "train_tokenizer"');

  // The model's config: the checkpoint's, or from model_config.
  const from = resumeFrom ?? modelDir;
  /** How the log names it: the id or path as written. */
  const fromName = resumeFrom ?? cfg.model_name_or_path;
  const base: BertConfig = ckptConfig ?? (from ? readConfig(from) : fromScratchConfig(cfg.model_config, tokenizer.vocabSize, padIdOf(tokenizer)));
  const family = familyOf(base.model_type);
  if (base.vocab_size < tokenizer.vocabSize) throw new Error(`the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${base.vocab_size}`);
  const longest = family.maxLength(base);
  if (cfg.max_seq_length > longest) throw new Error(`max_seq_length ${cfg.max_seq_length} exceeds the model's max_position_embeddings (${base.max_position_embeddings}${longest !== base.max_position_embeddings ? `, which allows ${longest} tokens` : ''}); lower max_seq_length`);

  // Labels of classification tasks; a single classifier keeps the mapping of the checkpoint it starts from.
  const labels = new Map<string, LabelMapping>();
  let freshHead = false;
  for (const [i, t] of taskCfgs.entries()) if (t.kind === 'classification') labels.set(t.name, await inferLabels(data[i]!.train, t.problem_type));
  if (from && taskCfgs.length === 1 && taskCfgs[0]!.kind === 'classification') {
    const t = taskCfgs[0]!, inferred = labels.get(t.name)!;
    const { mapping, differs } = fineTuneLabels(inferred, base);
    const file = pathOf(t.train_file);
    if (resume) {
      // The checkpoint's head is this run's: other labels or another problem type are another run.
      const was = base.id2label ? labelNames(base.id2label) : null, now = labelNames(mapping.id2label);
      const sameLabels = was !== null && !differs && was.length === now.length && (!genericLabels(base.id2label!) || was.join('\n') === now.join('\n'));
      if (!sameLabels) throw new Error(refusal(resumeFrom!, [{ field: `the labels of ${file}`, was: was ?? undefined, now, why: 'the checkpoint\'s classifier has one output per label' }]));
      if (base.problem_type !== undefined && base.problem_type !== mapping.problemType) {
        throw new Error(refusal(resumeFrom!, [{ field: field(0)('problem_type'), was: base.problem_type, now: mapping.problemType, why: 'the classifier\'s loss follows it' }]));
      }
    } else if (differs) {
      log(`warning: the labels of ${file} (${differs.data.join(', ')}) are not those of ${from}/config.json (${differs.checkpoint.join(', ')}); the classifier head is initialized anew for the data's labels`);
      freshHead = true;
    } else if (mapping !== inferred && labelNames(mapping.id2label).join('\n') !== labelNames(inferred.id2label).join('\n')) {
      log(`labels: ${from}/config.json's order is kept: ${Object.entries(mapping.id2label).map(([id, n]) => `${id} ${showValue(n)}`).join(', ')}`);
    }
    labels.set(t.name, mapping);
  }

  // The model: heads from the tasks.
  let model: Model;
  const create = (kind: 'mlm' | 'cls', c: BertConfig) => (family.create ? family.create(kind, c) : kind === 'mlm' ? new MaskedLMModel(family, c) : new SequenceClassificationModel(family, c));
  if (taskCfgs[0]!.kind === 'electra') model = electraModel(base, cfg, from, fromName);
  else if (taskCfgs.length === 1 && taskCfgs[0]!.kind === 'mlm') model = create('mlm', { ...base, architectures: [family.names.mlm] });
  else if (taskCfgs.length === 1) {
    const l = labels.get(taskCfgs[0]!.name)!;
    model = create('cls', { ...base, architectures: [family.names.cls], id2label: l.id2label, label2id: l.label2id, problem_type: l.problemType });
  } else {
    model = new MultiTaskModel(family, { ...base, architectures: [family.names.multi] }, taskCfgs.map((t) => (t.kind === 'mlm' ? { name: t.name, kind: 'mlm' as const }
      : { name: t.name, kind: 'classification' as const, labels: Object.keys(labels.get(t.name)!.id2label).length, problemType: labels.get(t.name)!.problemType })));
  }
  // A resumed run continues the checkpoint's tensors: a head of another size (a multi-task label set that changed) is another run.
  if (resumeFrom) {
    const saved = readSafetensorsHeader(join(resumeFrom, 'model.safetensors')).tensors;
    for (const p of model.ps.specs) {
      const s = saved.get(p.name);
      if (!s || s.shape.join() === p.shape.join()) continue;
      const head = /^heads\.(.+)\.classifier\./.exec(p.name);
      throw new Error(refusal(resumeFrom, [head
        ? { field: `the number of labels of task "${head[1]}"`, was: s.shape[0], now: p.shape[0], why: `its data has ${p.shape[0]} labels, the checkpoint's head ${s.shape[0]}` }
        : { field: `the shape of ${p.name}`, was: s.shape, now: p.shape }]));
    }
  }

  // Frozen parameters.
  const frozenPrefixes = family.freezePrefixes(cfg.freeze_embeddings, cfg.freeze_layers, model.cfg);
  const isFrozen = (n: string) => frozenPrefixes.some((p) => n.startsWith(p));
  const trainable = model.ps.specs.filter((p) => !isFrozen(p.name)), frozen = model.ps.specs.filter((p) => isFrozen(p.name));
  if (frozen.length) log(`frozen: ${frozen.length} parameter tensors (${frozenPrefixes.join(', ')})`);

  // Refuse a run that cannot fit before any weight is allocated.
  const numel = (ps: ParamSpec[]) => ps.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  const est = { cfg: model.cfg, params: numel(model.ps.specs), trainable: numel(trainable), batchSize: cfg.per_device_train_batch_size, seqLength: cfg.max_seq_length,
    stepsPerRun: cfg.steps_per_run, accumulation: cfg.gradient_accumulation_steps, mlmProbability: taskCfgs.some((t) => t.kind === 'mlm' || t.kind === 'electra') ? cfg.mlm_probability : 0 };
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
    if (t.kind === 'electra') {
      return new ElectraTask(model as ElectraPreTrainingModel, c, tokenizer, { train: d.train.map((e) => e.text), eval: d.eval.map((e) => e.text) },
        { maxSeqLength: cfg.max_seq_length, lineByLine: cfg.line_by_line, mlmProbability: cfg.mlm_probability, wholeWord: cfg.whole_word_masking });
    }
    if (t.kind === 'mlm') {
      return new MlmTask(c, tokenizer, { train: d.train.map((e) => e.text), eval: d.eval.map((e) => e.text) },
        { maxSeqLength: cfg.max_seq_length, lineByLine: cfg.line_by_line, mlmProbability: cfg.mlm_probability, wholeWord: cfg.whole_word_masking });
    }
    return new ClassificationTask(c, tokenizer, d, labels.get(t.name)!, cfg.max_seq_length);
  });
  for (const t of tasks) if (t instanceof StreamingMlmTask) await t.init();

  // Weights: resumed, transferred, or initialized as Hugging Face does.
  const rng = Rng.derive(cfg.seed, 'init');
  let weights: Weights;
  if (from) {
    const r = model instanceof ElectraPreTrainingModel ? model.load(from, () => rng.next()) : loadWeights(from, model.ps, () => rng.next(), family);
    weights = r.weights;
    for (const n of r.notes) log(`${fromName}: ${n}`);
    if (freshHead) {
      // Same shape, other classes: the checkpoint's rows would mean the wrong labels.
      const init = model.ps.initialize(() => rng.next());
      for (const p of model.ps.specs) if (!p.name.startsWith(family.prefix)) weights[p.name] = init[p.name]!;
    }
  } else weights = model.ps.initialize(() => rng.next());
  return { cfg, outputDir, resume, taskConfigs: taskCfgs, tokenizer, labels, model, trainable, frozen, memory, tasks, weights };
}
