/**
 * Will a training configuration fit in memory? A rough estimate made before anything large is
 * allocated, compared with the memory the device has free, so that a run too large is refused
 * with the numbers and what to change instead of dying of an out-of-memory kill mid-run.
 *
 * The estimate, in float32 bytes (4 per value). P parameters, Pt of them trainable; per
 * micro-batch B examples of T tokens; L layers, hidden H, intermediate I, A heads, vocabulary V;
 * K steps per run and M micro-batches per step:
 *   state       = 4·(2·P + 12·Pt)   the weights held by the trainer and fed to the session
 *                 (2·P); AdamW's m and v on both sides (4·Pt); the session's outputs, new
 *                 weights and moments (3·Pt); gradients and the update's temporaries (3·Pt)
 *   activations = 4·B·T·(L·(28·H + 7·I + 12·A·T) + 4·H)   what one micro-batch keeps for the
 *                 backward pass, per layer and token: about 28 H-vectors (Q, K, V, context,
 *                 projections, residuals, LayerNorm as a composite of primitive ops, dropout
 *                 masks), 7 of size I (the feed-forward and the erf-GELU composite), 12 per head
 *                 and key (scores, softmax composite, dropout's counter hash and mask); plus the
 *                 embeddings. The coefficients are fitted to the CLI's peak resident memory on the
 *                 CPU (5 configurations from H 64 to 512, T 32 to 128, B 16 to 64): the estimate
 *                 came out between 3% under and 26% over what was measured.
 *   mlm head    = 4·3·V·⌈p·B·T⌉     logits, softmax and their gradient at the masked positions
 *                 only (p = mlm_probability; the head gathers them before the projection)
 *   batches     = 8·4·K·M·B·T       int64 ids, mask, types and labels, stacked for the Loop
 *   runtime     = 256 MiB            Node, onnxruntime and the tokenized data, roughly
 * Gradient accumulation does not multiply activations (micro-batches run one after another), so
 * it is the way to keep the effective batch while lowering B.
 */
import { execFileSync } from 'node:child_process';
import { freemem } from 'node:os';
import type { BertConfig } from '../models/bert/config.js';

export interface MemoryEstimate {
  total: number;
  state: number;
  activations: number;
  mlmHead: number;
  batches: number;
  runtime: number;
}

export interface EstimateInput {
  cfg: BertConfig;
  params: number;
  trainable: number;
  batchSize: number;
  seqLength: number;
  stepsPerRun: number;
  accumulation: number;
  /** Fraction of positions masked, when a task is masked-LM; 0 otherwise. */
  mlmProbability: number;
}

export function estimateTrainingMemory(x: EstimateInput): MemoryEstimate {
  const { hidden_size: H, intermediate_size: I, num_attention_heads: A, num_hidden_layers: L, vocab_size: V } = x.cfg;
  const B = x.batchSize, T = x.seqLength;
  const state = 4 * (2 * x.params + 12 * x.trainable);
  const activations = 4 * B * T * (L * (28 * H + 7 * I + 12 * A * T) + 4 * H);
  const mlmHead = x.mlmProbability > 0 ? 4 * 3 * V * Math.ceil(x.mlmProbability * B * T) : 0;
  const batches = 8 * 4 * x.stepsPerRun * x.accumulation * B * T;
  const runtime = 256 * 2 ** 20;
  return { total: state + activations + mlmHead + batches + runtime, state, activations, mlmHead, batches, runtime };
}

export interface AvailableMemory { bytes: number; where: string }

/**
 * Memory free for a run on `device`. The host: what the OS reports available (os.freemem: Linux's
 * MemAvailable), capped by a cgroup limit (process.constrainedMemory). CUDA: the free memory of
 * GPU 0 by nvidia-smi when it answers (onnxruntime-node cannot be asked); otherwise unknown, and
 * only the host is checked (it holds the trainer's copies of weights and moments in any case).
 */
export function availableMemory(device: string): AvailableMemory[] {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() ?? 0;
  const rss = process.memoryUsage().rss;
  const host = constrained > 0 && constrained < Number.MAX_SAFE_INTEGER ? Math.min(freemem(), Math.max(constrained - rss, 0)) : freemem();
  const out: AvailableMemory[] = [{ bytes: host, where: constrained > 0 && host < freemem() ? 'this process\'s memory limit (cgroup)' : 'this machine (free memory)' }];
  if (device === 'cuda') {
    try {
      const mib = Number(execFileSync('nvidia-smi', ['--query-gpu=memory.free', '--format=csv,noheader,nounits', '-i', '0'], { encoding: 'utf8', timeout: 5000 }).trim().split('\n')[0]);
      if (Number.isFinite(mib) && mib > 0) out.push({ bytes: mib * 2 ** 20, where: 'GPU 0 (nvidia-smi, free memory)' });
    } catch { /* no nvidia-smi: GPU memory is not knowable here */ }
  }
  return out;
}

const gb = (b: number): string => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 2 : 1)} GiB`;

/** The refusal, or null when the estimate fits everywhere it can be checked. */
export function memoryProblem(est: MemoryEstimate, x: EstimateInput, avail: AvailableMemory[]): string | null {
  // On a GPU the host still holds the trainer's state copies; the device holds everything.
  const tight = avail.find((a, i) => (i === 0 && avail.length > 1 ? est.state + est.runtime : est.total) > a.bytes);
  if (!tight) return null;
  const { num_hidden_layers: L, hidden_size: H } = x.cfg;
  return `this configuration needs about ${gb(est.total)} of memory but ${tight.where} has ${gb(tight.bytes)}: `
    + `parameters, AdamW moments and gradients ${gb(est.state)} (${(x.params / 1e6).toFixed(1)}M parameters), `
    + `activations ${gb(est.activations + est.mlmHead)} (batch ${x.batchSize} × ${x.seqLength} tokens × ${L} layers of ${H})`
    + `${est.batches > 2 ** 26 ? `, stacked batches ${gb(est.batches)}` : ''}. `
    + `Lower per_device_train_batch_size (raise gradient_accumulation_steps to keep the effective batch; activations grow with the batch, not with accumulation), `
    + `lower max_seq_length (activations grow with its square through attention)${est.batches > 2 ** 26 ? ', lower steps_per_run' : ''}, or train a smaller model (hidden_size, num_hidden_layers); `
    + `or set "skip_memory_check": true (CLI --skip-memory-check) to start anyway — the estimate is rough`;
}
