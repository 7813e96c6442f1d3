#!/usr/bin/env bash
# Make the virtualenv when `python3 -m venv` failed: on Debian/Ubuntu that is python3-venv
# missing (ensurepip is packaged apart); installed with apt-get when run as root.
set -u
python=${1:-python3}
venv=${2:-.venv}
rm -rf "$venv"
version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")') \
  || { echo "venv: $python does not run; install Python 3.11 or newer" >&2; exit 1; }
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ -z "${LIENTHONG_NO_APT:-}" ]; then
  echo "venv: installing python$version-venv with apt-get (set LIENTHONG_NO_APT=1 to refuse)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$version-venv" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$version-venv" >/dev/null; } \
    || { echo "venv: could not install python$version-venv" >&2; exit 1; }
  exec "$python" -m venv "$venv"
fi
echo "venv: $python -m venv failed; install python$version-venv (sudo apt-get install python$version-venv) and run make again" >&2
exit 1
