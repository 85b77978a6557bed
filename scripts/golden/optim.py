#!/usr/bin/python3
"""Golden fixtures for lib/train (AdamW, schedules, losses, clipping) and lib/io/safetensors.

Independent reference: PyTorch (CPU, 1.13 from Debian's python3-torch) and hand-written bytes.
Run from the repository root:  /usr/bin/python3 scripts/golden/optim.py
Writes test/golden/optim.json, test/golden/optim-losses.json, test/golden/optim-safetensors.json.
CI never runs this script; it only reads the committed JSON.
"""
import base64
import json
import math
import struct

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = 'test/golden/'


def tolist(t):
    return t.detach().double().tolist()


# ---------------------------------------------------------------- AdamW
def adamw_case(name, shapes, decay_names, lrs, wd, betas, eps):
    """torch.optim.AdamW with two param groups: decayed (wd) and not decayed (0)."""
    init = {n: torch.randn(*s) for n, s in shapes.items()}
    params = {n: torch.nn.Parameter(v.clone()) for n, v in init.items()}
    groups = [
        {'params': [params[n] for n in shapes if n in decay_names], 'weight_decay': wd},
        {'params': [params[n] for n in shapes if n not in decay_names], 'weight_decay': 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=lrs[0], betas=betas, eps=eps)
    steps = []
    for lr in lrs:
        grads = {n: torch.randn(*s) for n, s in shapes.items()}
        for g in opt.param_groups:
            g['lr'] = lr
        for n, p in params.items():
            p.grad = grads[n].clone()
        opt.step()
        steps.append({'lr': lr, 'grads': {n: tolist(g) for n, g in grads.items()},
                      'params': {n: tolist(p) for n, p in params.items()}})
    state = {n: opt.state[p] for n, p in params.items()}
    return {
        'name': name, 'weightDecay': wd, 'beta1': betas[0], 'beta2': betas[1], 'eps': eps,
        'decay': sorted(decay_names),
        'shapes': {n: list(s) for n, s in shapes.items()},
        'init': {n: tolist(v) for n, v in init.items()},
        'steps': steps,
        'final': {
            'step': int(state[next(iter(shapes))]['step']),
            'm': {n: tolist(s['exp_avg']) for n, s in state.items()},
            'v': {n: tolist(s['exp_avg_sq']) for n, s in state.items()},
        },
    }


vit_shapes = {
    'blocks.0.attn.qkv.weight': (4, 6),
    'blocks.0.attn.qkv.bias': (6,),
    'blocks.0.norm1.weight': (4,),
    'blocks.0.norm1.bias': (4,),
    'cls_token': (1, 1, 4),
    'pos_embed': (1, 3, 4),
    'head.weight': (4, 3),
}
adamw = [
    adamw_case('vit-like, default betas, varying lr', vit_shapes,
               {'blocks.0.attn.qkv.weight', 'head.weight'},
               [1e-3, 5e-3, 2e-2, 1e-2, 1e-4, 3e-2], wd=0.05, betas=(0.9, 0.999), eps=1e-8),
    adamw_case('transformer names, betas (0.9, 0.98), eps 1e-9, large wd', {
        'layers.0.self_attn.in_proj_weight': (3, 5),
        'layers.0.self_attn.in_proj_bias': (5,),
        'layers.0.linear1.weight': (5, 2),
        'src_embed.weight': (6, 3),
    }, {'layers.0.self_attn.in_proj_weight', 'layers.0.linear1.weight'},
        [0.1, 0.05, 0.2, 0.01], wd=0.5, betas=(0.9, 0.98), eps=1e-9),
]


# ---------------------------------------------------------------- schedules (LambdaLR)
def lambda_lrs(lam, base, n):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    sch = torch.optim.lr_scheduler.LambdaLR(opt, lam)
    lrs = []
    for _ in range(n):
        lrs.append(opt.param_groups[0]['lr'])  # lr used by optimizer step k
        opt.step()
        sch.step()
    return lrs


def warmup_cosine_lambda(W, T, base, min_lr):
    m = min_lr / base

    def lam(k):
        if k < W:
            return (k + 1) / W
        prog = min(1.0, (k - W) / (T - W))
        return m + (1 - m) * 0.5 * (1 + math.cos(math.pi * prog))
    return lam


def noam_lambda(d_model, warmup, factor):
    # The Annotated Transformer's rate(); LambdaLR counts from 0, the paper from 1
    def lam(k):
        step = k + 1
        return factor * d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)
    return lam


schedules = {
    'warmupCosine': [
        {'baseLr': 1e-3, 'warmupSteps': 5, 'totalSteps': 20, 'minLr': 1e-5,
         'lrs': lambda_lrs(warmup_cosine_lambda(5, 20, 1e-3, 1e-5), 1e-3, 24)},
        {'baseLr': 0.5, 'warmupSteps': 0, 'totalSteps': 10, 'minLr': 0.0,
         'lrs': lambda_lrs(warmup_cosine_lambda(0, 10, 0.5, 0.0), 0.5, 12)},
    ],
    'transformer': [
        {'dModel': 512, 'warmupSteps': 4000, 'factor': 1.0, 'firstStep': 1,
         'lrs': lambda_lrs(noam_lambda(512, 4000, 1.0), 1.0, 8001)[::400]},
        {'dModel': 32, 'warmupSteps': 10, 'factor': 2.0, 'firstStep': 1,
         'lrs': lambda_lrs(noam_lambda(32, 10, 2.0), 1.0, 30)},
    ],
}
schedules['transformer'][0]['stride'] = 400
schedules['transformer'][1]['stride'] = 1

