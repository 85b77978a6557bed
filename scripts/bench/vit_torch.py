"""PyTorch CPU reference of the course ViT (lib/vit/model.ts), for `npm run bench`.

Same architecture and parameter count: patch embedding as a linear layer on (row, col, channel)
flattened patches, CLS token + learned positions, pre-norm encoder blocks (fused QKV linear, exact
GELU MLP), final LayerNorm, linear head on the CLS token; cross-entropy; AdamW (lr 1e-3, wd 0.05
on all parameters, like the tfjs bench). Random data, created once; data loading not timed.

Usage: /usr/bin/python3 vit_torch.py '{"patch":4,"dModel":128,"heads":4,"layers":6,"dFF":256,
        "batch":128,"threads":1,"steps":5,"warmup":2,"lnEps":1e-6,"classes":10}'
Prints one line `RESULT {json}`.
"""
import json, resource, statistics, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

cfg = json.loads(sys.argv[1])
torch.set_num_threads(int(cfg["threads"]))
D, H, P, EPS = cfg["dModel"], cfg["heads"], cfg["patch"], cfg.get("lnEps", 1e-6)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, H, d // H).permute(2, 0, 3, 1, 4)
        w = ((q * (d // H) ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
        return self.proj((w @ v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(D, eps=EPS), Attention()
        self.norm2, self.fc1, self.fc2 = nn.LayerNorm(D, eps=EPS), nn.Linear(D, cfg["dFF"]), nn.Linear(cfg["dFF"], D)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.g = 32 // P
        self.patch_embed = nn.Linear(P * P * 3, D)
        self.cls_token = nn.Parameter(torch.randn(1, 1, D) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, self.g * self.g + 1, D) * 0.02)
        self.blocks = nn.ModuleList([Block() for _ in range(cfg["layers"])])
        self.norm, self.head = nn.LayerNorm(D, eps=EPS), nn.Linear(D, cfg.get("classes", 10))

    def forward(self, x):  # x: [B, 32, 32, 3] (NHWC, like tfjs)
        b, g = x.shape[0], self.g
        x = x.reshape(b, g, P, g, P, 3).permute(0, 1, 3, 2, 4, 5).reshape(b, g * g, P * P * 3)
        x = torch.cat([self.cls_token.expand(b, -1, -1), self.patch_embed(x)], 1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])


torch.manual_seed(0)
model = ViT()
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
B = cfg["batch"]
x, y = torch.rand(B, 32, 32, 3), torch.arange(B) % cfg.get("classes", 10)


def timed(fn, warmup, reps, cpu=None):
    """Wall-clock seconds of each timed rep; `cpu` gets the process's CPU seconds (all threads)."""
    out = []
    for i in range(warmup + reps):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        if i >= warmup:
            out.append(time.perf_counter() - t0)
            if cpu is not None:
                cpu.append(time.process_time() - c0)
    return out


loss_value = [float("nan")]


def train_step():
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    loss_value[0] = loss.item()


def infer():
    with torch.inference_mode():
        model(x).sum().item()


tc, ic = [], []
tt = timed(train_step, cfg["warmup"], cfg["steps"], tc)
model.eval()
it = timed(infer, 1, cfg["steps"], ic)
tm, im = statistics.median(tt), statistics.median(it)
print("RESULT " + json.dumps(dict(
    framework="pytorch-" + torch.__version__, backend="cpu", threads=torch.get_num_threads(), batch=B,
    params=sum(p.numel() for p in model.parameters()),
    train_ms_median=round(tm * 1000, 1), train_img_s=round(B / tm, 2), train_ms_all=[round(t * 1000) for t in tt],
    train_cpu_ms_median=round(statistics.median(tc) * 1000, 1), infer_cpu_ms_median=round(statistics.median(ic) * 1000, 1),
    infer_ms_median=round(im * 1000, 1), infer_img_s=round(B / im, 2),
    peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), final_loss=loss_value[0])))
