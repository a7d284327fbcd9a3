# Shared by scripts/demo and scripts/test: make .venv from the lock file on a fresh
# Debian/Ubuntu machine. Usage: source scripts/_bootstrap.sh <requirements file> [apt packages...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
lock=$1; shift
apt_packages=("$@")
python3 -c 'import sys; assert sys.version_info >= (3, 11), "Clearroom needs Python 3.11 or newer"'
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_packages+=(python3-venv)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
# (some machines' pip.conf names local indexes that do not exist; pip warns once per package)
quiet_pip() { .venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; }
quiet_pip -r "$lock"
quiet_pip --no-deps -e .
