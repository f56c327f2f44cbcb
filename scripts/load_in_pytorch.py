"""Load genmodel checkpoint files into the PyTorch modules a user would write
for them, with load_state_dict(strict=True), and print one line per file.

    /usr/bin/python3 scripts/load_in_pytorch.py FILE...

A FILE is any .safetensors genmodel writes: a training checkpoint
(step-N.safetensors), its weight average (step-N.ema.safetensors), its
optimizer state (step-N.optim.safetensors: every moment must name a
parameter of the module, and the sibling weights file must be beside it),
an exported file (`genmodel export`) or a shipped one in checkpoints/. The
module is chosen by the file's "model" metadata and sized by its saved
config; an exported GAN holds the generator only and loads into one.

Where ../shared/bench has the class, it is used as it is: ddpm_ref.UNet
(plus nn.Embedding class_emb for the conditional twin) and flow_ref.RealNVP.
The others are written here in PyTorch's usual idiom (nn.Sequential indices,
ModuleLists, registered buffers); the VAE is the seed's module, as in
scripts/load_vae_in_pytorch.py. Glow and the multi-scale RealNVP are
declared by their parameters and buffers only: this checks names and shapes,
while their forward passes are checked by genmodel's own tests.

F16 and BF16 files (`export --dtype`) load too: load_state_dict converts into
the modules' float32 parameters. It reads the format with json and numpy, so
that Debian's python3-torch is all it needs. Exit status 1 if any file fails.
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/../shared/bench")


def read_safetensors(path):
    """The tensors (as float32 torch tensors), the metadata and the set of
    stored dtypes of a file."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        buf = f.read()
    meta = header.pop("__metadata__", {})
    state, dtypes = {}, set()
    for name, e in header.items():
        a, b = e["data_offsets"]
        raw = buf[a:b]
        if e["dtype"] == "F32":
            v = np.frombuffer(raw, dtype="<f4")
        elif e["dtype"] == "F16":
            v = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif e["dtype"] == "BF16":
            v = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(f"{name}: dtype {e['dtype']} is not one genmodel writes")
        state[name] = torch.from_numpy(v.reshape(e["shape"]).copy())
        dtypes.add(e["dtype"])
    return state, meta, dtypes


def mlp(sizes, act, last=None, dropout=None):
    """nn.Sequential of Linear layers with act (and, when dropout is not
    None, Dropout(dropout)) between them, and last at the end."""
    mods = []
    for i in range(len(sizes) - 1):
        mods.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            mods.append(act())
            if dropout is not None:
                mods.append(nn.Dropout(dropout))
    if last is not None:
        mods.append(last())
    return nn.Sequential(*mods)


class VAE(nn.Module):  # the seed's VAE, with the config's widths
    def __init__(self, d, hidden, z):
        super().__init__()
        self.encoder = nn.Sequential(*mlp([d] + hidden, nn.ReLU), nn.ReLU())
        self.fc_mu = nn.Linear(hidden[-1], z)
        self.fc_var = nn.Linear(hidden[-1], z)
        self.decoder = mlp([z] + hidden[::-1] + [d], nn.ReLU)


class MLPGenerator(nn.Module):
    def __init__(self, z, hidden, d, classes):
        super().__init__()
        if classes:
            self.label_emb = nn.Embedding(classes, classes)
        self.net = mlp([z + classes] + hidden + [d], lambda: nn.LeakyReLU(0.2), nn.Tanh)


class MLPDiscriminator(nn.Module):
    def __init__(self, d, hidden, classes, dropout):
        super().__init__()
        if classes:
            self.label_emb = nn.Embedding(classes, classes)
        # Linear, LeakyReLU, Dropout per hidden layer, as gan_ref.py's D.
        self.net = mlp([d + classes] + hidden + [1], lambda: nn.LeakyReLU(0.2), nn.Sigmoid, dropout=dropout)


