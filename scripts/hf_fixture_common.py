"""What the fixture scripts share (scripts/make-hf-fixtures.py, scripts/make-hf-family-fixtures.py):
exact float32 values in JSON, compact JSON files, and perturbed biases / norms."""
import json

import numpy as np
import torch

# Values in expected.json: the shortest decimal that reads back as the same float32 (exact).
ROUNDING = 'none: each value is the shortest decimal that parses back to the same float32'


def f32(x):
    """A float32 as the shortest decimal that reads back to it (inf/nan do not occur in outputs)."""
    v = float(np.format_float_positional(np.float32(x), unique=True, trim='-'))
    assert np.float32(v) == np.float32(x)
    return v


def to_list(t):
    a = t.detach().to(torch.float32).numpy()
    return np.vectorize(f32, otypes=[object])(a).tolist() if a.ndim else f32(a)


def write_json(path, obj):
    with open(path, 'w') as fh:
        json.dump(obj, fh, separators=(',', ':'))
        fh.write('\n')


def perturb(model, seed):
    """Biases start at 0 and norms at 1/0: make them random too (+0.1·N(0,1)), so a loader that
    drops or swaps any of them gets different outputs."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('.bias') or 'LayerNorm' in name or 'layer_norm' in name:
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
