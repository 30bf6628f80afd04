"""PyTorch (Debian's python3-torch) trains small nn.Sequential models briefly and exports them
with torch.onnx.export, for descent to import (onnx_torch_import): each model, the inputs, the
model's outputs on them as PyTorch computes them, and labels to fine-tune on.

    /usr/bin/python3 torch_export.py OUT_DIR [FASHION_MNIST_DIR]

  torch_fashion        Flatten, Linear(784, 64), ReLU, Linear(64, 32), Tanh, Linear(32, 10) on
                       [B, 1, 28, 28] images: 200 SGD steps on Fashion-MNIST (on synthetic images
                       when the data is missing); outputs the logits, as PyTorch classifiers do
  torch_softmax        Linear(20, 16), Sigmoid, Linear(16, 3), Softmax(dim=1), synthetic data
  torch_softmax_opset9 the same model exported with opset 9 (Softmax before its opset-13 change)

OUT_DIR/torch_cases.txt has a line per model: name, model, input, output and label files,
batch, features, classes. Arrays are raw little-endian row-major: float32 (inputs, outputs),
int32 (labels). Exit status 77 when torch is missing (skipped).
"""
import gzip
import os
import sys

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"PyTorch is missing ({e}): skipped")
    sys.exit(77)

out = sys.argv[1]
data = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
torch.set_num_threads(1)
lines = []


def idx(name, offset):
    with gzip.open(os.path.join(data, name), "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def train(model, x, y, steps, lr):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss = torch.nn.CrossEntropyLoss()
    for step in range(steps):
        i = torch.randint(0, x.shape[0], (64,))
        opt.zero_grad()
        l = loss(model(x[i]), y[i])
        l.backward()
        opt.step()
    return l.item()


def export(name, model, x, y, opset=None, features=None):
    model.eval()
    path = os.path.join(out, name + ".onnx")
    kwargs = {} if opset is None else {"opset_version": opset}
    torch.onnx.export(model, x[:2], path, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, **kwargs)
    with torch.no_grad():
        f = model(x)
    x.numpy().astype("<f4").tofile(os.path.join(out, name + ".input"))
    f.numpy().astype("<f4").tofile(os.path.join(out, name + ".output"))
    y.numpy().astype("<i4").tofile(os.path.join(out, name + ".labels"))
    features = features or x.shape[1]
    lines.append(f"{name} {name}.onnx {name}.input {name}.output {name}.labels {x.shape[0]} {features} {f.shape[1]}")
    print(f"{name}: exported, {x.shape[0]} samples of {features} features, {f.shape[1]} outputs")


# Fashion-MNIST images as [N, 1, 28, 28] in [0, 1]; synthetic ones with a linear teacher's labels.
if os.path.exists(os.path.join(data, "train-images-idx3-ubyte.gz")):
    images = torch.tensor(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28) / 255.0, dtype=torch.float32)
    labels = torch.tensor(idx("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    source = "Fashion-MNIST"
else:
    images = torch.rand(12000, 1, 28, 28)
    labels = (images.reshape(-1, 784) @ torch.randn(784, 10)).argmax(1)
    source = "synthetic images"
train_x, train_y = images[:-1000], labels[:-1000]
held_x, held_y = images[-1000:], labels[-1000:]  # compared and fine-tuned on; not trained on
fashion = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32),
                              torch.nn.Tanh(), torch.nn.Linear(32, 10))
print(f"torch_fashion: {source}, last training loss {train(fashion, train_x, train_y, 200, 0.1):.4f}")
export("torch_fashion", fashion, held_x, held_y, features=784)

x = torch.randn(2000, 20)
y = (x @ torch.randn(20, 3)).argmax(1)
logits = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.Sigmoid(), torch.nn.Linear(16, 3))
print(f"torch_softmax: last training loss {train(logits, x[:1500], y[:1500], 300, 0.5):.4f}")
softmax = torch.nn.Sequential(*logits, torch.nn.Softmax(dim=1))
export("torch_softmax", softmax, x[1500:], y[1500:])
export("torch_softmax_opset9", softmax, x[1500:], y[1500:], opset=9)

with open(os.path.join(out, "torch_cases.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"PyTorch {torch.__version__}: {len(lines)} models exported")