class DCGANGenerator(nn.Module):  # scripts/dcgan_in_pytorch.py's Gen, with the config's sizes
    def __init__(self, z, c, hidden, classes):
        super().__init__()
        if classes:
            self.label_emb = nn.Embedding(classes, classes)
        sizes = [z + classes] + hidden
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.hidden_bn = nn.ModuleList(nn.BatchNorm1d(b) for b in hidden)
        self.fc = nn.Linear(sizes[-1], 2 * c * 49)
        self.bn0 = nn.BatchNorm2d(2 * c)
        self.conv1 = nn.Conv2d(2 * c, c, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c // 2, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c // 2)
        self.conv3 = nn.Conv2d(c // 2, 1, 3, 1, 1)


class DCGANDiscriminator(nn.Module):  # dcgan_in_pytorch.py's Disc; conditional: a projection embedding
    def __init__(self, c, hidden, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c, 4, 2, 1)
        self.conv2 = nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * c)
        sizes = [2 * c * 49] + hidden
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))
        self.hidden_bn = nn.ModuleList(nn.BatchNorm1d(b) for b in hidden)
        self.fc = nn.Linear(sizes[-1], 1)
        if classes:
            self.label_emb = nn.Embedding(classes, sizes[-1])


class GAN(nn.Module):
    def __init__(self, generator, discriminator=None):
        super().__init__()
        self.generator = generator
        if discriminator is not None:
            self.discriminator = discriminator


class Classifier(nn.Module):  # the evaluator's CNN
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)


class NoisyClassifier(Classifier):  # the classifier with a time embedding added after each conv
    def __init__(self, temb_in=32, temb=128):
        super().__init__()
        self.temb = nn.Sequential(nn.Linear(temb_in, temb), nn.SiLU())
        self.t1 = nn.Linear(temb, 32)
        self.t2 = nn.Linear(temb, 64)


class SSVAE(nn.Module):  # M2 of Kingma et al. 2014, over d pixels or (M1+M2) d latents of an M1 VAE
    def __init__(self, hidden, z, act, d=784, gaussian=False):
        super().__init__()
        self.classifier = mlp([d] + hidden + [10], act)
        self.encoder = nn.Sequential(*mlp([d + 10] + hidden, act), act())
        self.fc_mu = nn.Linear(hidden[-1], z)
        self.fc_var = nn.Linear(hidden[-1], z)
        self.decoder = mlp([z + 10] + hidden + [d], act)
        if gaussian:  # p(z1|y,z2): the mean from decoder, the log-variance from this head on its last hidden layer
            self.decoder_var = nn.Linear(hidden[-1], d)


class VQResidual(nn.Module):  # the VQ-VAE paper's block: x + conv1x1(relu(conv3x3(relu(x))))
    def __init__(self, c, r):
        super().__init__()
        self.block = nn.Sequential(nn.ReLU(), nn.Conv2d(c, r, 3, padding=1), nn.ReLU(), nn.Conv2d(r, c, 1))

    def forward(self, x):
        return x + self.block(x)


class VQEMAQuantizer(nn.Module):  # a codebook updated by moving averages: buffers, no parameters
    def __init__(self, k, d):
        super().__init__()
        self.register_buffer("embed", torch.randn(k, d))
        self.register_buffer("cluster_size", torch.zeros(k))
        self.register_buffer("embed_avg", torch.zeros(k, d))
        self.register_buffer("unused", torch.zeros(k))  # steps since each code was last picked


class VQVAE(nn.Module):  # van den Oord et al. 2017: 28x28 -> 7x7 codes -> 28x28
    def __init__(self, c, r, blocks, d, k):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(1, c, 4, 2, 1), nn.ReLU(), nn.Conv2d(c, c, 4, 2, 1), nn.ReLU(),
                                     nn.Conv2d(c, c, 3, padding=1), *[VQResidual(c, r) for _ in range(blocks)],
                                     nn.ReLU(), nn.Conv2d(c, d, 1))
        self.quantizer = VQEMAQuantizer(k, d)
        self.decoder = nn.Sequential(nn.Conv2d(d, c, 3, padding=1), *[VQResidual(c, r) for _ in range(blocks)],
                                     nn.ReLU(), nn.ConvTranspose2d(c, c, 4, 2, 1), nn.ReLU(),
                                     nn.ConvTranspose2d(c, 1, 4, 2, 1))

    def forward(self, x):  # x (B, 1, 28, 28) in [0, 1] -> reconstructions (B, 1, 28, 28), codes (B, 7, 7)
        z = self.encoder(x)
        b, d, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, d)
        e = self.quantizer.embed
        codes = ((e * e).sum(1)[None, :] - 2 * flat @ e.t()).argmin(1)
        q = e[codes].reshape(b, h, w, d).permute(0, 3, 1, 2)
        return self.decoder(q), codes.reshape(b, h, w)


