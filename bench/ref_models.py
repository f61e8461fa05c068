#!/usr/bin/python3
"""Reference timings for bench/bench_models.lua: the same trackers (truncated
torchvision ResNet + LP's SF head + MHCRNN head, re-implemented from
tests/fixtures/gen_model_fixtures.py) in PyTorch, eager mode as LP runs them.

Serves timings, so that bench/bench_models.lua can alternate lpose and torch
in rounds: reads one pass name per line on stdin (forward, forward_backward,
decode), runs it once and prints "<name> <seconds>" on stdout.

Usage: /usr/bin/python3 bench/ref_models.py BACKBONE BATCH SIZE THREADS < commands
"""
import os
import sys
import time

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures"))
from gen_model_fixtures import CRNN, heatmap_head, spatial_softmax  # noqa: E402


class Tracker(torch.nn.Module):
    def __init__(self, backbone, k):
        super().__init__()
        r = getattr(torchvision.models, backbone)()
        self.backbone = torch.nn.Sequential(*list(r.children())[:-2])
        c = 512 if backbone in ("resnet18", "resnet34") else 2048
        self.sf = heatmap_head(c, k)
        self.mf = CRNN(c, k)

    def forward(self, images):
        b = images.shape[0]
        feats = self.backbone(images.reshape(b * 5, *images.shape[2:]))
        feats5 = feats.reshape(b, 5, *feats.shape[1:]).permute(1, 0, 2, 3, 4)
        return spatial_softmax(self.sf(feats5[2])), self.mf(feats5)


def lp_style_decode(hm, ds=2):
    """LP's run_subpixelmaxima as upstream runs it (kornia filter2d = pad + grouped
    conv2d with one group per keypoint; softmax 1000; expectation; 5x5 window)."""
    n, k = hm.shape[:2]
    b = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0])
    kernel = (torch.outer(b, b) / 256.0)[None, None].expand(k, 1, 5, 5).contiguous()
    x = hm
    for _ in range(ds):
        x = torch.nn.functional.interpolate(x, size=(x.shape[-2] * 2, x.shape[-1] * 2), mode="bicubic",
                                            align_corners=False)
        x = torch.nn.functional.conv2d(torch.nn.functional.pad(x, (2, 2, 2, 2)), kernel, groups=k)
    h, w = x.shape[-2:]
    p = torch.softmax(x.reshape(n, k, h * w) * 1000.0, -1).reshape(n, k, h, w)
    ex = (p.sum(2) * torch.arange(w, dtype=p.dtype)).sum(-1)
    ey = (p.sum(3) * torch.arange(h, dtype=p.dtype)).sum(-1)
    pad = torch.nn.functional.pad(p, (2, 2, 2, 2)).reshape(n, k, -1)
    offs = (torch.arange(5)[:, None] * (w + 4) + torch.arange(5)[None, :]).reshape(-1)
    idx = (ey.long() * (w + 4) + ex.long())[..., None] + offs
    conf = pad.gather(2, idx).sum(-1)
    return torch.stack([ex, ey], -1) - 1.5, conf


def main():
    backbone, batch, size, threads = sys.argv[1], *map(int, sys.argv[2:5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Tracker(backbone, 17)
    x = torch.randn(batch, 5, 3, size, size)
    target = torch.rand(batch, 17, size // 4, size // 4)

    def forward():
        model.eval()
        with torch.inference_mode():
            model(x)

    def forward_backward():
        model.train()
        sf, mf = model(x)
        loss = (sf * target).sum() + (mf * target).sum()
        loss.backward()
        model.zero_grad(set_to_none=True)

    hm = torch.rand(92, 17, size // 4, size // 4)

    def decode():
        with torch.inference_mode():
            lp_style_decode(hm)

    passes = {"forward": forward, "forward_backward": forward_backward, "decode": decode}
    print("ready", flush=True)
    for line in sys.stdin:
        name = line.strip()
        t0 = time.perf_counter()
        passes[name]()
        print(name, time.perf_counter() - t0, flush=True)


if __name__ == "__main__":
    main()
