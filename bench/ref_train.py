#!/usr/bin/python3
"""Reference timing for bench/bench_train.lua: one semi-supervised TCN training
step in PyTorch, on inputs made once and reused (like variant (b) of the bench).

The model is bench/ref_models.py's Tracker (torchvision resnet18 truncated + LP's
SF heatmap head + MHCRNN head, re-implemented from docs/spec/lp-model.md).
One step is (docs/spec/lp-model.md §4.9):
  - labeled forward of (B, 5, 3, S, S) context stacks -> sf, mf (B, K, S/4, S/4);
    supervised loss 0.5 * heatmap_mse over [sf; mf] against the targets repeated
    for both heads (§4.2: sum over pixels of (t - p)^2, mean over rows and keypoints;
    no masking of all-zero targets, there are none here);
  - unlabeled forward of a T-frame window (a second pass, its own BN statistics):
    the backbone once over T frames, SF head on frames 2..T-3, MHCRNN head on the
    T-4 five-frame windows (§3.7);
  - both heads' heatmaps decoded with LP's run_subpixelmaxima as upstream runs it
    (ref_models.lp_style_decode: 2 x (bicubic x2 + 5x5 blur as a grouped conv2d),
    temperature-1000 softmax, expectation, 5x5 confidence), with gradients;
  - temporal loss (§4.4) on the [sf; mf] keypoints (seam included), epsilon 20 px,
    prob_threshold 0.05, weight 1/(2 exp(5)) (config_synthetic's log_weight 5),
    anneal 1; keypoints in frame pixels = model pixels here (128 px video);
  - zero_grad, backward of the sum, Adam step (backbone group lr 1e-4, head 1e-3).
Not included: lpose's per-step train_supervised_rmse diagnostic (a no-grad decode
of the labeled heatmaps), loss logging (.item() calls), and any data loading.
Prints "step_mean_ms X" and "step_median_ms X".

Usage: /usr/bin/python3 bench/ref_train.py BATCH SIZE K T WARMUP STEPS THREADS
"""
import math
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_models import Tracker, lp_style_decode  # noqa: E402
from gen_model_fixtures import spatial_softmax  # noqa: E402 (tests/fixtures, put on sys.path by ref_models)


def unlabeled_forward(model, frames):
    t = frames.shape[0]
    feats = model.backbone(frames)  # T C h w
    n = t - 4
    stacks = torch.stack([feats[j:j + n] for j in range(5)], 0)  # 5 n C h w
    sf = spatial_softmax(model.sf(feats[2:2 + n]))
    mf = model.mf(stacks)
    return sf, mf


def heatmap_mse(pred, targ):
    h, w = targ.shape[-2:]
    return ((targ - pred) ** 2).mean() * h * w


def temporal_loss(kp, conf, eps=20.0, thresh=0.05):
    d = torch.linalg.norm(kp[1:] - kp[:-1], dim=-1)  # M-1 K
    mask = (conf[1:] >= thresh) & (conf[:-1] >= thresh)
    d = d * mask
    return torch.relu(d - eps).mean()


def main():
    batch, size, k, t, warmup, steps, threads = map(int, sys.argv[1:8])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Tracker("resnet18", k)
    model.train()
    images = torch.randn(batch, 5, 3, size, size)
    targ = torch.rand(batch, k, size // 4, size // 4)
    targ = targ / targ.sum((2, 3), keepdim=True)
    frames = torch.randn(t, 3, size, size)
    backbone = list(model.backbone.parameters())
    ids = {id(p) for p in backbone}
    head = [p for p in model.parameters() if id(p) not in ids]
    opt = torch.optim.Adam([{"params": backbone, "lr": 1e-4}, {"params": head, "lr": 1e-3}])
    w_temporal = 1.0 / (2.0 * math.exp(5.0))

    def step():
        sf, mf = model(images)
        sup = 0.5 * heatmap_mse(torch.cat([sf, mf], 0), torch.cat([targ, targ], 0))
        usf, umf = unlabeled_forward(model, frames)
        kp, conf = lp_style_decode(torch.cat([usf, umf], 0), 2)
        total = sup + w_temporal * temporal_loss(kp, conf)
        opt.zero_grad(set_to_none=False)
        total.backward()
        opt.step()
        return total

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print("step_mean_ms", statistics.mean(times) * 1e3)
    print("step_median_ms", statistics.median(times) * 1e3)


if __name__ == "__main__":
    main()
