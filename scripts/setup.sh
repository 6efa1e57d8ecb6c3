#!/usr/bin/env bash
# Set up nlp_balance on a fresh machine: virtual environment, torch (CPU wheel if none is present),
# the package with its dev extras, WordNet data and the offline demo model. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
# Which torch to install when the environment has none. The library itself does not pin torch;
# this default is the CPU wheel that this kind of machine serves. Override for a GPU machine,
# e.g. TORCH_SPEC="torch" or a CUDA build of your choice.
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
EXTRAS="${EXTRAS:-dev}"

if [ ! -x "$VENV/bin/python" ]; then
  echo ">> creating virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check -q)

if ! "$PY" -c "import torch" 2>/dev/null; then
  echo ">> installing $TORCH_SPEC"
  "${PIP[@]}" install "$TORCH_SPEC"
fi
# Keep the torch we have: other packages must not pull a different (e.g. multi-GB CUDA) build.
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
"$PY" -c "import torch; print('torch==' + torch.__version__.split('+')[0])" > "$constraints"

echo ">> installing nlp_balance[$EXTRAS] (editable)"
"${PIP[@]}" install -c "$constraints" -e ".[$EXTRAS]"

# WordNet: NLTK's downloader needs the network; Debian ships the same WordNet 3.0 database.
if ! "$VENV/bin/nlp-balance" wordnet >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo ">> installing WordNet 3.0 from Debian (wordnet-base, wordnet-sense-index)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wordnet-base wordnet-sense-index >/dev/null
  fi
fi
"$VENV/bin/nlp-balance" wordnet
touch "$VENV/.nlp_balance-setup"
echo ">> setup complete"
