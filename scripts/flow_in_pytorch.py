"""Compute ../shared/bench/flow_ref.py's RealNVP log_prob on the weights and
inputs in a safetensors file written by genmodel's TestRealNVPMatchesPyTorch,
and write it beside them: the weights (mask buffers included) load with
strict=True, so the names and shapes are the reference's, and the test
compares the log-probabilities, so the computation is too.

    /usr/bin/python3 scripts/flow_in_pytorch.py IN.safetensors OUT.safetensors

Inputs: the reference's state_dict plus "input.y" (B, 784), in logit space.
Output: "log_prob" (B).
"""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/../shared/bench")
from unet_in_pytorch import load, save  # noqa: E402
import torch  # noqa: E402
from flow_ref import RealNVP  # noqa: E402

state = load(sys.argv[1])
y = state.pop("input.y")
m = RealNVP()
m.load_state_dict(state, strict=True)
with torch.no_grad():
    save(sys.argv[2], {"log_prob": m.log_prob(y)})
