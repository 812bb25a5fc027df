#!/usr/bin/env python3
"""A float64 reference of test/lit/docs/Inputs/spec-reference.yaml written
from docs/spec.md alone: the doc's formulas, parameter names, layouts,
epsilons and orders, and nothing read from lmc's code.

    spec_reference.py SPEC OUT_DIR

reads the parameter shapes from `lmc compile SPEC --emit=mlir` (lmc on
PATH), writes OUT_DIR/weights.safetensors (random float32 values),
OUT_DIR/examples.jsonl (with missing features, out-of-range ids,
non-positive weights, empty sequences) and OUT_DIR/expected.jsonl, the
reference's outputs, which the lit test compares with lmc eval and lmc run.
"""
import json
import math
import os
import random
import re
import struct
import subprocess
import sys


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def parameter_shapes(spec):
    ir = subprocess.run(['lmc', 'compile', spec, '--emit=mlir'], capture_output=True,
                        text=True, check=True).stdout
    return {m.group(1): [int(d) for d in m.group(2).split('x')]
            for m in re.finditer(r'lmc.parameter @(\S+) : tensor<([0-9x]+)xf32>', ir)}


def write_weights(path, shapes, rng):
    params, header, blob = {}, {}, b''
    for name, shape in shapes.items():
        count = math.prod(shape)
        scale = 1.0 if name.startswith('emb.') else 0.6
        offset = 1.0 if name.endswith('gamma') else 0.0
        values = [f32(rng.uniform(-1, 1) * scale + offset) for _ in range(count)]
        params[name] = (shape, values)
        data = struct.pack('<%df' % count, *values)
        header[name] = {'dtype': 'F32', 'shape': shape,
                        'data_offsets': [len(blob), len(blob) + len(data)]}
        blob += data
    text = json.dumps(header).encode()
    with open(path, 'wb') as out:
        out.write(struct.pack('<Q', len(text)) + text + blob)
    return params


def make_examples(rng):
    examples = []
    for e in range(8):
        length = [3, 0, 1, 5, 2, 4, 1, 2][e]
        example = {
            'age': rng.uniform(0, 60), 'mm': [rng.uniform(-2, 4) for _ in range(4)],
            'lp': rng.uniform(0, 5), 'big': rng.randrange(-2**40, 2**40),
            'tags': [rng.randrange(-1, 9) for _ in range(3)],
            'tw': [rng.choice([1, 0.5, 2, -0.5, 0]) for _ in range(3)],
            'color': [rng.choice(['red', 'green', 'blue', 'zz']) for _ in range(2)],
            'slot': rng.randrange(-1, 7), 'a1': [rng.randrange(0, 7) for _ in range(2)],
            'a2': rng.randrange(0, 6),
            'tok': [rng.randrange(-1, 11) for _ in range(length)],
            'sn': [rng.uniform(-3, 3) for _ in range(2 * length)]}
        if e == 1:
            del example['tok'], example['sn']
        if e == 2:
            example['age'] = None  # a null takes the default
        if e == 4:
            del example['age'], example['big']  # missing numerics take theirs
        if e == 5:
            del example['color'], example['a1']  # missing categoricals: no ids
            example['tags'], example['tw'] = example['tags'][:1], example['tw'][:1]
        if e == 6:
            example['color'] = ['blue']  # fewer values than the width
        examples.append(example)
    return examples


# The doc's formulas.

ACTIVATIONS = {
    'none': lambda x: x,
    'relu': lambda x: max(x, 0.0),
    'gelu': lambda x: 0.5 * x * (1 + math.erf(x / math.sqrt(2))),
    'gelu_tanh': lambda x: 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    'silu': lambda x: x / (1 + math.exp(-x)),
}


