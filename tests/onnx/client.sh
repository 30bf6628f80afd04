#!/bin/sh
# Runs one of the outside clients of descent's ONNX files for CTest (tests/onnx/CMakeLists.txt),
# with exit status 77 (CTest: skipped) when the client itself is not on this machine.
#
#   client.sh npm SOURCE_DIR NPM_DIR        npm ci --ignore-scripts of package-lock.json into NPM_DIR
#   client.sh onnxruntime NPM_DIR CASES     run_onnxruntime.cjs on CASES/cases.json
#   client.sh checker PYTHON DIR...         check_models.py (Debian's python3-onnx)
#   client.sh torch PYTHON OUT DATA         torch_export.py (Debian's python3-torch)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
what=$1
shift
case $what in
npm)
  source=$1 dir=$2
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "node or npm is missing (Debian: nodejs npm): skipped"
    exit 77
  fi
  mkdir -p "$dir"
  if cmp -s "$source/package-lock.json" "$dir/package-lock.json" &&
    [ -f "$dir/node_modules/onnxruntime-node/package.json" ]; then
    echo "onnxruntime-node: installed already from this package-lock.json"
    exit 0
  fi
  cp "$source/package.json" "$source/package-lock.json" "$dir/"
  cd "$dir"
  # --ignore-scripts: onnxruntime-node's install script fetches GPU libraries from outside the
  # npm registry; the CPU library it needs is inside the package.
  npm ci --ignore-scripts --no-audit --no-fund
  ;;
onnxruntime)
  if ! command -v node >/dev/null 2>&1; then
    echo "node is missing (Debian: nodejs): skipped"
    exit 77
  fi
  exec node "$here/run_onnxruntime.cjs" "$1/node_modules" "$2"
  ;;
checker | torch)
  python=$1
  shift
  # No models of an earlier run may stand in for this one's: the import test skips without them.
  if [ "$what" = torch ]; then rm -rf "$1"; fi
  if ! [ -x "$python" ]; then
    echo "python3 is missing: skipped"
    exit 77
  fi
  if [ "$what" = checker ]; then exec "$python" "$here/check_models.py" "$@"; fi
  exec "$python" "$here/torch_export.py" "$@"
  ;;
*)
  echo "client.sh: unknown client $what" >&2
  exit 2
  ;;
esac
