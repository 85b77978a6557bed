#!/usr/bin/env python3
"""Golden fixture for Chapter 3 (lib/vit/timm.ts, lib/vit/posembed.ts), independent of our code.

A small ViT written in plain PyTorch with timm's module names and layouts (Conv2d patch embedding,
fused qkv Linear, pre-norm blocks, LayerNorm eps 1e-6, exact GELU, CLS head), random weights,
saved as .safetensors bytes written by hand (this machine's torch 1.13 has no safetensors
package): 8-byte little-endian header length, JSON header, raw little-endian float32 data.
Also: bicubic/bilinear resampling of the position embeddings with F.interpolate
(align_corners=False, as timm's resample_abs_pos_embed, no antialias) and the logits of the model
run at 24x24 with the bicubically resampled embeddings.

Run:  /usr/bin/python3 scripts/golden/vit.py   (writes test/golden/vit-timm.json)
"""
import base64
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
IMG, P, C, D, H, L, FF, K = 16, 4, 3, 16, 2, 2, 32, 5
EPS = 1e-6


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(D, 3 * D)
        self.proj = nn.Linear(D, D)

    def forward(self, x):
        B, N, _ = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, H, D // H).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * (D // H) ** -0.5
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, D)
        return self.proj(x), attn


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(D, FF)
        self.fc2 = nn.Linear(FF, D)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(D, eps=EPS)
        self.attn = Attention()
        self.norm2 = nn.LayerNorm(D, eps=EPS)
        self.mlp = Mlp()

    def forward(self, x):
        a, w = self.attn(self.norm1(x))
        x = x + a
        return x + self.mlp(self.norm2(x)), w


class PatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(C, D, P, stride=P)

    def forward(self, x):  # NCHW -> [B, N, D]
        return self.proj(x).flatten(2).transpose(1, 2)


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = PatchEmbed()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.zeros(1, (IMG // P) ** 2 + 1, D))
        self.blocks = nn.ModuleList([Block() for _ in range(L)])
        self.norm = nn.LayerNorm(D, eps=EPS)
        self.head = nn.Linear(D, K)

    def forward(self, x, pos_embed=None):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1)
        x = x + (self.pos_embed if pos_embed is None else pos_embed)
        attns = []
        for b in self.blocks:
            x, w = b(x)
            attns.append(w)
        x = self.norm(x)
        return self.head(x[:, 0]), attns


def resample(pos, new, mode):
    """timm's resample_abs_pos_embed: CLS apart, grid [1, D, g, g] -> F.interpolate -> back."""
    cls, grid = pos[:, :1], pos[:, 1:]
    g = int(round(grid.shape[1] ** 0.5))
    grid = grid.reshape(1, g, g, D).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new, mode=mode, align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, new[0] * new[1], D)
    return torch.cat([cls, grid], 1)


def safetensors_bytes(state):
    header, blobs, off = {}, [], 0
    for name, t in state.items():
        b = t.detach().contiguous().to(torch.float32).numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    return struct.pack('<Q', len(h)) + h + b''.join(blobs)


def main():
    model = ViT().eval()
    with torch.no_grad():  # non-trivial random weights everywhere (LayerNorms too)
        for name, p in model.named_parameters():
            if name.endswith('norm1.weight') or name.endswith('norm2.weight') or name == 'norm.weight':
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name in ('cls_token', 'pos_embed'):
                p.copy_(0.5 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    x = torch.randn(2, C, IMG, IMG)
    with torch.no_grad():
        logits, attns = model(x)
        pos = model.pos_embed
        bicubic6 = resample(pos, (6, 6), 'bicubic')
        bilinear6 = resample(pos, (6, 6), 'bilinear')
        bicubic3 = resample(pos, (3, 3), 'bicubic')
        x24 = torch.randn(2, C, 24, 24)
        logits24, _ = model(x24, bicubic6)
    state = dict(model.state_dict())
    out = {
        'config': {'imageSize': IMG, 'patchSize': P, 'channels': C, 'dModel': D, 'numHeads': H,
                   'numLayers': L, 'dFF': FF, 'numClasses': K},
        'safetensors_base64': base64.b64encode(safetensors_bytes(state)).decode('ascii'),
        'images_nhwc': x.permute(0, 2, 3, 1).tolist(),
        'logits': logits.tolist(),
        'attentions': [a.tolist() for a in attns],
        'pos_embed': pos.tolist(),
        'pos_bicubic_6x6': bicubic6.tolist(),
        'pos_bilinear_6x6': bilinear6.tolist(),
        'pos_bicubic_3x3': bicubic3.tolist(),
        'images24_nhwc': x24.permute(0, 2, 3, 1).tolist(),
        'logits24_bicubic': logits24.tolist(),
        'torch_version': torch.__version__,
    }
    path = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'golden', 'vit-timm.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(out, f)
    print('wrote', os.path.normpath(path), 'params', sum(p.numel() for p in model.parameters()))


if __name__ == '__main__':
    main()
