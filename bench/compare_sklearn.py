"""descent's examples/train_csv against scikit-learn on the four data sets Debian's
python3-sklearn ships: iris, wine, breast cancer (binary) and diabetes (regression).

For each data set and seed 1..5 this script makes the split (25% test, stratified by class for
classification, scikit-learn's train_test_split with random_state=seed), writes the two parts
to CSV files and hands them to train_csv (--test-file), so that both libraries train and test
on exactly the same samples. scikit-learn runs MLPClassifier / MLPRegressor with 64 hidden
ReLU units on standardised inputs (StandardScaler fitted on the training part), Adam and its
other defaults (max_iter raised to 2000), and LinearRegression on diabetes. Prints the mean
test metric over the seeds: accuracy for classification, R² for regression.

    /usr/bin/python3 bench/compare_sklearn.py --example build/examples/train_csv
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# name, loader, task, train_csv's extra flags (the same as its tests)
SETS = [
    ("iris", datasets.load_iris, "classification", []),
    ("wine", datasets.load_wine, "classification", []),
    ("breast cancer (1 sigmoid output)", datasets.load_breast_cancer, "binary", []),
    ("diabetes", lambda: datasets.load_diabetes(scaled=False), "regression", ["--lambda", "0.01"]),
]


def write(path, x, y, labels):
    fmt = ["%.17g"] * x.shape[1] + (["%d"] if labels else ["%.17g"])
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", fmt=fmt)


def descent_metric(example, train, test, task, flags, seed):
    out = subprocess.run([example, train, "--test-file", test, "--task", task, "--seed", str(seed)] + flags,
                         check=True, capture_output=True, text=True).stdout
    key = "test_r2" if task == "regression" else "test_accuracy"
    return float(re.search(key + r"=([-0-9.]+)", out).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--example", default="build/examples/train_csv")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    if not os.access(args.example, os.X_OK):
        sys.exit(f"{args.example} not found: cmake --build build --target train_csv")
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    seeds = range(1, args.seeds + 1)
    print(f"{'data set':34} {'metric':9} {'descent':>8} {'sklearn MLP':>12} {'linear':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, load, task, flags in SETS:
            data = load()
            x, y = data.data, data.target
            regression = task == "regression"
            ours, mlp, linear = [], [], []
            for seed in seeds:
                xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=seed,
                                                      stratify=None if regression else y)
                train, test = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
                write(train, xtr, ytr, not regression)
                write(test, xte, yte, not regression)
                ours.append(descent_metric(args.example, train, test, task, flags, seed))
                if regression:
                    model = make_pipeline(StandardScaler(), MLPRegressor((64,), max_iter=2000, random_state=seed))
                    mlp.append(r2_score(yte, model.fit(xtr, ytr).predict(xte)))
                    linear.append(r2_score(yte, LinearRegression().fit(xtr, ytr).predict(xte)))
                else:
                    model = make_pipeline(StandardScaler(), MLPClassifier((64,), max_iter=2000, random_state=seed))
                    mlp.append(accuracy_score(yte, model.fit(xtr, ytr).predict(xte)))
            lin = f"{np.mean(linear):8.4f}" if linear else f"{'':8}"
            print(f"{name:34} {'R²' if regression else 'accuracy':9} {np.mean(ours):8.4f} {np.mean(mlp):12.4f} {lin}",
                  flush=True)


if __name__ == "__main__":
    main()
