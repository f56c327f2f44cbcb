"""Load a genmodel VAE checkpoint into the seed's PyTorch VAE with strict=True
and print its MNIST test loss per image (MSE-sum + KL, one posterior sample),
the definition genmodel's `eval` uses.

    /usr/bin/python3 scripts/load_vae_in_pytorch.py CHECKPOINT.safetensors MNIST_DIR

With the `safetensors` package installed, safetensors.torch.load_file(path)
gives the same state_dict; this script reads the format with
load_in_pytorch.py's reader so that it needs only Debian's python3-torch.
"""
import sys
import torch, torch.nn as nn

sys.path.insert(0, __file__.rsplit("/", 1)[0])
sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/../shared/bench")
from load_in_pytorch import read_safetensors  # noqa: E402


class VAE(nn.Module):  # the seed's module, verbatim in structure and names
    def __init__(self, input_dim=784, latent_dim=20):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(input_dim, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU())
        self.fc_mu = nn.Linear(128, latent_dim)
        self.fc_var = nn.Linear(128, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, 128), nn.ReLU(), nn.Linear(128, 256), nn.ReLU(),
                                     nn.Linear(256, input_dim))

    def forward(self, x):
        h = self.encoder(x)
        mu, lv = self.fc_mu(h), self.fc_var(h)
        z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
        return self.decoder(z), mu, lv


state, meta, _ = read_safetensors(sys.argv[1])
m = VAE()
m.load_state_dict(state, strict=True)
print(f"loaded {len(state)} tensors with strict=True; model={meta.get('model')} step={meta.get('step')}")
if len(sys.argv) > 2:
    import mnist
    x, _ = mnist.load(sys.argv[2], "test")
    x = torch.from_numpy(x)
    torch.manual_seed(0)
    with torch.no_grad():
        xr, mu, lv = m(x)
        recon = torch.nn.functional.mse_loss(xr, x, reduction="sum") / len(x)
        kl = -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp()) / len(x)
    print(f"test loss/img {(recon + kl).item():.3f} (recon {recon.item():.3f}, kl {kl.item():.3f})")
