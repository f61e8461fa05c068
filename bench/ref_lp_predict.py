#!/usr/bin/python3
"""An LP-style TCN video prediction, the yardstick of bench/bench_predict.lua line 8.

Lightning Pose's own inference code cannot run here (it needs lightning, kornia,
hydra..., none of them packaged in Debian, and no PyPI), so this script does
what docs/spec/lp-model.md says LP does, with the same tools LP uses: OpenCV
reads the video (python3-opencv), PyTorch runs the model eagerly
(python3-torch), and the heatmaps are decoded with kornia's operations written
out in torch (bench/ref_models.py's lp_style_decode). It is not LP's code: a
faithful sketch of its work per window, which LP's overheads (Lightning's
predict loop, DALI or its reader's own buffering, pandas) can only add to.

Per window (§3.6): T frames read in order (windows start every T - 4 frames, the
4 shared frames are read once and recomputed by the backbone, as LP does), BGR
-> RGB, resized to the model input (cv2.resize, bilinear), scaled to [0, 1] and
normalised with ImageNet's mean and std; the backbone on the T frames; the
single-frame head on the centre frames 2..T-3 and the multi-frame head on the
T - 4 five-frame stacks (§3.3: W_pre on every frame of every stack); both heads
decoded (§2.3) and merged per keypoint (§3.5). The last window is padded by
repeating the last frame.

Usage: /usr/bin/python3 bench/ref_lp_predict.py VIDEO SIZE K T THREADS
Prints "frames <n> seconds <s>": the prediction itself, from opening the video
to the last window's keypoints (imports and building the model excluded, as
bench_predict times lpose's prediction with --profile).
"""
import os
import sys
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from ref_models import Tracker, lp_style_decode  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures"))
from gen_model_fixtures import spatial_softmax  # noqa: E402

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def frame_tensor(bgr, size):
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_LINEAR)
    x = (rgb.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(x.transpose(2, 0, 1).copy())


def predict(model, path, size, t):
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        sys.exit(f"cannot open {path}")
    frames, rows, n_read, done = [], [], 0, False
    while not done:
        while len(frames) < t:  # the window: 4 frames kept from the last one, the rest read
            ok, bgr = cap.read()
            if not ok:
                done = True
                break
            frames.append(frame_tensor(bgr, size))
            n_read += 1
        if len(frames) <= 4 and rows:
            break
        n_real = len(frames)
        window = torch.stack(frames + [frames[-1]] * (t - n_real))
        feats = model.backbone(window)
        stacks = torch.stack([feats[i:t - 4 + i] for i in range(5)])  # (5, T-4, C, h, w)
        sf = spatial_softmax(model.sf(feats[2:t - 2]))
        mf = model.mf(stacks)
        kp_sf, c_sf = lp_style_decode(sf)
        kp_mf, c_mf = lp_style_decode(mf)
        use_mf = c_mf > c_sf
        kp = torch.where(use_mf[..., None], kp_mf, kp_sf)
        rows.append(kp[:max(n_real - 4, 0)])
        frames = frames[-4:]
    cap.release()
    return n_read, torch.cat(rows)


def main():
    path, size, k, t, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Tracker("resnet18", k).eval()
    with torch.no_grad():
        t0 = time.perf_counter()
        n, rows = predict(model, path, size, t)
        seconds = time.perf_counter() - t0
    if rows.shape[0] != n - 4:
        sys.exit(f"{rows.shape[0]} rows for {n} frames")
    print(f"frames {n} seconds {seconds:.4f}", flush=True)


if __name__ == "__main__":
    main()
