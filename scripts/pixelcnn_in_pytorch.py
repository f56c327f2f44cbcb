"""Compute the logits of load_in_pytorch.py's GatedPixelCNN on the weights
and inputs in a safetensors file written by genmodel's
TestPixelCNNMatchesPyTorch, and write them beside them: the weights load
with strict=True, so the names and shapes are the module's, and the test
compares the logits, so the computation (masks, shifts, gates, class
biases) is too.

    /usr/bin/python3 scripts/pixelcnn_in_pytorch.py IN.safetensors OUT.safetensors

Inputs: the state_dict, its architecture as "arch" (channels, layers,
first_kernel, kernel, head, classes), "input.x" (B, 1, H, W) and
"input.y" (B) class indices as floats. Output: "logits" (B, 1, H, W).
"""
import json
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from load_in_pytorch import GatedPixelCNN, read_safetensors  # noqa: E402


def save(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


state, _, _ = read_safetensors(sys.argv[1])
x, y = state.pop("input.x"), state.pop("input.y").long()
c, layers, first, kernel, head, classes = (int(v) for v in state.pop("arch"))
m = GatedPixelCNN(c, layers, first, kernel, head, classes=classes)
m.load_state_dict(state, strict=True)
with torch.no_grad():
    save(sys.argv[2], {"logits": m(x, y if classes else None)})
