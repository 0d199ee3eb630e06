/**
 * Named recipes: sets of training-config values measured to work for a purpose. A configuration
 * names one with `"recipe"`; every value it writes itself wins over the recipe's, and the run log's
 * start record holds the complete configuration, so nothing is hidden. The wizard writes a
 * recipe's values out in full.
 *
 * quick-pretraining: masked-LM pretraining from scratch that leaves the unigram plateau within a
 * laptop budget. Each value was measured with `npm run bench:pretrain` (the README has the table):
 * no dropout, a 4,096-token vocabulary, 64-token sequences, 30% of tokens masked (Wettig et al.
 * 2022), a linear schedule sized to the 10-minute budget.
 */
export interface Recipe {
  /** What it is for, for people (the wizard and the schema show it). */
  description: string;
  /** The task it is made for. */
  task: 'mlm';
  /** Training-config values; model_config and train_tokenizer apply only to a model trained from scratch. */
  values: Record<string, unknown>;
}

export const RECIPES: Readonly<Record<string, Recipe>> = {
  'quick-pretraining': {
    description: 'Pretraining from scratch in about 10 minutes on 2 CPU cores (measured by npm run bench:pretrain)',
    task: 'mlm',
    values: {
      max_time: '10m',
      train_tokenizer: { vocab_size: 4096 },
      model_config: { hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 512, max_position_embeddings: 128, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 },
      max_seq_length: 64, per_device_train_batch_size: 32, learning_rate: 1e-3, lr_scheduler_type: 'linear', warmup_ratio: 0.06, weight_decay: 0.01,
      mlm_probability: 0.3,
    },
  },
};

/**
 * `raw` with its recipe's values under the ones it writes (model_config and train_tokenizer merged
 * field by field, and only for a model from scratch: without model_name_or_path / tokenizer_name).
 * Unknown names are left for the checker to report.
 */
export function withRecipe(raw: Record<string, unknown>): Record<string, unknown> {
  const r = typeof raw['recipe'] === 'string' ? RECIPES[raw['recipe']] : undefined;
  if (!r) return raw;
  const out: Record<string, unknown> = {};
  const fromScratch = raw['model_name_or_path'] === undefined;
  for (const [k, v] of Object.entries(r.values)) {
    if (k === 'model_config' && !fromScratch) continue;
    if (k === 'train_tokenizer' && (!fromScratch || raw['tokenizer_name'] !== undefined)) continue;
    // A budget only when the configuration sets no step or epoch limit of its own.
    if (k === 'max_time' && (raw['max_steps'] !== undefined || raw['num_train_epochs'] !== undefined)) continue;
    out[k] = v;
  }
  for (const [k, v] of Object.entries(raw)) {
    const mine = out[k];
    out[k] = (k === 'model_config' || k === 'train_tokenizer') && isObject(mine) && isObject(v) ? { ...mine, ...v } : v;
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
