#!/usr/bin/env bash
# Installs the Debian packages Sluice needs when they are missing, and says what it does.
#   bootstrap.sh            runtime: nginx
#   bootstrap.sh --test     runtime + test stack: python3-swift, memcached (real S3 for tests),
#                           redis-server (shared state tests)
# Safe to run repeatedly: it only calls apt-get when something is actually missing.
set -euo pipefail

want_test=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    *) echo "bootstrap: unknown option $arg (use --test)" >&2; exit 2 ;;
  esac
done

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ "$want_test" = 1 ]; then
  /usr/bin/python3 -c 'import swift' >/dev/null 2>&1 || missing+=(python3-swift)
  command -v memcached >/dev/null 2>&1 || [ -x /usr/bin/memcached ] || missing+=(memcached)
  command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "bootstrap: installing missing Debian packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo); else
    echo "bootstrap: need root (or sudo) to run apt-get install ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
# --no-install-recommends keeps python3-swift at ~40 packages instead of ~140.
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: installed ${missing[*]}"
