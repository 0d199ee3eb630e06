"""Development check (not in CI): load BERT Lab checkpoint folders (any family) with transformers'
Auto classes and compare token ids and logits with BERT Lab's (written by check-in-transformers.js).
Run: /path/to/venv/bin/python scripts/check-in-transformers.py <out-dir>"""
import json, sys
import numpy as np
import torch
from transformers import AutoModelForMaskedLM, AutoModelForSequenceClassification, AutoTokenizer

out = sys.argv[1]
for name, auto in (("mlm", AutoModelForMaskedLM), ("cls", AutoModelForSequenceClassification)):
    spec = json.load(open(f"{out}/{name}.json"))
    model = auto.from_pretrained(spec["folder"], attn_implementation="eager").eval()
    assert type(model).__name__ == spec["model"], (type(model).__name__, spec["model"])
    tok = AutoTokenizer.from_pretrained(spec["folder"])
    worst = 0.0
    for c in spec["cases"]:
        enc = tok(c["text"], c["pair"], return_tensors="pt")
        assert enc["input_ids"][0].tolist() == c["input_ids"], (enc["input_ids"], c["input_ids"])
        if "token_type_ids" in c:
            assert enc["token_type_ids"][0].tolist() == c["token_type_ids"]
        kw = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask") or (k == "token_type_ids" and "token_type_ids" in c)}
        with torch.no_grad():
            logits = model(**kw).logits.numpy().ravel()
        worst = max(worst, float(np.abs(logits - np.array(c["logits"], dtype=np.float32)).max()))
    print(f"{name}: {type(model).__name__} from {spec['folder']}: token ids identical, max |logit difference| = {worst:.3e}")
