#!/usr/bin/env bash
# Optional real data from Debian: Fashion-MNIST (package dataset-fashion-mnist). Installs it
# when this user may (root, or password-less sudo) and says so otherwise; tests that need it
# skip cleanly where it is absent, so this never fails the build.
set -u
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"
else echo "note: not root and no password-less sudo: Fashion-MNIST tests will skip (apt-get install dataset-fashion-mnist)"; exit 0
fi
if ! command -v apt-get >/dev/null; then echo "note: no apt-get: Fashion-MNIST tests will skip"; exit 0; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
  || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; } \
  || echo "note: could not install dataset-fashion-mnist: Fashion-MNIST tests will skip"
exit 0
