#!/usr/bin/env bash
# Installs the Debian packages Command Hall needs (RTSP test server, Xvfb and Qt's xcb
# libraries, a CJK font, Chromium for the browser tests, PostgreSQL for the store tests,
# coturn for TURN, Janus (janus, janus-tools) for meetings, iptables and iproute2 for the network-namespace tests).
# Idempotent: does nothing when everything is already there.
set -euo pipefail
PKGS=(
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-tools
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
  gstreamer1.0-x
  xvfb xauth libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0
  libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0 libxcb-render-util0 libxcb-shape0
  libxcb-xfixes0 libxcb-xkb1 libxcb-sync1 libxcb-shm0 libfontconfig1 libdbus-1-3
  fonts-wqy-microhei chromium postgresql poppler-utils coturn iptables iproute2 janus janus-tools
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
