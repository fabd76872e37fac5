"""Sluice client helpers for Python host apps (Django, Roundup, ...): standard library only.

    imgproxy_url(key, salt, ["rs:fill:300:200"], "local:///photos/a.jpg", extension="webp")
        -> "/img/<signature>/rs:fill:300:200/plain/local:///photos/a.jpg@webp"
    create_share_link("http://127.0.0.1:8080", token, {"store": "docs", "key": "a.pdf", "expiresIn": 3600})
    revoke_share_link("http://127.0.0.1:8080", token, link_id)

Signatures are imgproxy's: base64url(HMAC-SHA256(key, salt + path)) truncated to
signature_size bytes, so existing imgproxy URL builders pointed at Sluice's /img work too.
"""
import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request


def sign_imgproxy_path(path, key_hex, salt_hex, signature_size=32):
    """Returns "/<signature><path>" for a path such as "/rs:fit:300:0/plain/local:///a.jpg"."""
    if not path.startswith("/"):
        raise ValueError('path must start with "/"')
    digest = hmac.new(bytes.fromhex(key_hex), bytes.fromhex(salt_hex) + path.encode("utf-8"), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(digest[:signature_size]).rstrip(b"=").decode("ascii")
    return "/" + signature + path


def plain_source(source):
    """Percent-encodes a source for the "plain/" form, keeping "/" and ":" readable."""
    return urllib.parse.quote(source, safe="/:")


def imgproxy_url(key_hex, salt_hex, options, source, extension=None, base="/img", signature_size=32):
    path = "/" + "/".join(list(options) + ["plain", plain_source(source)])
    if extension:
        path += "@" + extension
    return base.rstrip("/") + sign_imgproxy_path(path, key_hex, salt_hex, signature_size)


def _call(method, url, token, body=None):
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def create_share_link(sluice_base, token, request, prefix="/files"):
    """Mints a share link with the caller's own token; returns {"id", "token", "url"?, "expiresAt"}."""
    status, body = _call("POST", sluice_base + prefix + "/_share", token, request)
    if status != 201:
        raise RuntimeError("share link refused: %d %s" % (status, body.decode("utf-8", "replace")))
    return json.loads(body)


def revoke_share_link(sluice_base, token, link_id, prefix="/files"):
    """Revokes a link (its creator or an admin); True when revoked."""
    status, _ = _call("DELETE", sluice_base + prefix + "/_share/links/" + urllib.parse.quote(link_id, safe=""), token)
    return status == 204


if __name__ == "__main__":
    import sys

    # python3 sluice_client.py KEY_HEX SALT_HEX SOURCE [OPTION ...]  → prints a signed /img URL
    if len(sys.argv) < 4:
        sys.exit("usage: sluice_client.py KEY_HEX SALT_HEX SOURCE [OPTION ...]")
    print(imgproxy_url(sys.argv[1], sys.argv[2], sys.argv[4:], sys.argv[3]))