class Reference:
    def __init__(self, params):
        self.params = params

    def mat(self, name):
        shape, values = self.params[name]
        if len(shape) == 1:
            return list(values)
        return [values[i * shape[1]:(i + 1) * shape[1]] for i in range(shape[0])]

    def affine(self, x, kernel, bias):
        w = self.mat(kernel)
        return [sum(x[i] * w[i][j] for i in range(len(x))) + b
                for j, b in enumerate(self.mat(bias))]

    @staticmethod
    def layer_norm(x, gamma, beta, eps):
        mean = sum(x) / len(x)
        var = sum((t - mean)**2 for t in x) / len(x)
        return [(t - mean) / math.sqrt(var + eps) * g + b for t, g, b in zip(x, gamma, beta)]

    @staticmethod
    def combine(table, ids, weights, combiner, max_norm):
        total, weight_sum, square_sum, dim = None, 0.0, 0.0, len(table[0])
        total = [0.0] * dim
        for i, w in zip(ids, weights):
            if not 0 <= i < len(table):
                continue
            if combiner != 'sum' and not w > 0:
                continue  # pruned under mean and sqrtn
            row = list(table[i])
            if max_norm is not None:
                norm = math.sqrt(sum(v * v for v in row))
                row = [v * max_norm / max(norm, max_norm) for v in row]
            total = [a + w * v for a, v in zip(total, row)]
            weight_sum += w
            square_sum += w * w
        if combiner == 'mean' and weight_sum:
            total = [v / weight_sum for v in total]
        if combiner == 'sqrtn' and square_sum:
            total = [v / math.sqrt(square_sum) for v in total]
        return total

    def encoder(self, x, name, layers, heads, head_dim, causal, activation):
        width = heads * head_dim
        h = [self.affine(t, name + '.input.kernel', name + '.input.bias') for t in x] \
            if len(x[0]) != width else x
        steps = len(x)
        for layer in range(layers):
            p = '%s.layer%d' % (name, layer)
            q = [self.affine(t, p + '.attn.wq', p + '.attn.bq') for t in h]
            k = [self.affine(t, p + '.attn.wk', p + '.attn.bk') for t in h]
            v = [self.affine(t, p + '.attn.wv', p + '.attn.bv') for t in h]
            attended = [[0.0] * width for _ in range(steps)]
            for head in range(heads):
                c = slice(head * head_dim, (head + 1) * head_dim)
                for i in range(steps):
                    visible = range(i + 1) if causal else range(steps)
                    scores = [sum(a * b for a, b in zip(q[i][c], k[j][c])) / math.sqrt(head_dim)
                              for j in visible]
                    top = max(scores)
                    e = [math.exp(s - top) for s in scores]
                    z = sum(e)
                    for d in range(head_dim):
                        attended[i][head * head_dim + d] = sum(
                            e[n] / z * v[j][head * head_dim + d] for n, j in enumerate(visible))
            u = [self.layer_norm([a + b for a, b in zip(t, self.affine(av, p + '.attn.wo', p + '.attn.bo'))],
                                 self.mat(p + '.ln1.gamma'), self.mat(p + '.ln1.beta'), 1e-12)
                 for t, av in zip(h, attended)]
            h = [self.layer_norm(
                [a + b for a, b in zip(t, self.affine(
                    [ACTIVATIONS[activation](y) for y in self.affine(t, p + '.ffn.w1', p + '.ffn.b1')],
                    p + '.ffn.w2', p + '.ffn.b2'))],
                self.mat(p + '.ln2.gamma'), self.mat(p + '.ln2.beta'), 1e-12) for t in u]
        return h

    @staticmethod
    def pool(x, mode, dim):
        if not x:
            return [0.0] * dim
        if mode == 'mean':
            return [sum(t[i] for t in x) / len(x) for i in range(dim)]
        if mode == 'first':
            return list(x[0])
        return [max(t[i] for t in x) for i in range(dim)]

    def example(self, ex):
        age = 35.0 if ex.get('age') is None else f32(ex['age'])
        age_z = (age - 30) / 10
        cols = {}
        cols['age'] = [age_z]
        mm = [(f32(v) + 1) / 4 for v in ex['mm']]
        cols['mm'] = mm
        cols['lp'] = [math.log1p(f32(ex['lp']))]
        cols['big'] = [f32(float(ex.get('big', -7)))]
        bucket = sum(1 for b in [-1, 0, 0.5, 1] if f32(b) <= f32(age_z))
        cols['age_bucketized_indicator'] = [1.0 if i == bucket else 0.0 for i in range(5)]
        # A [4] source: element i's bucket b has id b + i * 3.
        mm_ids = [sum(1 for b in [0.25, 0.5] if f32(b) <= f32(v)) + i * 3 for i, v in enumerate(mm)]
        cols['mm_bucketized'] = [float(mm_ids.count(i)) for i in range(12)]
        tags = [t if 0 <= t < 7 else -1 for t in ex['tags']]
        cols['tags_weighted_by_tw_embedding'] = self.combine(
            self.mat('emb.tags_weighted_by_tw'), tags, [f32(w) for w in ex['tw']], 'sqrtn', f32(0.6))
        vocabulary = {'red': 0, 'green': 1, 'blue': 2}
        colors = [vocabulary.get(c, 1) for c in ex.get('color', [])]
        cols['color_embedding'] = self.combine(self.mat('emb.color'), colors, [1] * len(colors), 'mean', None)
        slot = ex['slot'] if 0 <= ex['slot'] < 5 else 2
        cols['slot_indicator'] = [1.0 if i == slot else 0.0 for i in range(5)]
        table = self.mat('emb.a1_a2_shared_embedding')  # the sorted names
        a1 = ex.get('a1', [])
        cols['a1_shared_embedding'] = self.combine(table, a1, [1] * len(a1), 'sum', None)
        cols['a2_shared_embedding'] = self.combine(table, [ex['a2']], [1], 'sum', None)
        features = [v for name in sorted(cols) for v in cols[name]]

        tokens, sn = ex.get('tok', []), ex.get('sn', [])
        steps = []
        for t, token in enumerate(tokens):
            token_id = token if 0 <= token < 9 else -1
            embedded = self.mat('emb.tok')[token_id] if token_id >= 0 else [0.0] * 5
            one_hot = [1.0 if i == token_id else 0.0 for i in range(9)]
            # sn, tok_embedding, tok_indicator: sorted by name.
            steps.append([(f32(sn[2 * t + i]) - 1) / 2 for i in range(2)] + list(embedded) + one_hot)
        enc = self.encoder(steps, 'enc', 2, 2, 3, True, 'gelu') if steps else []
        enc2 = self.encoder(enc, 'enc2', 1, 3, 2, False, 'gelu_tanh') if enc else []  # the default activation
        pooled_max = self.pool(enc, 'max', 6)
        pooled_mean = self.pool(enc2, 'mean', 6)
        pooled_first = self.pool(steps, 'first', 16)
        normed = self.layer_norm(features, self.mat('ln.gamma'), self.mat('ln.beta'), 1e-3)
        tower = [ACTIVATIONS['relu'](v) for v in self.affine(normed, 'tower.dense0.kernel', 'tower.dense0.bias')]
        tower = [ACTIVATIONS['relu'](v) for v in self.affine(tower, 'tower.dense1.kernel', 'tower.dense1.bias')]
        dense = [ACTIVATIONS['gelu_tanh'](v) for v in self.affine(pooled_max, 'd.kernel', 'd.bias')]
        swished = [ACTIVATIONS['silu'](v) for v in self.affine(pooled_first, 'd2.kernel', 'd2.bias')]
        joined = tower + dense + pooled_mean + pooled_first + swished
        return {'out': self.affine(joined, 'out.kernel', 'out.bias'), 'feats': features}


def main():
    spec, out_dir = sys.argv[1], sys.argv[2]
    rng = random.Random(11)
    params = write_weights(os.path.join(out_dir, 'weights.safetensors'), parameter_shapes(spec), rng)
    examples = make_examples(rng)
    reference = Reference(params)
    with open(os.path.join(out_dir, 'examples.jsonl'), 'w') as out:
        for example in examples:
            out.write(json.dumps(example) + '\n')
    with open(os.path.join(out_dir, 'expected.jsonl'), 'w') as out:
        for example in examples:
            out.write(json.dumps(reference.example(example)) + '\n')


if __name__ == '__main__':
    main()
