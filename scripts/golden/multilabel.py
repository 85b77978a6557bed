"""Golden values for the multi-label loss and GELU (run with /usr/bin/python3, PyTorch 1.13).

Writes test/golden/multilabel.json:
  bce: torch.nn.BCEWithLogitsLoss() (mean) and its gradient on the logits, float64 inputs,
       including huge logits (±80) and exact zeros, multi-hot and soft targets;
  gelu: exact GELU and gelu(approximate='tanh') on a grid, in float64, and max |exact − tanh|.
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = 'test/golden/multilabel.json'

cases = []
logits = torch.randn(6, 5, dtype=torch.float64) * 3
logits[0, 0] = 0.0
logits[1, 1] = 80.0
logits[2, 2] = -80.0
multi_hot = (torch.rand(6, 5, dtype=torch.float64) < 0.4).double()
multi_hot[1, 1] = 0.0   # confident and wrong: loss ≈ 80
soft = torch.rand(6, 5, dtype=torch.float64)
for name, target in [('multi-hot', multi_hot), ('soft', soft)]:
    x = logits.clone().requires_grad_(True)
    loss = torch.nn.BCEWithLogitsLoss()(x, target)
    loss.backward()
    cases.append({'name': name, 'logits': x.detach().tolist(), 'targets': target.tolist(),
                  'loss': loss.item(), 'grad': x.grad.tolist()})

xs = torch.linspace(-4, 4, 161, dtype=torch.float64)
exact = F.gelu(xs)
tanh = F.gelu(xs, approximate='tanh')
fine = torch.linspace(-6, 6, 120001, dtype=torch.float64)
diff = F.gelu(fine) - F.gelu(fine, approximate='tanh')
i = int(diff.abs().argmax())
gelu = {'x': xs.tolist(), 'exact': exact.tolist(), 'tanh': tanh.tolist(),
        'maxAbsDiff': diff.abs().max().item(), 'argmaxAbsDiff': fine[i].item(), 'diffAtArgmax': diff[i].item()}

with open(OUT, 'w') as f:
    json.dump({'source': 'scripts/golden/multilabel.py, torch ' + torch.__version__, 'bce': cases, 'gelu': gelu}, f)
print(OUT, 'max |gelu exact - tanh| =', gelu['maxAbsDiff'], 'at x =', gelu['argmaxAbsDiff'])
