"""Reconstruct images with scripts/load_in_pytorch.py's VQVAE on the weights
and inputs in a safetensors file written by genmodel's
TestVQVAEMatchesPyTorch, and write the reconstructions and the codes beside
them: the weights (the codebook's buffers included) load with strict=True,
so the names and shapes are the module's, and the test compares the codes
and the reconstructions, so the computation is too.

    /usr/bin/python3 scripts/vqvae_in_pytorch.py IN.safetensors OUT.safetensors

Inputs: the state_dict plus "input.x" (B, 1, 28, 28), pixels in [0, 1].
Outputs: "recon" (B, 1, 28, 28), the decoder's linear output, and "codes"
(B, 7, 7) as floats.
"""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from unet_in_pytorch import load, save  # noqa: E402
import torch  # noqa: E402
from load_in_pytorch import VQVAE  # noqa: E402

state = load(sys.argv[1])
x = state.pop("input.x")
blocks = len({k.split(".")[1] for k in state if k.startswith("encoder.") and ".block." in k})
c, r = state["encoder.0.weight"].shape[0], state["encoder.5.block.1.weight"].shape[0] if blocks else 1
k, d = state["quantizer.embed"].shape
m = VQVAE(c, r, blocks, d, k)
m.load_state_dict(state, strict=True)
with torch.no_grad():
    recon, codes = m(x)
save(sys.argv[2], {"recon": recon, "codes": codes.float()})