# ---------------------------------------------------------------- clip_grad_norm_
clip = []
for max_norm in (1.0, 100.0):
    gs = [torch.randn(3, 4), torch.randn(5), torch.randn(2, 2, 2)]
    ps = [torch.nn.Parameter(torch.zeros_like(g)) for g in gs]
    for p, g in zip(ps, gs):
        p.grad = g.clone()
    norm = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    clip.append({'maxNorm': max_norm, 'grads': {f'g{i}': tolist(g) for i, g in enumerate(gs)},
                 'shapes': {f'g{i}': list(g.shape) for i, g in enumerate(gs)},
                 'norm': float(norm), 'clipped': {f'g{i}': tolist(p.grad) for i, p in enumerate(ps)}})

with open(OUT + 'optim.json', 'w') as f:
    json.dump({'source': 'scripts/golden/optim.py, torch ' + torch.__version__,
               'adamw': adamw, 'schedules': schedules, 'clip': clip}, f)

# ---------------------------------------------------------------- losses
losses = {'classification': [], 'sequence': []}
for eps in (0.0, 0.1, 0.3):
    logits = (torch.randn(4, 5) * 3).requires_grad_()
    labels = torch.tensor([0, 3, 4, 1])
    loss = F.cross_entropy(logits, labels, label_smoothing=eps)
    loss.backward()
    soft = torch.softmax(torch.randn(4, 5), dim=1)
    logits2 = logits.detach().clone().requires_grad_()
    loss2 = F.cross_entropy(logits2, soft, label_smoothing=eps)
    loss2.backward()
    losses['classification'].append({
        'labelSmoothing': eps, 'logits': tolist(logits), 'labels': labels.tolist(),
        'loss': float(loss), 'grad': tolist(logits.grad),
        'soft': tolist(soft), 'softLoss': float(loss2), 'softGrad': tolist(logits2.grad)})
for eps in (0.0, 0.1):
    B, T, V, pad = 2, 4, 6, 0
    logits = torch.randn(B, T, V).requires_grad_()
    targets = torch.tensor([[3, 1, 5, 0], [2, 0, 0, 0]])
    loss = F.cross_entropy(logits.reshape(B * T, V), targets.reshape(B * T), ignore_index=pad,
                           label_smoothing=eps)
    loss.backward()
    losses['sequence'].append({'labelSmoothing': eps, 'padId': pad, 'logits': tolist(logits),
                               'targets': targets.tolist(), 'loss': float(loss),
                               'grad': tolist(logits.grad)})
with open(OUT + 'optim-losses.json', 'w') as f:
    json.dump({'source': 'scripts/golden/optim.py, torch ' + torch.__version__, **losses}, f)

# ---------------------------------------------------------------- a safetensors file written by hand
# Bytes follow the spec: u64 LE header length, JSON header, little-endian row-major data.
f32 = [[1.5, -2.25, 3.0], [0.1, 1e-3, -7.0]]
f16 = [0.5, -1.0, 65504.0, 6.1035156e-05, 5.9604645e-08, 0.333251953125]
bf16 = [1.0, -3.140625, 1e20, 0.0]
f64 = [[math.pi], [-math.e]]
i64 = [1, -2, 2 ** 40]
i32 = [7, -8]
blobs = [
    ('weight', 'F32', [2, 3], b''.join(struct.pack('<f', v) for row in f32 for v in row)),
    ('half', 'F16', [6], b''.join(struct.pack('<e', v) for v in f16)),
    ('brain', 'BF16', [2, 2], b''.join(struct.pack('<I', struct.unpack('<I', struct.pack('<f', v))[0])[2:]
                                       for v in bf16)),
    ('double', 'F64', [2, 1], b''.join(struct.pack('<d', v) for row in f64 for v in row)),
    ('long', 'I64', [3], b''.join(struct.pack('<q', v) for v in i64)),
    ('int', 'I32', [2], b''.join(struct.pack('<i', v) for v in i32)),
    ('scalar', 'F32', [], struct.pack('<f', 42.0)),
]
header, data = {'__metadata__': {'format': 'pt', 'note': 'written by hand'}}, b''
for name, dtype, shape, raw in blobs:
    header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(data), len(data) + len(raw)]}
    data += raw
hjson = json.dumps(header).encode()  # deliberately NOT padded to 8 bytes: data starts unaligned
file_bytes = struct.pack('<Q', len(hjson)) + hjson + data


def f32round(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


expected = {
    'weight': [f32round(v) for row in f32 for v in row],
    'half': [float(torch.tensor(v, dtype=torch.float16).float()) for v in f16],
    # bf16 = the upper 16 bits of the float32 pattern (written truncated above)
    'brain': [struct.unpack('<f', struct.pack('<I', struct.unpack('<I', struct.pack('<f', v))[0] & 0xFFFF0000))[0]
              for v in bf16],
    'double': [f32round(v) for row in f64 for v in row],
    'long': [float(v) for v in i64],
    'int': [float(v) for v in i32],
    'scalar': [42.0],
}
with open(OUT + 'optim-safetensors.json', 'w') as f:
    json.dump({'source': 'scripts/golden/optim.py (bytes written by hand with struct)',
               'base64': base64.b64encode(file_bytes).decode(),
               'metadata': header['__metadata__'],
               'tensors': {n: {'dtype': d, 'shape': s, 'values': expected[n]} for n, d, s, _ in blobs}}, f,
              indent=1)
print('wrote', OUT + 'optim.json,', 'optim-losses.json,', 'optim-safetensors.json')
