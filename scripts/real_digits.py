"""Write N random MNIST training digits as PNGs, the real-data baseline of
`genmodel eval --images DIR` (what a perfect generator would score).

    /usr/bin/python3 scripts/real_digits.py MNIST_DIR OUT_DIR [N [SEED]]

MNIST_DIR holds the four IDX files (`make` prints it as MNIST_DIR);
../shared/bench provides the loader and the PNG writer. docs/results.md's
figures use N 1000 and SEED 1.
"""
import os, sys, torch
sys.path.insert(0, os.environ.get("BENCH_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench")))
import mnist
from save import save_pngs
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
x, _ = mnist.load(sys.argv[1], "train")
pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]
save_pngs(torch.from_numpy(x[pick.numpy()]).reshape(-1, 1, 28, 28), sys.argv[2])
