#!/usr/bin/env bash
# Debian packages the tests use, installed when missing: xmlsec1 (an independent XML-DSig
# implementation that checks the hub's receipts), chromium + chromium-driver (the dashboard's
# browser tests), prometheus (promtool checks the alert rules) and Java 17 with javac (the
# national SDK's tests compile a small driver against ../shared/vxp-sdk and run it).
set -euo pipefail
need=()
command -v xmlsec1 >/dev/null || need+=(xmlsec1)
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
command -v promtool >/dev/null || need+=(prometheus)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v javac >/dev/null || need+=(openjdk-17-jdk-headless)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends "${need[@]}" >/dev/null \
  || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }
