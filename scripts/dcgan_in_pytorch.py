"""Train, in PyTorch, the same DCGAN that `genmodel train --model dcgan` trains
by default (resize-convolution G, strided-convolution D with batch norm,
N(0, 0.02) initialization, Adam 2e-4 / 0.5, batch 64, non-saturating BCE on
logits, one D step on a real and a generated batch, then one G step on fresh
noise), so that genmodel's figures for it can be checked against an
independent implementation. It writes 1000 samples with G in evaluation mode
(as genmodel samples) to SAMPLES_DIR, and 1000 with batch statistics to
SAMPLES_DIR-trainmode, for `genmodel eval --images`.

    SAMPLES_DIR=/tmp/dcgan-pt /usr/bin/python3 scripts/dcgan_in_pytorch.py MNIST_DIR EPOCHS THREADS

STEPS=N is a timing mode for scripts/bench.sh: N training steps on random
batches (EPOCHS is ignored, nothing is sampled), printing the median time of
all but the first as "train step B=64 median MS ms images/s IPS". With
HIDDEN=1024 it times the default DCGAN:

    STEPS=20 HIDDEN=1024 /usr/bin/python3 scripts/dcgan_in_pytorch.py MNIST_DIR 0 THREADS

HIDDEN=1024 adds the hidden layers of `--set 'dcgan.g_hidden=[1024]' --set
'dcgan.d_hidden=[1024]'`: a linear layer of that width with batch norm and
ReLU between z and G's fc, and one with batch norm and LeakyReLU(0.2)
between D's flattened convolutions and its fc.

MNIST_DIR holds the four IDX files (`make` prints it as MNIST_DIR);
../shared/bench provides the loader and the PNG writer.
"""
import sys, os, time, torch, torch.nn as nn, torch.nn.functional as F
sys.path.insert(0, os.environ.get("BENCH_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench")))
import mnist
torch.set_num_threads(int(sys.argv[3])); torch.manual_seed(0)
xtr, _ = mnist.load(sys.argv[1], "train"); xtr = torch.from_numpy(xtr).reshape(-1, 1, 28, 28) * 2 - 1
Z, c, B = 100, 64, 64
H = int(os.environ.get("HIDDEN", "0"))
def init(m):
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.normal_(m.weight, 0, 0.02)
        if m.bias is not None: nn.init.zeros_(m.bias)
    if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
        nn.init.normal_(m.weight, 1, 0.02); nn.init.zeros_(m.bias)
class Gen(nn.Module):
    def __init__(s):
        super().__init__()
        s.fc = nn.Linear(H or Z, 2*c*49); s.bn0 = nn.BatchNorm2d(2*c)
        if H: s.hid = nn.Linear(Z, H); s.bnh = nn.BatchNorm1d(H)
        s.conv1 = nn.Conv2d(2*c, c, 3, 1, 1, bias=False); s.bn1 = nn.BatchNorm2d(c)
        s.conv2 = nn.Conv2d(c, c//2, 3, 1, 1, bias=False); s.bn2 = nn.BatchNorm2d(c//2)
        s.conv3 = nn.Conv2d(c//2, 1, 3, 1, 1)
    def forward(s, z):
        if H: z = F.relu(s.bnh(s.hid(z)))
        h = F.relu(s.bn0(s.fc(z).view(-1, 2*c, 7, 7)))
        h = F.relu(s.bn1(s.conv1(F.interpolate(h, scale_factor=2, mode="nearest"))))
        h = F.relu(s.bn2(s.conv2(F.interpolate(h, scale_factor=2, mode="nearest"))))
        return torch.tanh(s.conv3(h))
class Disc(nn.Module):
    def __init__(s):
        super().__init__()
        s.conv1 = nn.Conv2d(1, c, 4, 2, 1); s.conv2 = nn.Conv2d(c, 2*c, 4, 2, 1, bias=False)
        s.bn2 = nn.BatchNorm2d(2*c); s.fc = nn.Linear(H or 2*c*49, 1)
        if H: s.hid = nn.Linear(2*c*49, H); s.bnh = nn.BatchNorm1d(H)
    def forward(s, x):
        h = F.leaky_relu(s.conv1(x), 0.2)
        h = F.leaky_relu(s.bn2(s.conv2(h)), 0.2)
        h = h.flatten(1)
        if H: h = F.leaky_relu(s.bnh(s.hid(h)), 0.2)
        return s.fc(h)
G, D = Gen(), Disc(); G.apply(init); D.apply(init)
oG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
oD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss(); ones, zeros = torch.ones(B, 1), torch.zeros(B, 1)
def train_step(real):
    """One D step on a real and a generated batch, then one G step."""
    fake = G(torch.randn(B, Z)).detach()
    lr_, lf = D(real), D(fake)
    dl = (bce(lr_, ones) + bce(lf, zeros)) / 2
    oD.zero_grad(); dl.backward(); oD.step()
    lg = D(G(torch.randn(B, Z)))
    gl = bce(lg, ones)
    oG.zero_grad(); gl.backward(); oG.step()
    return dl, gl, lr_, lf
if os.environ.get("STEPS"):
    # Timing mode (scripts/bench.sh): N training steps on random batches, the
    # first a warm-up, and their median time, as ddpm_ref.py reports its
    # steps; EPOCHS is then ignored and nothing is sampled.
    times = []
    for i in range(int(os.environ["STEPS"])):
        t0 = time.perf_counter()
        train_step(xtr[torch.randint(0, len(xtr), (B,))])
        times.append(time.perf_counter() - t0)
    times = sorted(times[1:]) if len(times) > 1 else times
    ms = times[len(times) // 2] * 1000
    print(f"train step B={B} median {ms:.1f} ms images/s {B * 1000 / ms:.1f}", flush=True)
    sys.exit(0)
for ep in range(int(sys.argv[2])):
    perm = torch.randperm(len(xtr)); t0 = time.perf_counter(); steps = 0
    for i in range(0, len(xtr) - B + 1, B):
        dl, gl, lr_, lf = train_step(xtr[perm[i:i + B]]); steps += 1
        if steps % 200 == 0:
            print(f"  step {steps} d {dl.item():.3f} g {gl.item():.3f} D(x) {torch.sigmoid(lr_).mean():.3f} D(G(z)) {torch.sigmoid(lf).mean():.3f}", flush=True)
    dt = time.perf_counter() - t0
    print(f"epoch {ep+1} d_loss {dl.item():.3f} g_loss {gl.item():.3f} images/s {steps*B/dt:.0f} sec {dt:.1f}", flush=True)
if os.environ.get("SAMPLES_DIR"):
    from save import save_pngs
    G.eval()
    with torch.no_grad():
        save_pngs((G(torch.randn(1000, Z)) + 1) / 2, os.environ["SAMPLES_DIR"])
    G.train()
    with torch.no_grad():
        save_pngs((torch.cat([G(torch.randn(100, Z)) for _ in range(10)]) + 1) / 2, os.environ["SAMPLES_DIR"] + "-trainmode")
