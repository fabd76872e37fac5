#!/bin/sh
# Prints "/<signature><path>" for an imgproxy path with openssl (and perl-base, on every Debian).
#   sign-imgproxy.sh KEY_HEX SALT_HEX '/rs:fill:300:200/plain/local:///photos/a.jpg@webp'
# Prefix the output with your Sluice /img base: https://files.example.com/img/<signature>/...
set -eu
[ $# -eq 3 ] || { echo "usage: $0 KEY_HEX SALT_HEX PATH" >&2; exit 2; }
key=$1 salt=$2 path=$3
signature=$( { perl -e 'print pack("H*", $ARGV[0])' "$salt"; printf '%s' "$path"; } \
  | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary \
  | openssl base64 -A | tr '+/' '-_' | tr -d '=')
printf '/%s%s\n' "$signature" "$path"
