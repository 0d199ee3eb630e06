/**
 * The inference thread: loads checkpoints (weights, tokenizer, graphs, sessions) and answers
 * fill-mask, classification and attention requests, so none of that work, nor onnxruntime,
 * runs on the caller's thread. Pipelines are cached per checkpoint folder.
 */
import { parentPort } from 'node:worker_threads';
import { pipelineFor } from './pipeline.js';
import { maskContext } from './mask-context.js';
import { attentionMaps } from '../models/model.js';
import { InferReply, InferRequest } from './infer-protocol.js';

if (!parentPort) throw new Error('infer-worker.js must run in a worker thread (use InferenceWorker)');
const port = parentPort;

port.on('message', async (req: InferRequest) => {
  const t0 = performance.now();
  try {
    let result: Extract<InferReply, { ok: true }>['result'];
    switch (req.kind) {
      case 'fillMask': result = await pipelineFor(req.folder, { int8: !!req.int8 }).fillMask(req.text, { topK: req.topK }); break;
      case 'classify': result = await pipelineFor(req.folder).classify(req.text, req.pair); break;
      case 'attention': result = await pipelineFor(req.folder).attention(req.text, req.pair); break;
      case 'fillMaskAt': {
        const p = pipelineFor(req.folder);
        const ctx = maskContext(req.text, { start: req.start, end: req.end }, p.tokenizer, p.cfg.max_position_embeddings);
        const r = await p.fillMask(ctx.text, { topK: req.topK });
        const m = r.masks.find((x) => x.offset[0] === ctx.mask.start);
        if (!m) throw new Error(`the mask at ${req.start} did not fit the model's ${p.cfg.max_position_embeddings} positions`);
        result = { start: req.start, end: req.end, predictions: m.predictions.map(({ tokenId, token, score }) => ({ tokenId, token, score })), warnings: r.warnings };
        break;
      }
      case 'info': {
        const p = pipelineFor(req.folder);
        result = {
          architecture: p.model.architecture, maxLength: p.model.family.maxLength(p.cfg), maskToken: p.maskToken,
          labels: p.cfg.id2label ? Object.values(p.cfg.id2label) : [], layers: attentionMaps(p.model.family, p.cfg), heads: p.cfg.num_attention_heads,
        };
        break;
      }
      default: { const never: never = req; throw new Error(`unknown request ${JSON.stringify(never)}`); }
    }
    const reply: InferReply = { id: req.id, ok: true, result, ms: performance.now() - t0 };
    port.postMessage(reply);
  } catch (e) {
    port.postMessage({ id: req.id, ok: false, message: (e as Error).message } satisfies InferReply);
  }
});
