#!/usr/bin/env bash
# Installs the Debian packages Sluice needs when they are missing, and says what it does.
#   bootstrap.sh            runtime: nginx
#   bootstrap.sh --test     runtime + test stack: python3-swift, memcached (real S3 for tests),
#                           redis-server (shared state tests), chromium (browser tests),
#                           docker-compose (validates docker-compose.yml offline)
#   bootstrap.sh --bench    runtime + test stack + benchmark peers: nginx's image_filter module,
#                           libvips-tools (vipsthumbnail), wrk, desktop-base (a real image corpus)
# Safe to run repeatedly: it only calls apt-get when something is actually missing.
set -euo pipefail

want_test=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_test=1; want_bench=1 ;;
    *) echo "bootstrap: unknown option $arg (use --test or --bench)" >&2; exit 2 ;;
  esac
done

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ "$want_test" = 1 ]; then
  /usr/bin/python3 -c 'import swift' >/dev/null 2>&1 || missing+=(python3-swift)
  command -v memcached >/dev/null 2>&1 || [ -x /usr/bin/memcached ] || missing+=(memcached)
  command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
fi
if [ "$want_bench" = 1 ]; then
  [ -f /usr/lib/nginx/modules/ngx_http_image_filter_module.so ] || missing+=(libnginx-mod-http-image-filter)
  command -v vipsthumbnail >/dev/null 2>&1 || missing+=(libvips-tools)
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  [ -d /usr/share/desktop-base ] || missing+=(desktop-base)
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
