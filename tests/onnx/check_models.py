"""Debian's onnx checker (python3-onnx) on every model descent exported: full_check also runs
ONNX's shape inference, which checks each node's types and shapes against its operator schema.

    /usr/bin/python3 check_models.py DIR...

Exit status: 0 every model passes, 1 one does not, 77 the onnx module is missing (skipped).
"""
import glob
import os
import sys

try:
    import onnx
except ImportError as e:
    print(f"the onnx module is missing ({e}): skipped")
    sys.exit(77)

files = sorted(f for d in sys.argv[1:] for f in glob.glob(os.path.join(d, "descent_*.onnx")))
if not files:
    print(f"no descent_*.onnx in {sys.argv[1:]}")
    sys.exit(1)
failed = 0
for f in files:
    try:
        model = onnx.load(f)
        onnx.checker.check_model(model, full_check=True)
        ops = [n.op_type for n in model.graph.node]
        print(f"{os.path.basename(f)}: valid, IR {model.ir_version}, opset {model.opset_import[0].version}, {' '.join(ops)}")
    except Exception as e:  # the checker's ValidationError, or a load failure
        print(f"FAILED: {f}: {e}")
        failed += 1
print(f"onnx {onnx.__version__} checker: {len(files)} models, {failed} failed")
sys.exit(1 if failed else 0)
