"""Reference fixtures for the BERT-family models other than BERT, made by transformers itself.

Development only: CI never runs Python; the fixtures it writes are committed.

    /tmp/pyref/bin/python scripts/make-hf-family-fixtures.py   # torch + transformers + tokenizers

For each family F it writes test/fixtures/hf-tiny-F/ (…ForMaskedLM) and test/fixtures/hf-tiny-F-cls/
(…ForSequenceClassification, 3 labels), and test/fixtures/hf-tiny-F-<kind>/ for each of the family's
`extra_kinds` (ELECTRA's discriminator, ElectraForPreTraining, as -disc): config.json, model.safetensors, tokenizer files, and
expected.json with, per case, the input ids (chosen here and fed as ids by the tests), logits,
every layer's hidden states and attentions; plus `grad`: one training step's loss on fixed labels
(dropout off) and the gradient of every parameter, by state-dict name.

Tiny random configs; initializer_range 0.2 and every bias / LayerNorm parameter perturbed, so
predictions are far from uniform and a loader that drops or swaps a tensor gets other numbers.
"""
import json
import os
import shutil
import sys

import numpy as np
import tokenizers
import torch
import transformers
from tokenizers import ByteLevelBPETokenizer, processors

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
FIX = os.path.join(ROOT, 'test', 'fixtures')

from hf_fixture_common import ROUNDING, f32, perturb, to_list, write_json  # noqa: E402 (next to this script)

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

SENTENCES = [
    'The congress of the united states met today.', 'We the people of the united states.',
    'The state of the union is strong.', 'The treaty was signed in december.',
    'The government shall pay the public debt of the nation.', 'The president will report to congress.',
    'Peace and commerce with all nations.', 'The people have a right to know.',
]


def roberta_tokenizer(folder):
    """A byte-level BPE tokenizer.json (RoBERTa's pipeline) trained on a few sentences."""
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(SENTENCES * 4, vocab_size=300, min_frequency=2, show_progress=False,
                            special_tokens=['<s>', '<pad>', '</s>', '<unk>', '<mask>'])
    bpe.post_processor = processors.RobertaProcessing(('</s>', 2), ('<s>', 0), trim_offsets=True, add_prefix_space=False)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, 'tokenizer.json')
    bpe.save(path)
    tok = transformers.RobertaTokenizerFast(tokenizer_file=path, bos_token='<s>', eos_token='</s>', sep_token='</s>', cls_token='<s>',
                                            unk_token='<unk>', pad_token='<pad>', mask_token='<mask>')
    tok.model_max_length = 32
    tok.save_pretrained(folder)
    return tok


def wordpiece_tokenizer(folder):
    """BERT's uncased WordPiece tokenizer, with test/fixtures/hf-tiny-bert's vocabulary (DistilBERT, ELECTRA)."""
    os.makedirs(folder, exist_ok=True)
    shutil.copy(os.path.join(FIX, 'hf-tiny-bert', 'vocab.txt'), os.path.join(folder, 'vocab.txt'))
    tok = transformers.BertTokenizerFast(os.path.join(folder, 'vocab.txt'), do_lower_case=True)
    tok.model_max_length = 32
    tok.save_pretrained(folder)
    return tok


def albert_tokenizer(folder):
    """ALBERT's pipeline: a SentencePiece Unigram model (nmt_nfkc, ALBERT's <pad> <unk> [CLS] [SEP] [MASK] as ids 0-4)
    trained on SENTENCES and some State of the Union sentences, converted by transformers.AlbertTokenizer (its
    tokenizer.json holds the Precompiled normalizer of nmt_nfkc)."""
    import glob
    import re
    import tempfile
    import sentencepiece as spm
    lines = []
    for f in sorted(glob.glob(os.path.join(ROOT, 'node_modules', '@stdlib', 'datasets-sotu', 'data', '*.json')))[::20]:
        with open(f, encoding='utf-8') as fh:
            lines += [s for s in re.split(r'(?<=[.!?])\s+', json.load(fh)['text']) if s.strip()][:40]
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, 'corpus.txt'), 'w', encoding='utf-8') as fh:
            fh.write('\n'.join(SENTENCES * 20 + lines))
        spm.SentencePieceTrainer.train(
            input=os.path.join(tmp, 'corpus.txt'), model_prefix=os.path.join(tmp, 'spiece'), vocab_size=300, model_type='unigram',
            character_coverage=1.0, normalization_rule_name='nmt_nfkc', pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, pad_piece='<pad>',
            unk_piece='<unk>', control_symbols=['[CLS]', '[SEP]'], user_defined_symbols=['[MASK]'], num_threads=1, minloglevel=2,
            input_sentence_size=0, shuffle_input_sentence=False)
        os.makedirs(os.path.join(tmp, 'spm'))
        shutil.copy(os.path.join(tmp, 'spiece.model'), os.path.join(tmp, 'spm', 'spiece.model'))
        tok = transformers.AlbertTokenizer.from_pretrained(os.path.join(tmp, 'spm'))  # converts spiece.model (AlbertConverter)
    assert tok.convert_tokens_to_ids(['<pad>', '<unk>', '[CLS]', '[SEP]', '[MASK]']) == [0, 1, 2, 3, 4]
    # transformers 5's AlbertTokenizer leaves token_type_ids out of its outputs; the model reads them (all 0 for one sentence).
    tok.model_input_names = ['input_ids', 'token_type_ids', 'attention_mask']
    tok.model_max_length = 32
    tok.save_pretrained(folder)
    return tok