class GatedLayer(nn.Module):  # one layer of the gated PixelCNN's two stacks
    def __init__(self, cin, c, k, first, classes):
        super().__init__()
        self.k, self.first = k, first
        m = k // 2 if first else k // 2 + 1  # mask A excludes the centre
        self.v_conv = nn.Conv2d(cin, 2 * c, k, padding=(k - 1, k // 2))  # rows i-k+1..i once the bottom is cropped
        self.v_to_h = nn.Conv2d(2 * c, 2 * c, 1)
        self.h_conv = nn.Conv2d(cin, 2 * c, (1, m))
        self.h_out = nn.Conv2d(c, c, 1)
        if classes:
            self.v_class = nn.Embedding(classes, 2 * c)
            self.h_class = nn.Embedding(classes, 2 * c)

    @staticmethod
    def gate(x):
        a, g = x.chunk(2, 1)
        return torch.tanh(a) * torch.sigmoid(g)

    def forward(self, v, h, y=None):
        H, W = v.shape[2:]
        vp = self.v_conv(v)[:, :, :H]
        if y is not None:
            vp = vp + self.v_class(y)[:, :, None, None]
        m = self.h_conv.kernel_size[1]
        hp = self.h_conv(F.pad(h, (m, 0)))[..., :W] if self.first else self.h_conv(F.pad(h, (m - 1, 0)))
        hp = hp + self.v_to_h(F.pad(vp, (0, 0, 1, 0))[:, :, :H])  # shifted down a row
        if y is not None:
            hp = hp + self.h_class(y)[:, :, None, None]
        out = self.h_out(self.gate(hp))
        return self.gate(vp), out if self.first else h + out


class GatedPixelCNN(nn.Module):  # van den Oord et al. 2016 over binary pixels or K categories
    def __init__(self, c, layers, first_kernel, kernel, head, in_ch=1, out_ch=1, classes=0):
        super().__init__()
        self.layers = nn.ModuleList(
            GatedLayer(in_ch if i == 0 else c, c, first_kernel if i == 0 else kernel, i == 0, classes)
            for i in range(layers))
        self.out = nn.Sequential(nn.ReLU(), nn.Conv2d(c, head, 1), nn.ReLU(), nn.Conv2d(head, out_ch, 1))

    def forward(self, x, y=None):
        v = h = x
        for layer in self.layers:
            v, h = layer(v, h, y)
        return self.out(h)


class ActNorm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(c))
        self.logs = nn.Parameter(torch.zeros(c))
        self.register_buffer("initialized", torch.tensor(0.0))


class InvConvLU(nn.Module):  # Glow's 1x1 convolution, W = P L (U + diag(sign_s exp(log_s)))
    def __init__(self, c):
        super().__init__()
        self.lower = nn.Parameter(torch.zeros(c, c))
        self.upper = nn.Parameter(torch.zeros(c, c))
        self.log_s = nn.Parameter(torch.zeros(c))
        self.register_buffer("p", torch.eye(c))
        self.register_buffer("sign_s", torch.ones(c))


class GlowStep(nn.Module):
    def __init__(self, c, hidden, additive):
        super().__init__()
        self.actnorm = ActNorm(c)
        self.invconv = InvConvLU(c)
        self.coupling = nn.Module()
        out = c // 2 if additive else c  # the shift, or the shift and the raw scale
        self.coupling.net = nn.Sequential(nn.Conv2d(c // 2, hidden, 3, padding=1), nn.ReLU(),
                                          nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
                                          nn.Conv2d(hidden, out, 3, padding=1))


class Glow(nn.Module):
    def __init__(self, levels, steps, hidden, additive=False, learn_top=False):
        super().__init__()
        self.levels = nn.ModuleList()
        c = 1
        for i in range(levels):
            c *= 4
            lv = nn.Module()
            lv.steps = nn.ModuleList(GlowStep(c, hidden, additive) for _ in range(steps))
            if i < levels - 1:
                lv.prior = nn.Conv2d(c // 2, c, 3, padding=1)
                c //= 2
            self.levels.append(lv)
        if learn_top:  # [mean, log-sd] of each top channel
            self.top_prior = nn.Parameter(torch.zeros(2 * c))


class ResNetST(nn.Module):  # a multi-scale RealNVP coupling's s,t network
    def __init__(self, cin, ch, cout, blocks):
        super().__init__()
        self.in_conv = nn.Conv2d(cin, ch, 3, padding=1)
        self.blocks = nn.ModuleList()
        for _ in range(blocks):
            b = nn.Module()
            b.norm1, b.conv1 = ActNorm(ch), nn.Conv2d(ch, ch, 3, padding=1)
            b.norm2, b.conv2 = ActNorm(ch), nn.Conv2d(ch, ch, 3, padding=1)
            self.blocks.append(b)
        self.out_norm = ActNorm(ch)
        self.out_conv = nn.Conv2d(ch, cout, 3, padding=1)


class ConvCoupling(nn.Module):
    def __init__(self, cin, ct, ch, blocks):
        super().__init__()
        self.net = ResNetST(cin, ch, 2 * ct, blocks)
        self.rescale = nn.Module()
        self.rescale.weight = nn.Parameter(torch.ones(ct, 1, 1))


def multiscale_realnvp(state, ch, blocks):
    """Dinh et al.'s multi-scale RealNVP, its couplings' input and output
    channels read off the in_conv and out_conv shapes (checkerboard couplings
    see all channels, channel-wise ones half)."""
    m = nn.Module()
    m.scales = nn.ModuleList()
    s = 0
    while f"scales.{s}.couplings.0.net.in_conv.weight" in state:
        sc = nn.Module()
        sc.couplings = nn.ModuleList()
        k = 0
        while f"scales.{s}.couplings.{k}.net.in_conv.weight" in state:
            cin = state[f"scales.{s}.couplings.{k}.net.in_conv.weight"].shape[1]
            ct = state[f"scales.{s}.couplings.{k}.net.out_conv.weight"].shape[0] // 2
            sc.couplings.append(ConvCoupling(cin, ct, ch, blocks))
            k += 1
        m.scales.append(sc)
        s += 1
    return m


def build(model, cfg, state):
    """The module for a file of model, sized by its config cfg."""
    sub = cfg.get(model.replace("-", "_"), {}) or {}
    size = cfg.get("data", {}).get("image_size", 28)
    d = size * size
    if model == "vae":
        return VAE(d, sub["hidden"], sub["latent_dim"])
    if model == "gan":
        classes = 10 if sub.get("conditional") else 0
        g = MLPGenerator(sub["latent_dim"], sub["g_hidden"], d, classes)
        dd = None
        if any(k.startswith("discriminator.") for k in state):
            dd = MLPDiscriminator(d, sub["d_hidden"], classes, sub.get("d_dropout", 0))
        return GAN(g, dd)
    if model == "dcgan":
        if sub.get("upsample", "resize") != "resize" or sub.get("spectral_norm") or sub.get("info_codes"):
            raise NotImplementedError("dcgan with upsample=transposed, spectral_norm or info_codes")
        classes = 10 if sub.get("conditional") else 0
        c = sub["base_channels"]
        g = DCGANGenerator(sub["latent_dim"], c, list(sub.get("g_hidden") or []), classes)
        dd = None
        if any(k.startswith("discriminator.") for k in state):
            dd = DCGANDiscriminator(sub.get("d_channels") or c, list(sub.get("d_hidden") or []), classes)
        return GAN(g, dd)
    if model in ("ddpm", "ldm"):
        argv, sys.argv = sys.argv, sys.argv[:1]  # ddpm_ref reads its thread count from argv on import
        try:
            from ddpm_ref import UNet
        finally:
            sys.argv = argv
        if sub.get("groups", 8) != 8:
            raise NotImplementedError("ddpm_ref.UNet has 8 GroupNorm groups")
        m = UNet(sub["channels"], sub["time_embed"])
        if sub.get("conditional"):
            m.class_emb = nn.Embedding(11, sub["time_embed"])  # 10 digits and "no class"
        if model == "ldm":  # over C latent channels, with the latent scale and its VQ-VAE's code norms
            c = sub["latent_channels"]
            m.inc = nn.Conv2d(c, sub["channels"], 3, padding=1)
            m.out[2] = nn.Conv2d(sub["channels"], c, 3, padding=1)
            if "latent_scale" in state:  # not in the average's file, which holds the UNet alone
                per_channel = sub.get("standardize", "global") == "channel"
                m.register_buffer("latent_scale", torch.zeros(c if per_channel else 1))
                if per_channel:
                    m.register_buffer("latent_shift", torch.zeros(c))
                m.register_buffer("codebook_norms", torch.zeros(sub["codebook_size"]))
        return m
    if model == "realnvp":
        if sub.get("arch", "mlp") == "multiscale":
            return multiscale_realnvp(state, sub["channels"], sub["blocks"])
        from flow_ref import Coupling, RealNVP
        m = RealNVP(sub["layers"])
        if sub["hidden"] != 1024:
            m.layers = nn.ModuleList(Coupling(l.mask, sub["hidden"]) for l in m.layers)
        return m
    if model == "glow":
        return Glow(sub["levels"], sub["steps"], sub["hidden"],
                    sub.get("coupling", "affine") == "additive", sub.get("learn_top", False))
    if model == "classifier":
        return Classifier()
    if model == "noisy-classifier":
        return NoisyClassifier()
    if model == "ssvae":
        act = nn.Softplus if sub.get("activation", "softplus") == "softplus" else nn.ReLU
        if sub.get("features", "pixels") == "m1":
            return SSVAE(sub["hidden"], sub["latent_dim"], act, sub["m1_latent_dim"], gaussian=True)
        return SSVAE(sub["hidden"], sub["latent_dim"], act)
    if model == "vqvae":
        return VQVAE(sub["channels"], sub["res_channels"], sub["res_blocks"], sub["embedding_dim"], sub["codebook_size"])
    if model == "pixelcnn":
        return GatedPixelCNN(sub["channels"], sub["layers"], sub["first_kernel"], sub["kernel"], sub["head"],
                             classes=10 if sub.get("conditional") else 0)
    if model == "vqvae-prior":  # a PixelCNN over K one-hot codes, with its VQ-VAE's code norms
        p, k = cfg["prior"], cfg["prior"]["codebook_size"]
        m = GatedPixelCNN(p["channels"], p["layers"], p["first_kernel"], p["kernel"], p["head"], in_ch=k, out_ch=k)
        m.register_buffer("codebook_norms", torch.zeros(k))
        return m
    raise NotImplementedError(f"model {model!r}")


def check(path):
    state, meta, dtypes = read_safetensors(path)
    model = meta.get("model", "")
    cfg = yaml.safe_load(meta.get("config", "")) or {}
    if any(k.endswith(".exp_avg") for k in state):
        # Moments are OPTIMIZER.PARAM.exp_avg(_sq), OPTIMIZER being adam or,
        # for GANs, generator and discriminator. Size the module from the
        # weights file beside this one, which has the config.
        weights = path.replace(".optim.safetensors", ".safetensors")
        wstate, wmeta, _ = read_safetensors(weights)
        cfg = yaml.safe_load(wmeta.get("config", "")) or {}
        model = model or wmeta.get("model", "")
        m = build(model, cfg, wstate)
        names = set(m.state_dict())
        moments = [k for k in state if k.endswith((".exp_avg", ".exp_avg_sq"))]
        orphans = [k for k in moments if k.split(".", 1)[1].rsplit(".", 1)[0] not in names]
        if orphans:
            raise KeyError(f"moments of no parameter: {orphans[:5]}")
        return f"{model} optimizer state: {len(moments)} moments, each of a parameter of the module"
    m = build(model, cfg, state)
    m.load_state_dict(state, strict=True)
    return f"{model} {type(m).__name__}: {len(state)} tensors loaded with strict=True ({'+'.join(sorted(dtypes))})"


def main(paths):
    failed = 0
    for p in paths:
        try:
            print(f"{p}: {check(p)}")
        except Exception as e:  # report every file, then fail
            failed += 1
            print(f"{p}: FAILED: {type(e).__name__}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__.split("\n\n")[1])
    sys.exit(main(sys.argv[1:]))
