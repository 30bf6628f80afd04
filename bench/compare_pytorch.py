"""descent against PyTorch on the same workload, in one session: run bench/compare_pytorch.sh.

The workload (bench/workload.hpp, bench/pytorch_worker.py): Fashion-MNIST's 60000
training images in memory as float32, an MLP 784-512-256-10 with ReLU, the mean
softmax cross-entropy, plain SGD (lr 0.01 at batch 1, 0.1 otherwise). Throughput
is samples per second of forward + backward + update.

descent's headline figure is `fit`, as users train: train_fashion_mnist on the first
--samples images for one epoch (every step guarded, the set reshuffled every epoch, no
validation), samples trained over fit's seconds. Beside it, in the same alternating
rounds: eigen_reference (the workload in a straightforward loop of plain Eigen, the same
samples), bench_training's BM_step (a component: one guarded Sgd::step on consecutive
batches, --seconds long; with BM_roof, the step's products alone) and PyTorch (its
steps on consecutive batches, --seconds long). For every batch size and thread count,
the medians of --reps rounds are printed as

  batch=B threads=T fit=X eigen=E bm_step=S pytorch=P fit/eigen=X/E fit/bm_step=X/S fit/pytorch=X/P
      roof_fraction=F pytorch_as_shipped=Z pytorch_best=SETTING

PyTorch runs as shipped (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so OpenBLAS
picks its kernels itself) and with OPENBLAS_CORETYPE=SkylakeX, each on 1 thread
and on each thread count asked for; `pytorch` is its best median among those
settings using at most T threads, the figure the ratio is taken against.
roof_fraction is BM_step's GFLOP/s over Eigen's on the products alone (BM_roof).

--optimizers times fit with sgd, momentum and adam (train_fashion_mnist's default
learning rates) at batch 1 and 128 on 1 thread, in alternating rounds:

  optimizers batch=B threads=1 sgd=X momentum=Y adam=Z momentum/sgd=Y/X adam/sgd=Z/X

--network times fit on the typed Mlp and on the run-time Network of the same layers
(which train the same θ bit for bit), SGD, batch 1 and 128, 1 thread:

  network batch=B threads=1 mlp=X network=Y network/mlp=Y/X

These two modes run alone (no PyTorch); either or both may be given.

--parity trains 5 epochs at batch 128, lr 0.1, reshuffled each epoch, in both,
and prints both test accuracies (and descent's peak memory). --quick makes every mode
a smoke run: one round, 0.3 s, fewer images, one parity epoch.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
PYTHON = "/usr/bin/python3"  # Debian's python3-torch is installed for this interpreter only
WORKER = os.path.join(BENCH, "pytorch_worker.py")
VARIANTS = {"as_shipped": None, "SkylakeX": "SkylakeX"}  # name -> OPENBLAS_CORETYPE


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(command, **kwargs):
    log("+ " + " ".join(command))
    subprocess.run(command, check=True, **kwargs)


def build(build_dir, jobs, targets):
    if not os.path.exists(os.path.join(build_dir, "CMakeCache.txt")):
        run(["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release", "-DDESCENT_BUILD_TESTS=OFF"],
            stdout=subprocess.DEVNULL)
    run(["cmake", "--build", build_dir, "-j", str(jobs), "--target", *targets], stdout=subprocess.DEVNULL)
    return os.path.join(build_dir, "bench")


def learning_rate(batch):
    return 0.01 if batch == 1 else 0.1  # workload.hpp's, as BM_step, eigen_reference and PyTorch use


def key_values(text):
    """A program's `key=value` lines (train_fashion_mnist may put several on one line)."""
    return dict(word.split("=", 1) for word in text.split() if "=" in word)


def variant_env(coretype, threads):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    env["OPENBLAS_NUM_THREADS"] = str(threads)  # OpenBLAS's own pool, beside torch's OpenMP threads
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def torch_config(coretype):
    out = subprocess.run([PYTHON, WORKER, "config"], env=variant_env(coretype, 1), capture_output=True, text=True)
    return json.loads(out.stdout) if out.returncode == 0 else None