FAMILIES = {
    'roberta': dict(
        cfg=transformers.RobertaConfig, mlm=transformers.RobertaForMaskedLM, cls=transformers.RobertaForSequenceClassification,
        tok=roberta_tokenizer, mask='<mask>', types=False,
        kw=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, max_position_embeddings=34,
                type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5)),
    'xlm-roberta': dict(
        cfg=transformers.XLMRobertaConfig, mlm=transformers.XLMRobertaForMaskedLM, cls=transformers.XLMRobertaForSequenceClassification,
        tok=roberta_tokenizer, mask='<mask>', types=False,
        kw=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48, max_position_embeddings=34,
                type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5, hidden_act='relu')),
    # embedding_size ≠ hidden_size, so electra.embeddings_project exists; the discriminator (ElectraForPreTraining) is a third folder.
    # Other hidden_act values than the generator's exact GELU show the classifier's fixed GELU and the discriminator's hidden_act apart.
    'electra': dict(
        cfg=transformers.ElectraConfig, mlm=transformers.ElectraForMaskedLM, cls=transformers.ElectraForSequenceClassification,
        extra_kinds={'disc': transformers.ElectraForPreTraining}, seed=200,
        tok=wordpiece_tokenizer, mask='[MASK]', types=True,
        kw=dict(embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, max_position_embeddings=34),
        kind_kw={'cls': dict(hidden_act='gelu_new'), 'disc': dict(hidden_act='relu')}),
    # DistilBERT's own field names; the classifier's folder has the fixed sinusoidal position embeddings.
    'distilbert': dict(
        cfg=transformers.DistilBertConfig, mlm=transformers.DistilBertForMaskedLM, cls=transformers.DistilBertForSequenceClassification, seed=100,
        tok=wordpiece_tokenizer, mask='[MASK]', types=False,
        kw=dict(dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=34, activation='gelu'),
        kind_kw={'cls': dict(sinusoidal_pos_embds=True)}),
    # Shared layers, embedding_size ≠ hidden_size: the masked LM's 3 layers are one group (ALBERT's usual sharing); the
    # classifier's one group has inner_group_num 2, run 3 times (6 layers applied, 6 attentions). More groups or layers
    # would take the classifier's folder over 1 MB (its tokenizer.json alone holds the 330 KB Precompiled charsmap).
    'albert': dict(
        cfg=transformers.AlbertConfig, mlm=transformers.AlbertForMaskedLM, cls=transformers.AlbertForSequenceClassification, seed=300,
        tok=albert_tokenizer, mask='[MASK]', types=True,
        kw=dict(embedding_size=16, hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64, max_position_embeddings=34),
        kind_kw={'mlm': dict(num_hidden_groups=1, inner_group_num=1), 'cls': dict(num_hidden_groups=1, inner_group_num=2)}),
}


def cases_for(tok, mask):
    texts = [
        ('one_mask', [f'The congress of the{" " if mask == "[MASK]" else ""}{mask} states met today.']),
        ('batch_padded', ['We the people.', f'The government shall{" " if mask == "[MASK]" else ""}{mask} the public debt of the nation.']),
    ]
    out = []
    for name, text in texts:
        enc = tok(text, padding=True, return_tensors='pt')
        out.append((name, text, enc))
    return out


def inputs_json(name, text, enc, types):
    c = {'name': name, 'text': text, 'input_ids': enc['input_ids'].tolist(), 'attention_mask': enc['attention_mask'].tolist()}
    if types:
        c['token_type_ids'] = enc['token_type_ids'].tolist()
    return c


def feed(enc, types):
    kw = {'input_ids': enc['input_ids'], 'attention_mask': enc['attention_mask']}
    if types:
        kw['token_type_ids'] = enc['token_type_ids']
    return kw


def grads(model):
    return {n: to_list(p.grad) for n, p in model.named_parameters() if p.grad is not None}


