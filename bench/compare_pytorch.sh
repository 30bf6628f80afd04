#!/bin/sh
# descent's fit against a plain Eigen loop, descent's BM_step and PyTorch on the same
# Fashion-MNIST workload, in one session. Builds descent's benchmarks if needed, installs
# Debian's python3-torch if missing, and prints one line per batch size and thread count
# (bench/compare_pytorch.py says more).
#   bench/compare_pytorch.sh                # the full comparison, several minutes
#   bench/compare_pytorch.sh --quick        # a smoke run (of any mode)
#   bench/compare_pytorch.sh --optimizers   # only fit with sgd, momentum, adam
#   bench/compare_pytorch.sh --network      # only fit on the Mlp against the Network
#   bench/compare_pytorch.sh --parity       # also the test accuracy after 5 epochs in both
# PyTorch is Debian's, for /usr/bin/python3 only: not the first python3 on PATH.
exec /usr/bin/python3 "$(dirname "$0")/compare_pytorch.py" "$@"
