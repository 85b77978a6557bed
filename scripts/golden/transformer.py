#!/usr/bin/env python3
"""Golden fixtures for Chapter 2 (lib/transformer) from PyTorch's own modules.

Writes test/golden/transformer.json: for each case the PyTorch state_dict (names as in
nn.MultiheadAttention / nn.TransformerEncoderLayer / nn.TransformerDecoderLayer), the inputs,
the keep-masks in the course's convention (1 = may attend) and PyTorch's outputs.
Run on a machine with PyTorch (Debian: python3-torch), not in CI:
    /usr/bin/python3 scripts/golden/transformer.py
Modules run in training mode with dropout 0: same maths as eval, and PyTorch does not take its
fused "fast path" (which zeroes the outputs at padded positions).
"""
import json
import os

import torch
from torch import nn

torch.manual_seed(0)
B, D, H, F = 2, 8, 2, 16


def randomize(m):
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.startswith("norm") and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    return m


def sd(m):
    return {k: v.detach().tolist() for k, v in m.state_dict().items()}


def lengths_to_pad(lengths, T):
    """PyTorch key_padding_mask: True = padding (ignored)."""
    return torch.arange(T)[None, :] >= torch.tensor(lengths)[:, None]


def causal(T):
    """PyTorch attn_mask: True = blocked (future positions)."""
    return torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)


def mha_case(Tq, Tk, cross, lengths=None, use_causal=False):
    m = randomize(nn.MultiheadAttention(D, H, dropout=0.0, batch_first=True))
    x = torch.randn(B, Tq, D)
    mem = torch.randn(B, Tk, D) if cross else x
    kpm = lengths_to_pad(lengths, Tk) if lengths else None
    am = causal(Tq) if use_causal else None
    out, w = m(x, mem, mem, key_padding_mask=kpm, attn_mask=am, need_weights=True, average_attn_weights=False)
    keep = torch.ones(B, 1, Tq, Tk)
    if kpm is not None:
        keep = keep * (~kpm).float()[:, None, None, :]
    if am is not None:
        keep = keep * (~am).float()[None, None]
    return {
        "numHeads": H, "state_dict": sd(m), "x": x.tolist(), "memory": mem.tolist() if cross else None,
        "keep": keep.tolist(), "output": out.detach().tolist(), "weights": w.detach().tolist(),
    }


def encoder_case(norm_first, activation, lengths):
    T = 5
    m = randomize(nn.TransformerEncoderLayer(D, H, F, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first))
    m.train()
    x = torch.randn(B, T, D)
    kpm = lengths_to_pad(lengths, T)
    y = m(x, src_key_padding_mask=kpm)
    return {
        "numHeads": H, "dFF": F, "norm": "pre" if norm_first else "post", "activation": activation,
        "state_dict": sd(m), "x": x.tolist(), "keep": (~kpm).float()[:, None, None, :].tolist(),
        "lengths": lengths, "output": y.detach().tolist(),
    }


def decoder_case(norm_first, activation, src_lengths):
    T, S = 4, 6
    m = randomize(nn.TransformerDecoderLayer(D, H, F, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first))
    m.train()
    x = torch.randn(B, T, D)
    mem = torch.randn(B, S, D)
    mkpm = lengths_to_pad(src_lengths, S)
    y = m(x, mem, tgt_mask=causal(T), memory_key_padding_mask=mkpm)
    return {
        "numHeads": H, "dFF": F, "norm": "pre" if norm_first else "post", "activation": activation,
        "state_dict": sd(m), "x": x.tolist(), "memory": mem.tolist(),
        "selfKeep": (~causal(T)).float().tolist(), "memoryKeep": (~mkpm).float()[:, None, None, :].tolist(),
        "output": y.detach().tolist(),
    }


def main():
    cases = {
        "mha_self": mha_case(5, 5, cross=False),
        "mha_self_masked": mha_case(5, 5, cross=False, lengths=[5, 3], use_causal=True),
        "mha_cross_padded": mha_case(4, 6, cross=True, lengths=[6, 2]),
        "encoder_post_relu": encoder_case(False, "relu", [5, 3]),
        "encoder_pre_gelu": encoder_case(True, "gelu", [5, 2]),
        "decoder_post_relu": decoder_case(False, "relu", [6, 4]),
        "decoder_pre_gelu": decoder_case(True, "gelu", [3, 6]),
    }
    out = {"generator": "scripts/golden/transformer.py", "torch": torch.__version__, "dModel": D, "cases": cases}
    path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "golden", "transformer.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes,", len(cases), "cases")


if __name__ == "__main__":
    main()
