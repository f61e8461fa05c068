#!/usr/bin/python3
"""(Re)write the fuzz targets' seed corpora, tests/fuzz/corpus/<target>/
(docs/developer/fuzzing.md). Every seed is tiny (< 4 KB) so that libFuzzer's
default input size stays small and each execution is fast.

Usage: /usr/bin/python3 tools/gen_fuzz_seeds.py      (from the repository root)
Needs torch (Debian's python3-torch) for the torch.save seeds and the ffmpeg
command for the image and video seeds; the .lpt seeds are written from the
format in engine/include/lpose.h, the CSV and config seeds are copies of the
test fixtures and of lpose's LP-style configs.
"""
import collections
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import torch
from torch import nn

OUT = "tests/fuzz/corpus"


def out(target, name):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


def pickle_seeds():
    torch.manual_seed(0)
    # a torchvision-style state dict: OrderedDict with _metadata (a BUILD), BN counters
    tv = nn.Sequential(collections.OrderedDict(
        conv1=nn.Conv2d(1, 2, 1, bias=False), bn1=nn.BatchNorm2d(2), fc=nn.Linear(2, 1)))
    torch.save(tv.state_dict(), out("pickle", "torchvision_state_dict.pt"))
    # a Lightning-Pose-style checkpoint: state_dict with LP's names, hyper_parameters
    # with a numpy array, optimizer state, a MultiStepLR whose milestones are a Counter
    sd = collections.OrderedDict()
    sd["backbone.0.weight"] = torch.randn(2, 1, 1, 1)
    sd["backbone.1.running_mean"] = torch.zeros(2)
    sd["backbone.1.num_batches_tracked"] = torch.tensor(3)
    sd["head.head_sf.upsampling_layers.1.bias"] = torch.ones(2).half()
    sd["head.head_mf.layers.0.weight"] = torch.arange(6.0).reshape(2, 3).t()
    ckpt = {"epoch": 1, "global_step": 2, "pytorch-lightning_version": "1.9.5",
            "state_dict": sd,
            "hyper_parameters": {"num_keypoints": 2, "backbone": "resnet18",
                                 "pca": np.eye(2), "milestones": {150, 200}},
            "optimizer_states": [{"state": {0: {"step": torch.tensor(2.0)}},
                                  "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0]}]}],
            "lr_schedulers": [{"milestones": collections.Counter([150, 200]), "gamma": 0.5}]}
    torch.save(ckpt, out("pickle", "lp_style.ckpt"))
    # an MMPose-style checkpoint: meta + state_dict, a view with an offset
    base = torch.arange(8.0)
    torch.save({"meta": {"epoch": 210, "mmpose_version": "0.x"},
                "state_dict": {"backbone.conv1.weight": base[2:6], "keypoint_head.final_layer.bias": base}},
               out("pickle", "mmpose_style.pth"))
    # the same pickles alone: tests/fuzz/fuzz_pickle.c wraps an input that does not start
    # with "PK" in a zip with storages data/0..7 of 256 bytes each
    import zipfile
    for name in ["torchvision_state_dict.pt", "lp_style.ckpt", "mmpose_style.pth"]:
        with zipfile.ZipFile(out("pickle", name)) as z:
            pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
            with open(out("pickle", os.path.splitext(name)[0] + ".pkl"), "wb") as f:
                f.write(z.read(pkl))


def lpt(name, tensors, meta):
    """tensors: [(name, dtype code, shape, raw bytes)] in lpose's .lpt layout."""
    b = bytearray(b"LPOSETF1")
    m = meta.encode()
    b += struct.pack("<II", len(tensors), len(m)) + m
    for tname, dtype, shape, raw in tensors:
        n = tname.encode()
        b += struct.pack("<I", len(n)) + n + struct.pack("<ii", dtype, len(shape))
        b += b"".join(struct.pack("<q", s) for s in shape) + struct.pack("<Q", len(raw)) + raw
    with open(out("lpt", name), "wb") as f:
        f.write(b)


def lpt_seeds():
    f32 = struct.pack("<6f", *range(6))
    lpt("model.lpt", [("backbone.conv1.weight", 0, [2, 3], f32),
                      ("backbone.bn1.num_batches_tracked", 4, [], struct.pack("<q", 7)),
                      ("mask", 6, [3], b"\x01\x00\x01")],
        json.dumps({"model_type": "heatmap_mhcrnn", "backbone": "resnet18", "num_keypoints": 2}))
    lpt("empty.lpt", [], "")


def copy_seeds():
    for name in ["labels_ok.csv", "labels_visible.csv", "labels_quoted.csv", "labels_crlf.csv"]:
        shutil.copy(os.path.join("tests/fixtures/data", name), out("labels_csv", name))
    for name in ["step_mode.yaml", "imgaug_dict.yaml", "mixed_modes.yaml", "cycle.yaml"]:
        shutil.copy(os.path.join("tests/fixtures/config", name), out("config", name))
    shutil.copy("configs/config_mirror-mouse-example.yaml", out("config", "config_mirror-mouse-example.yaml"))
    # YAML, then "#@" and overrides (tests/fuzz/fuzz_config.c)
    with open(out("config", "overrides.yaml"), "w") as f:
        f.write("data:\n  num_keypoints: 4\n  data_dir: /data/${model.model_name}\n"
                "model:\n  model_name: m1\n#@\ntraining.max_epochs=3\n"
                "model.losses_to_use=[pca_singleview]\n+model.backbone_weights=null\n")


def ffmpeg(args, path):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi"] + args + [path], check=True)


def media_seeds():
    ffmpeg(["-i", "testsrc=size=8x6:rate=1", "-frames:v", "1"], out("image", "rgb.png"))
    ffmpeg(["-i", "testsrc=size=8x6:rate=1", "-frames:v", "1", "-pix_fmt", "gray"], out("image", "gray.png"))
    ffmpeg(["-i", "testsrc=size=8x8:rate=1", "-frames:v", "1"], out("image", "rgb.jpg"))
    ffmpeg(["-i", "testsrc=size=4x4:rate=1", "-frames:v", "1"], out("image", "rgb.bmp"))
    ffmpeg(["-i", "testsrc=size=16x16:rate=5", "-frames:v", "3", "-c:v", "mpeg4"], out("video", "mpeg4.mp4"))
    ffmpeg(["-i", "testsrc=size=16x16:rate=5", "-frames:v", "3", "-c:v", "mjpeg"], out("video", "mjpeg.avi"))


def main():
    if not os.path.isdir("tests/fuzz"):
        sys.exit("run from the repository root")
    pickle_seeds()
    lpt_seeds()
    copy_seeds()
    media_seeds()
    for root, _, files in os.walk(OUT):
        for f in files:
            size = os.path.getsize(os.path.join(root, f))
            print(f"{os.path.join(root, f)}: {size} bytes")


if __name__ == "__main__":
    main()