def ensure_torch(install):
    if subprocess.run([PYTHON, "-c", "import torch"], capture_output=True).returncode != 0:
        if not install:
            sys.exit("PyTorch is missing: apt-get install python3-torch (or run without --no-install)")
        log("PyTorch is missing: installing Debian's python3-torch")
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", "python3-torch"], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    config = torch_config(None)
    if config and any("/blas/libblas" in lib for lib in config["blas_libraries"]):
        # libtorch recommends libopenblas0: an install without recommends falls back on the
        # reference BLAS, far slower than what Debian ships by default.
        if not install:
            log("warning: PyTorch runs on the reference BLAS; Debian's default install has OpenBLAS (libopenblas0)")
        else:
            log("PyTorch runs on the reference BLAS: installing libopenblas0, which libtorch recommends")
            run(["apt-get", "install", "-y", "-qq", "libopenblas0"], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


class Worker:
    """A PyTorch process of one setting, kept for the session: OpenBLAS reads its environment once."""

    def __init__(self, coretype, threads, data):
        self.process = subprocess.Popen(
            [PYTHON, WORKER, "throughput", "--threads", str(threads), "--data", data],
            env=variant_env(coretype, threads), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        json.loads(self.process.stdout.readline())  # {"ready": true} once the data are loaded

    def measure(self, batch, seconds):
        self.process.stdin.write(json.dumps({"batch": batch, "seconds": seconds}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())["samples_per_s"]

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def fit_measure(bench_dir, batch, threads, samples, data, optimizer="sgd", network=False, lr=None):
    """fit's samples/s: train_fashion_mnist, one epoch over the first `samples` images."""
    command = [os.path.join(bench_dir, "train_fashion_mnist"), "--epochs", "1", "--samples", str(samples),
               "--batch", str(batch), "--threads", str(threads), "--optimizer", optimizer]
    if lr is not None:
        command += ["--lr", str(lr)]
    if network:
        command.append("--network")
    out = subprocess.run(command, env=dict(os.environ, DESCENT_FASHION_MNIST=data), capture_output=True,
                         text=True, check=True)
    return float(key_values(out.stdout)["samples_per_s"])


def eigen_measure(bench_dir, batch, threads, samples, data):
    """The plain-Eigen loop's samples/s over the same images."""
    out = subprocess.run(
        [os.path.join(bench_dir, "eigen_reference"), "--epochs", "1", "--samples", str(samples),
         "--batch", str(batch), "--threads", str(threads)],
        env=dict(os.environ, DESCENT_FASHION_MNIST=data), capture_output=True, text=True, check=True)
    return float(key_values(out.stdout)["samples_per_second"])


def bm_step_measure(bench_dir, batch, threads, seconds, data):
    """BM_step's samples/s, and its GFLOP/s over BM_roof's."""
    out = subprocess.run(
        [os.path.join(bench_dir, "bench_training"),
         f"--benchmark_filter=^BM_(step|roof)/batch:{batch}/threads:{threads}/",
         f"--benchmark_min_time={seconds}", "--benchmark_format=json"],
        env=dict(os.environ, DESCENT_FASHION_MNIST=data), capture_output=True, text=True, check=True)
    results = {b["name"].split("/")[0]: b for b in json.loads(out.stdout)["benchmarks"]}
    step, roof = results["BM_step"], results["BM_roof"]
    return step["samples/s"], step["GFLOP/s"] / roof["GFLOP/s"]


def parity(bench_dir, data, threads, coretype, args):
    log(f"parity: {args.epochs} epochs, batch {args.batch}, lr {args.lr}, {threads} thread(s)")
    out = subprocess.run(
        [os.path.join(bench_dir, "train_fashion_mnist"), "--epochs", str(args.epochs), "--batch", str(args.batch),
         "--lr", str(args.lr), "--threads", str(threads)],
        env=dict(os.environ, DESCENT_FASHION_MNIST=data), capture_output=True, text=True, check=True)
    d = key_values(out.stdout)
    out = subprocess.run(
        [PYTHON, WORKER, "parity", "--threads", str(threads), "--data", data, "--epochs", str(args.epochs),
         "--batch", str(args.batch), "--lr", str(args.lr)],
        env=variant_env(coretype, threads), capture_output=True, text=True, check=True)
    p = json.loads(out.stdout)
    print(f"parity epochs={args.epochs} batch={args.batch} lr={args.lr} threads={threads} "
          f"descent_accuracy={float(d['test_accuracy']):.4f} pytorch_accuracy={p['test_accuracy']:.4f} "
          f"descent_seconds={float(d['train_seconds']):.2f} pytorch_seconds={p['seconds']:.2f} "
          f"descent_peak_rss_mb={d['peak_rss_mb']} peak_over_data_and_model={d['peak_over_data_and_model']}",
          flush=True)


def samples_for(batch, args):
    """The images fit and eigen_reference train on per run: about a second's work or more."""
    if args.samples:
        return args.samples
    if args.quick:
        return 1000 if batch == 1 else 6000
    return 10000 if batch == 1 else 60000


def pause():
    # OpenBLAS's and OpenMP's threads spin for a while after their last call: let them fall
    # asleep before the next run, whoever's it is.
    time.sleep(0.3)


def headline(bench_dir, args, batches, thread_counts):
    print(f"# {args.reps} alternating round(s), medians; fit and eigen: one epoch of "
          + ", ".join(f"{samples_for(b, args)} images at batch {b}" for b in batches)
          + f"; bm_step and pytorch: {args.seconds} s each", flush=True)
    # Every PyTorch setting at every thread count, so that its best at most T threads is known.
    workers = {(name, t): Worker(coretype, t, args.data) for name, coretype in VARIANTS.items()
               for t in thread_counts}
    fit, eigen, step, roof = {}, {}, {}, {}
    torch = {key + (b,): [] for key in workers for b in batches}
    try:
        for rep in range(args.reps):
            for b in batches:
                for t in thread_counts:
                    log(f"round {rep + 1}/{args.reps}: batch {b}, {t} thread(s)")
                    n = samples_for(b, args)
                    fit.setdefault((b, t), []).append(
                        fit_measure(bench_dir, b, t, n, args.data, lr=learning_rate(b)))
                    eigen.setdefault((b, t), []).append(eigen_measure(bench_dir, b, t, n, args.data))
                    pause()
                    x, f = bm_step_measure(bench_dir, b, t, args.seconds, args.data)
                    step.setdefault((b, t), []).append(x)
                    roof.setdefault((b, t), []).append(f)
                    pause()
                    for name in VARIANTS:
                        torch[(name, t, b)].append(workers[(name, t)].measure(b, args.seconds))
                        pause()
    finally:
        for w in workers.values():
            w.close()
    for b in batches:
        for t in thread_counts:
            x = statistics.median(fit[(b, t)])
            e = statistics.median(eigen[(b, t)])
            st = statistics.median(step[(b, t)])
            medians = {(name, u): statistics.median(torch[(name, u, b)])
                       for name in VARIANTS for u in thread_counts if u <= t}
            (best_name, best_threads), best = max(medians.items(), key=lambda item: item[1])
            shipped = medians[("as_shipped", t)]
            print(f"batch={b} threads={t} fit={x:.0f} eigen={e:.0f} bm_step={st:.0f} pytorch={best:.0f} "
                  f"fit/eigen={x / e:.2f} fit/bm_step={x / st:.2f} fit/pytorch={x / best:.2f} "
                  f"roof_fraction={statistics.median(roof[(b, t)]):.2f} pytorch_as_shipped={shipped:.0f} "
                  f"pytorch_best={best_name}/{best_threads}t", flush=True)


MODE_BATCHES = (1, 128)  # --optimizers and --network: per-sample and minibatch, on 1 thread
OPTIMIZERS = ("sgd", "momentum", "adam")


def optimizers(bench_dir, args):
    print(f"# optimizers: fit, 1 thread, {args.reps} alternating round(s), medians; learning rates: "
          "train_fashion_mnist's defaults", flush=True)
    speed = {}
    for rep in range(args.reps):
        for b in MODE_BATCHES:
            log(f"round {rep + 1}/{args.reps}: optimizers at batch {b}")
            for name in OPTIMIZERS:
                speed.setdefault((b, name), []).append(
                    fit_measure(bench_dir, b, 1, samples_for(b, args), args.data, optimizer=name))
    for b in MODE_BATCHES:
        m = {name: statistics.median(speed[(b, name)]) for name in OPTIMIZERS}
        print(f"optimizers batch={b} threads=1 " + " ".join(f"{name}={m[name]:.0f}" for name in OPTIMIZERS) + " "
              + " ".join(f"{name}/sgd={m[name] / m['sgd']:.2f}" for name in OPTIMIZERS if name != "sgd"),
              flush=True)


def network(bench_dir, args):
    print(f"# network: fit with SGD, 1 thread, {args.reps} alternating round(s), medians; the Mlp and the "
          "Network train the same θ", flush=True)
    speed = {}
    for rep in range(args.reps):
        for b in MODE_BATCHES:
            log(f"round {rep + 1}/{args.reps}: Mlp and Network at batch {b}")
            for model in ("mlp", "network"):
                speed.setdefault((b, model), []).append(
                    fit_measure(bench_dir, b, 1, samples_for(b, args), args.data, network=model == "network",
                                lr=learning_rate(b)))
    for b in MODE_BATCHES:
        mlp, net = statistics.median(speed[(b, "mlp")]), statistics.median(speed[(b, "network")])
        print(f"network batch={b} threads=1 mlp={mlp:.0f} network={net:.0f} network/mlp={net / mlp:.2f}",
              flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short run per setting (a smoke test, not a result)")
    parser.add_argument("--reps", type=int, default=3,
                        help="alternating rounds; the medians are printed (default 3)")
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds of bm_step and PyTorch (default 1)")
    parser.add_argument("--samples", type=int, default=0,
                        help="images fit and eigen_reference train on per run (default 10000 at batch 1, "
                             "all 60000 otherwise)")
    parser.add_argument("--batches", default="1,128,256")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--optimizers", action="store_true",
                        help="only fit with sgd, momentum and adam, batch 1 and 128, 1 thread")
    parser.add_argument("--network", action="store_true",
                        help="only fit on the Mlp against fit on the Network, batch 1 and 128, 1 thread")
    parser.add_argument("--parity", action="store_true", help="also compare test accuracy after training")
    parser.add_argument("--parity-only", action="store_true", help="only the accuracy comparison")
    parser.add_argument("--epochs", type=int, default=5, help="of --parity")
    parser.add_argument("--batch", type=int, default=128, help="of --parity")
    parser.add_argument("--lr", type=float, default=0.1, help="of --parity")
    parser.add_argument("--data", default=os.environ.get("DESCENT_FASHION_MNIST", "/usr/share/datasets/fashion-mnist"))
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build-compare"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-install", action="store_true", help="never apt-get install")
    args = parser.parse_args()
    if args.quick:
        args.reps, args.seconds, args.epochs = 1, 0.3, 1
    batches = [int(b) for b in args.batches.split(",")]
    thread_counts = sorted({int(t) for t in args.threads.split(",")})
    alone = args.optimizers or args.network
    compare = not alone and not args.parity_only
    with_torch = compare or args.parity or args.parity_only

    if shutil.which("cmake") is None:
        sys.exit("cmake is needed to build descent's benchmarks")
    targets = ["train_fashion_mnist"] + (["eigen_reference", "bench_training"] if compare else [])
    bench_dir = build(args.build_dir, args.jobs, targets)
    if args.optimizers:
        optimizers(bench_dir, args)
    if args.network:
        network(bench_dir, args)
    if with_torch:
        ensure_torch(not args.no_install)
        for name, coretype in VARIANTS.items():
            config = torch_config(coretype)
            blas = ", ".join(os.path.basename(lib) for lib in config["blas_libraries"]) if config else "?"
            print(f"# pytorch {config['torch'] if config else '?'} {name}: OPENBLAS_CORETYPE={coretype or 'unset'} "
                  f"BLAS={blas} OpenBLAS_kernels={config.get('openblas_core') if config else '?'}", flush=True)
    if compare:
        headline(bench_dir, args, batches, thread_counts)
    if args.parity or args.parity_only:
        parity(bench_dir, args.data, 1, "SkylakeX", args)


if __name__ == "__main__":
    main()
