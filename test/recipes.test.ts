/**
 * Named recipes (src/engine/train/recipes.ts): a configuration that names one gets its values,
 * except where it writes its own; model_config and train_tokenizer only for a model from scratch;
 * a recipe for another task, or an unknown one, is an error on the field "recipe".
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTrainingConfig, parseTrainingConfig } from '../src/engine/train/config.js';
import { RECIPES } from '../src/engine/train/recipes.js';

const quick = RECIPES['quick-pretraining']!.values as Record<string, unknown> & { model_config: Record<string, unknown>; train_tokenizer: Record<string, unknown> };
const parse = (o: Record<string, unknown>) => parseTrainingConfig(JSON.stringify({ output_dir: '/runs/q', task: 'mlm', train_file: '/data/t.txt', ...o }), '/cfg/q.json');

describe('recipes', () => {
  it('quick-pretraining fills in its values: budget, vocabulary, model without dropout, sequence length, masking rate', () => {
    const c = parse({ recipe: 'quick-pretraining' });
    assert.equal(c.max_time, quick['max_time']);
    assert.equal(c.max_seq_length, quick['max_seq_length']);
    assert.equal(c.mlm_probability, quick['mlm_probability']);
    assert.equal(c.learning_rate, quick['learning_rate']);
    assert.equal(c.train_tokenizer?.vocab_size, quick.train_tokenizer['vocab_size']);
    for (const [k, v] of Object.entries(quick.model_config)) assert.equal((c.model_config as Record<string, unknown>)[k], v, k);
  });
  it('what the file writes wins, field by field inside model_config too', () => {
    const c = parse({ recipe: 'quick-pretraining', learning_rate: 5e-4, model_config: { hidden_size: 64, num_attention_heads: 4 } });
    assert.equal(c.learning_rate, 5e-4);
    assert.equal(c.model_config?.hidden_size, 64);
    assert.equal(c.model_config?.num_attention_heads, 4);
    assert.equal(c.model_config?.intermediate_size, quick.model_config['intermediate_size']);
    assert.equal(c.model_config?.hidden_dropout_prob, 0);
  });
  it('a step or epoch limit written by the file replaces the recipe\'s time budget', () => {
    assert.equal(parse({ recipe: 'quick-pretraining', max_steps: 100 }).max_time, undefined);
    assert.equal(parse({ recipe: 'quick-pretraining', num_train_epochs: 2 }).max_time, undefined);
  });
  it('from a checkpoint, the recipe\'s model and tokenizer are not used', () => {
    const c = parse({ recipe: 'quick-pretraining', model_name_or_path: '/models/bert' });
    assert.equal(c.model_config, undefined);
    assert.equal(c.train_tokenizer, undefined);
    assert.equal(c.mlm_probability, quick['mlm_probability']);
  });
  it('a recipe for another task, or an unknown one, is an error on "recipe" with the line', () => {
    const wrongTask = checkTrainingConfig(JSON.stringify({ output_dir: 'o', task: 'classification', train_file: 't.jsonl', recipe: 'quick-pretraining' }, null, 2), '/cfg/c.json');
    assert.ok(wrongTask.diagnostics.some((d) => d.field === 'recipe' && d.severity === 'error' && /made for task "mlm"/.test(d.message) && d.line === 5), JSON.stringify(wrongTask.diagnostics));
    const unknown = checkTrainingConfig(JSON.stringify({ output_dir: 'o', task: 'mlm', train_file: 't.txt', recipe: 'quick-pretrain' }, null, 2), '/cfg/c.json');
    assert.ok(unknown.diagnostics.some((d) => d.field === 'recipe' && /"quick-pretrain"/.test(d.message) && /quick-pretraining/.test(d.message)), JSON.stringify(unknown.diagnostics));
  });
});
