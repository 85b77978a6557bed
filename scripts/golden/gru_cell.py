"""Golden numbers for lib/seq2seq/gru.ts from PyTorch's nn.GRUCell (independent implementation).

Run: /usr/bin/python3 scripts/golden/gru_cell.py  -> test/golden/gru-cell.json
PyTorch stores weight_ih as [3H, In] with gate rows (r, z, n); lib uses [In, H] per gate, so the
weights are split and transposed here. br = b_ir + b_hr, bz = b_iz + b_hz, bxn = b_in, bhn = b_hn.
"""
import json
import torch

torch.manual_seed(0)
B, In, H = 3, 4, 5
cell = torch.nn.GRUCell(In, H)
x = torch.randn(B, In)
h = torch.randn(B, H)
h1 = cell(x, h)
W_ih, W_hh, b_ih, b_hh = cell.weight_ih.detach(), cell.weight_hh.detach(), cell.bias_ih.detach(), cell.bias_hh.detach()
g = lambda W, i: W[i * H:(i + 1) * H].T.tolist()
b = lambda v, i: v[i * H:(i + 1) * H]
out = {
    "x": x.tolist(), "h": h.tolist(),
    "params": {
        "Wxr": g(W_ih, 0), "Wxz": g(W_ih, 1), "Wxn": g(W_ih, 2),
        "Whr": g(W_hh, 0), "Whz": g(W_hh, 1), "Whn": g(W_hh, 2),
        "br": (b(b_ih, 0) + b(b_hh, 0)).tolist(), "bz": (b(b_ih, 1) + b(b_hh, 1)).tolist(),
        "bxn": b(b_ih, 2).tolist(), "bhn": b(b_hh, 2).tolist(),
    },
    "h_next": h1.detach().tolist(),
    "torch": torch.__version__,
}
with open("test/golden/gru-cell.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote test/golden/gru-cell.json")
