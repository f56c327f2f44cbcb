"""Run ../shared/bench/ddpm_ref.py's UNet on the weights and inputs in a
safetensors file written by genmodel's TestUNetMatchesPyTorch, and write its
noise prediction beside them: the weights load with strict=True, so the
parameter names and shapes are the reference's, and the test compares the
outputs, so the computation is too.

    /usr/bin/python3 scripts/unet_in_pytorch.py IN.safetensors OUT.safetensors

Inputs: every reference parameter by its state_dict key, plus "input.x"
(B,1,28,28) and "input.t" (B, as floats). Output: "eps" (B,1,28,28).
"""
import json, struct, sys
import numpy as np
import torch

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/../shared/bench")
from ddpm_ref import UNet  # noqa: E402


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        buf = f.read()
    header.pop("__metadata__", None)
    return {k: torch.from_numpy(np.frombuffer(buf[e["data_offsets"][0]:e["data_offsets"][1]], dtype="<f4")
                                .reshape(e["shape"]).copy()) for k, e in header.items()}


def save(path, tensors):
    header, blobs, off = {}, [], 0
    for k, v in tensors.items():
        b = v.detach().numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


if __name__ == "__main__":
    state = load(sys.argv[1])
    x, t = state.pop("input.x"), state.pop("input.t").long()
    m = UNet()
    m.load_state_dict(state, strict=True)
    with torch.no_grad():
        save(sys.argv[2], {"eps": m(x, t)})
