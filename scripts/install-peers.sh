#!/usr/bin/env bash
# Installs the real third-party peers the interop tests talk to (Debian
# packages). Idempotent: installs only what is missing. Needs root, which the
# project's machines and CI have.
set -euo pipefail
# chromium: the review console's browser tests drive it headless through playwright-core (no browser download).
pkgs=(prosody lua-unbound ejabberd kamailio kamailio-presence-modules kamailio-tls-modules sip-tester openssl chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "peers: all installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "peers: missing ${missing[*]} and not root; install them with apt-get" >&2
  exit 1
fi
echo "peers: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packages start their daemons on the default ports; the tests run their
# own instances on loopback addresses, so the system services are stopped.
for svc in prosody ejabberd kamailio; do
  if command -v service >/dev/null && service "$svc" status >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
echo "peers: done"
