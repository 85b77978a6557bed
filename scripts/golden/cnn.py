"""Golden values for the ResNet-style CNN with BatchNorm (run with /usr/bin/python3, PyTorch 1.13).

Writes test/golden/cnn.json for lib/cnn/resnet.ts (norm 'batch'): a ResNet of image size 8, widths
4 and 8, one basic block per stage, 3 classes, built from torch.nn modules (Conv2d without bias,
BatchNorm2d, a 1×1 stride-2 projection shortcut, global average pool, Linear), with random weights
and BatchNorm affine parameters. Stored in the course's layout and names: conv weights
[kh, kw, c_in, c_out], the shortcut [c_in, c_out], head.weight [in, out]; images NHWC.
  train: logits in training mode (the batch's moments), the mean cross-entropy against `labels`
         and its gradient for every parameter (course names and layouts);
  eval:  logits in evaluation mode with the moments of an estimation batch. PyTorch keeps an unbiased
         running variance; the course normalises with the biased variance it trains with, so the
         script measures each BatchNorm input's mean and biased variance on the estimation batch
         (training mode) and sets running_mean / running_var to them — "precise BN".
"""
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
OUT = 'test/golden/cnn.json'


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.norm1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        h = self.norm2(self.conv2(F.relu(self.norm1(self.conv1(x)))))
        return F.relu(h + (self.shortcut(x) if self.shortcut is not None else x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, 1, 1, bias=False)
        self.norm = nn.BatchNorm2d(4)
        self.b0 = Block(4, 4, 1)
        self.b1 = Block(4, 8, 2)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        h = F.relu(self.norm(self.conv(x)))
        h = self.b1(self.b0(h))
        return self.head(h.mean((2, 3)))


net = Net().double()
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):   # non-trivial affine parameters
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.5, 0.5)

# course name -> (module parameter, how to convert to the course layout)
conv = lambda w: w.permute(2, 3, 1, 0)          # [out, in, kh, kw] -> [kh, kw, in, out]
names = {'stem.conv.weight': (net.conv.weight, conv), 'stem.norm.weight': (net.norm.weight, None),
         'stem.norm.bias': (net.norm.bias, None)}
for i, b in enumerate([net.b0, net.b1]):
    p = f'stages.{i}.0'
    names.update({f'{p}.conv1.weight': (b.conv1.weight, conv), f'{p}.norm1.weight': (b.norm1.weight, None),
                  f'{p}.norm1.bias': (b.norm1.bias, None), f'{p}.conv2.weight': (b.conv2.weight, conv),
                  f'{p}.norm2.weight': (b.norm2.weight, None), f'{p}.norm2.bias': (b.norm2.bias, None)})
    if b.shortcut is not None:
        names[f'{p}.shortcut.weight'] = (b.shortcut.weight, lambda w: w[:, :, 0, 0].t())
names['head.weight'] = (net.head.weight, lambda w: w.t())
names['head.bias'] = (net.head.bias, None)
norm_modules = {'stem.norm': net.norm, 'stages.0.0.norm1': net.b0.norm1, 'stages.0.0.norm2': net.b0.norm2,
                'stages.1.0.norm1': net.b1.norm1, 'stages.1.0.norm2': net.b1.norm2}
layout = lambda t, f: (f(t) if f else t).detach().contiguous()

x = torch.randn(5, 3, 8, 8, dtype=torch.float64)
labels = torch.tensor([0, 2, 1, 1, 0])
net.train()
logits = net(x)
loss = F.cross_entropy(logits, labels)
loss.backward()
train = {'logits': logits.detach().tolist(), 'loss': loss.item(),
         'grads': {n: layout(p.grad, f).flatten().tolist() for n, (p, f) in names.items()}}

# precise BN: biased moments of every BatchNorm input over the estimation batch, in training mode
xe = torch.randn(6, 3, 8, 8, dtype=torch.float64) * 1.5 + 0.3
seen = {}
hooks = [m.register_forward_hook(lambda m, inp, out, n=n: seen.__setitem__(n, inp[0].detach()))
         for n, m in norm_modules.items()]
with torch.no_grad():
    net(xe)
for h in hooks:
    h.remove()
for n, m in norm_modules.items():
    m.running_mean.copy_(seen[n].mean((0, 2, 3)))
    m.running_var.copy_(seen[n].var((0, 2, 3), unbiased=False))
net.eval()
with torch.no_grad():
    eval_logits = net(x)

def short(v):   # 9 significant digits: more than float32 holds, a third of the file
    return [short(u) for u in v] if isinstance(v, list) else {k: short(u) for k, u in v.items()} if isinstance(v, dict) \
        else float(f'{v:.9g}') if isinstance(v, float) else v


nhwc = lambda t: t.permute(0, 2, 3, 1).flatten().tolist()
json.dump(short({'source': f'scripts/golden/cnn.py, torch {torch.__version__}', 'config': {'imageSize': 8, 'channels': 3, 'widths': [4, 8], 'blocksPerStage': 1, 'numClasses': 3, 'norm': 'batch'},
           'params': {n: {'shape': list(layout(p, f).shape), 'values': layout(p, f).flatten().tolist()} for n, (p, f) in names.items()},
           'x': nhwc(x), 'xShape': [5, 8, 8, 3], 'labels': labels.tolist(), 'train': train,
           'estimation': nhwc(xe), 'estimationShape': [6, 8, 8, 3],
           'moments': {n: {'mean': seen[n].mean((0, 2, 3)).tolist(), 'variance': seen[n].var((0, 2, 3), unbiased=False).tolist()}
                       for n in norm_modules},
           'eval': {'logits': eval_logits.tolist()}}),
          open(OUT, 'w'), indent=None)
open(OUT, 'a').write('\n')
print('wrote', OUT)
