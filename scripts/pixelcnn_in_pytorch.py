"""Compute the logits of load_in_pytorch.py's GatedPixelCNN on the weights
and inputs in a safetensors file written by genmodel's
TestPixelCNNMatchesPyTorch, and write them beside them: the weights load
with strict=True, so the names and shapes are the module's, and the test
compares the logits, so the computation (masks, shifts, gates, class
biases) is too.

    /usr/bin/python3 scripts/pixelcnn_in_pytorch.py IN.safetensors OUT.safetensors

Inputs: the state_dict, its architecture as "arch" (channels, layers,
first_kernel, kernel, head, classes[, in_ch, out_ch]; a vqvae-prior's
in_ch = out_ch = K one-hot categories), "input.x" (B, in_ch, H, W) and
"input.y" (B) class indices as floats. Output: "logits" (B, out_ch, H, W).
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
arch = [int(v) for v in state.pop("arch")]
c, layers, first, kernel, head, classes = arch[:6]
in_ch, out_ch = arch[6:8] if len(arch) > 6 else (1, 1)
m = GatedPixelCNN(c, layers, first, kernel, head, in_ch=in_ch, out_ch=out_ch, classes=classes)
if "codebook_norms" in state:  # a vqvae-prior: the norms of its VQ-VAE's codes
    m.register_buffer("codebook_norms", torch.zeros(out_ch))
m.load_state_dict(state, strict=True)
with torch.no_grad():
    save(sys.argv[2], {"logits": m(x, y if classes else None)})