def make(family, spec, kind, seed):
    folder = os.path.join(FIX, f'hf-tiny-{family}' + ('' if kind == 'mlm' else f'-{kind}'))
    model_class = spec.get('extra_kinds', {}).get(kind) or spec[kind]
    shutil.rmtree(folder, ignore_errors=True)
    tok = spec['tok'](folder)
    extra = dict(num_labels=3, id2label={0: 'neg', 1: 'neu', 2: 'pos'}, label2id={'neg': 0, 'neu': 1, 'pos': 2}) if kind == 'cls' else {}
    cfg = spec['cfg'](vocab_size=len(tok), initializer_range=0.2, attn_implementation='eager', **spec['kw'], **spec.get('kind_kw', {}).get(kind, {}), **extra)
    torch.manual_seed(seed)
    model = model_class(cfg)
    perturb(model, seed + 1)
    model.eval()
    model.save_pretrained(folder, safe_serialization=True)
    cases = []
    with torch.no_grad():
        for name, text, enc in cases_for(tok, spec['mask']):
            out = model(**feed(enc, spec['types']), output_attentions=True, output_hidden_states=True)
            c = inputs_json(name, text, enc, spec['types'])
            c['logits'] = to_list(out.logits)
            c['hidden_states'] = [to_list(h) for h in out.hidden_states]  # L+1 × [B, T, H]
            c['attentions'] = [to_list(a) for a in out.attentions]  # L × [B, heads, T, T]
            cases.append(c)
    # One training step's gradients: the padded batch, fixed labels, dropout off (eval mode).
    name, text, enc = cases_for(tok, spec['mask'])[1]
    model.zero_grad()
    kw = feed(enc, spec['types'])
    g = inputs_json(name, text, enc, spec['types'])
    if kind == 'mlm':
        ids = enc['input_ids']
        B, T = ids.shape
        mask_id = tok.convert_tokens_to_ids(spec['mask'])
        positions = [b * T + t for b in range(B) for t in range(T) if ids[b, t] == mask_id or t == 2]
        labels = [(int(ids.reshape(-1)[p]) * 7 + 3) % len(tok) for p in positions]
        logits = model(**kw).logits.reshape(B * T, -1)[positions]
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
        g.update(positions=positions, labels=labels)
    elif kind == 'disc':
        # A replaced-token detector's labels: 0/1 per token; the model's loss averages over attended tokens.
        B, T = enc['input_ids'].shape
        labels = [[(b * 3 + t) % 2 for t in range(T)] for b in range(B)]
        loss = model(**kw, labels=torch.tensor(labels)).loss
        g['labels'] = labels
    else:
        labels = [0, 2]
        loss = model(**kw, labels=torch.tensor(labels)).loss
        g['labels'] = labels
    loss.backward()
    g['loss'] = f32(loss.item())
    g['grads'] = grads(model)
    write_json(os.path.join(folder, 'expected.json'), {
        'made_by': 'scripts/make-hf-family-fixtures.py', 'model': type(model).__name__, 'model_type': cfg.model_type, 'mask_token': spec['mask'],
        'versions': {'python': sys.version.split()[0], 'torch': torch.__version__, 'transformers': transformers.__version__, 'tokenizers': tokenizers.__version__},
        'eval': True, 'dtype': 'float32', 'attn_implementation': 'eager', 'rounding': ROUNDING,
        'init': f'torch.manual_seed({seed}), initializer_range 0.2; every bias and LayerNorm parameter += 0.1 * N(0,1) (seed {seed + 1})',
        'state_dict_keys': list(model.state_dict().keys()),
        'shapes': {'logits': '[B, T, V] or [B, labels]', 'hidden_states': '(L+1) x [B, T, H]', 'attentions': 'L x [B, heads, T, T]'},
        'cases': cases, 'grad': g})
    again = model_class.from_pretrained(folder, attn_implementation='eager').eval()
    sa, sb = model.state_dict(), again.state_dict()
    assert not [k for k in sa if not torch.equal(sa[k], sb[k])], [k for k in sa if not torch.equal(sa[k], sb[k])]
    with torch.no_grad():
        for name, text, enc in cases_for(tok, spec['mask']):
            x, y = model(**feed(enc, spec['types'])).logits, again(**feed(enc, spec['types'])).logits
            # Equal up to float summation order (the reloaded tensors are laid out anew).
            assert (x - y).abs().max().item() < 1e-6, (folder, name, (x - y).abs().max().item())
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print(f'{os.path.relpath(folder, ROOT)}: {type(model).__name__}, vocab {len(tok)}, {size} bytes')


def main():
    only = set(sys.argv[1:])
    for i, (family, spec) in enumerate(FAMILIES.items()):
        if only and family not in only:
            continue
        seed = spec.get('seed', 10 * i)  # a family added later names its own seed, so the others' fixtures stay as they are
        make(family, spec, 'mlm', 1000 + seed)
        if not spec.get('mlm_only'):
            make(family, spec, 'cls', 2000 + seed)
        for kind in spec.get('extra_kinds', {}):
            make(family, spec, kind, 3000 + seed)


if __name__ == '__main__':
    main()
