"""PyTorch side of bench/compare_pytorch.py: the same workload as descent's bench.

Fashion-MNIST's training images as one float32 tensor in memory (pixels / 255),
an MLP 784-512-256-10 with ReLU, the mean softmax cross-entropy, plain SGD.

Run by compare_pytorch.py, once per setting (OpenBLAS core type, thread count),
since OpenBLAS reads its environment when it loads. Two modes:

  throughput: reads one JSON request per line on stdin,
      {"batch": B, "seconds": S}
    and answers one JSON line: {"samples_per_s": ...}: steps (forward, backward,
    update) on consecutive batches of the training set, timed for S seconds
    after a warm-up.
  parity: trains with the recipe given on the command line (epochs, batch, lr,
    reshuffled each epoch) and prints {"test_accuracy": ..., "seconds": ...}.

Needs /usr/bin/python3 with Debian's python3-torch.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch


def read_idx(path, magic):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    found = int.from_bytes(data[0:4], "big")
    if found != magic:
        raise SystemExit(f"{path}: magic number {found:#010x}, expected {magic:#010x}")
    dims = magic & 0xFF
    shape = [int.from_bytes(data[4 + 4 * d: 8 + 4 * d], "big") for d in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(directory, part):
    def path(name):
        packed = os.path.join(directory, name + ".gz")
        return packed if os.path.exists(packed) else os.path.join(directory, name)

    images = read_idx(path(f"{part}-images-idx3-ubyte"), 0x00000803)
    labels = read_idx(path(f"{part}-labels-idx1-ubyte"), 0x00000801)
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / np.float32(255))
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def network():
    return torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10))


def learning_rate(batch):
    return 0.01 if batch == 1 else 0.1


def throughput(x, y):
    torch.manual_seed(1)
    model = network()
    loss_fn = torch.nn.CrossEntropyLoss()
    for line in sys.stdin:
        request = json.loads(line)
        batch, seconds = int(request["batch"]), float(request["seconds"])
        optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate(batch))
        n = x.shape[0] - x.shape[0] % batch
        first = 0

        def step():
            nonlocal first
            if first + batch > n:
                first = 0
            xb, yb = x[first:first + batch], y[first:first + batch]
            first += batch
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()

        warm_until = time.perf_counter() + min(0.3, seconds / 3)
        while time.perf_counter() < warm_until:
            step()
        steps = 0
        start = time.perf_counter()
        while True:
            step()
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        print(json.dumps({"samples_per_s": steps * batch / elapsed}), flush=True)


def parity(x, y, directory, args):
    x_test, y_test = load(directory, "t10k")
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    model = network()
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    start = time.perf_counter()
    for _ in range(args.epochs):
        order = torch.randperm(x.shape[0], generator=generator)
        for first in range(0, x.shape[0], args.batch):
            ids = order[first:first + args.batch]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x[ids]), y[ids]).backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (model(x_test).argmax(dim=1) == y_test).double().mean().item()
    print(json.dumps({"test_accuracy": accuracy, "seconds": seconds}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["throughput", "parity", "config"])
    parser.add_argument("--data", default=os.environ.get("DESCENT_FASHION_MNIST", "/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.mode == "config":
        # Which BLAS library this process loaded, and torch's own account of its build.
        with open("/proc/self/maps") as maps:
            blas = sorted({line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line})
        core = None
        for lib in blas:
            if "openblas" in os.path.basename(lib):
                import ctypes
                get = ctypes.CDLL(lib).openblas_get_corename
                get.restype = ctypes.c_char_p
                core = get().decode()  # the kernels OpenBLAS chose for this CPU
        print(json.dumps({"torch": torch.__version__, "blas_libraries": blas, "openblas_core": core,
                          "threads": torch.get_num_threads(), "config": torch.__config__.show()}))
        return
    x, y = load(args.data, "train")
    if args.mode == "throughput":
        print(json.dumps({"ready": True}), flush=True)
        throughput(x, y)
    else:
        parity(x, y, args.data, args)


if __name__ == "__main__":
    main()
