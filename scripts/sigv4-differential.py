#!/usr/bin/python3
"""Pre-signs tricky S3 requests with botocore, an independent SigV4 signer, and prints one
vector per line for core/tests/test_s3.c, which signs the same inputs and compares URLs:

    python3 scripts/sigv4-differential.py > /tmp/v.tsv
    ITCLOUD_SIGV4_VECTORS=/tmp/v.tsv build/tests/test_s3

Columns (tab-separated): name, method, hex(key), query, headers, expires, now_unix,
botocore's URL, hex(botocore's canonical request). query and headers are
"hex(name)=hex(value)" joined by '&', or "-". Lines starting with '#' are comments.
Debian's python3-botocore is used (installed with apt-get when missing); run under another
interpreter, the script re-executes itself with /usr/bin/python3.
"""
import os
import subprocess
import sys

DEBIAN_PYTHON = "/usr/bin/python3"


def ensure_botocore():
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and \
            os.path.exists(DEBIAN_PYTHON) and not os.environ.get("ITCLOUD_SIGV4_REEXEC"):
        os.environ["ITCLOUD_SIGV4_REEXEC"] = "1"
        os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
    try:
        import botocore  # noqa: F401
    except ImportError:
        if os.geteuid() != 0:
            sys.exit("python3-botocore is missing: apt-get install python3-botocore")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends",
                        "python3-botocore"], check=True, env=env,
                       stdout=sys.stderr, stderr=sys.stderr)


ensure_botocore()

import botocore  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.session  # noqa: E402
from botocore.config import Config  # noqa: E402
from urllib.parse import unquote_to_bytes, urlsplit  # noqa: E402

ENDPOINT = "http://127.0.0.1:9000"
BUCKET = "itcloud-test"

KEYS = [
    ("plain", "photos/2024/img_0001.jpg"),
    ("space", "a b.jpg"),
    ("double-space", "a  b"),
    ("plus", "a+b.jpg"),
    ("percent", "100%.jpg"),
    ("encoded-looking", "a%2Fb%20c"),
    ("unicode", "\u00fcn\u00efc\u00f6d\u00e9/\u30d5\u30a1\u30a4\u30eb.jpg"),
    ("emoji", "emoji-\U0001F600.png"),
    ("double-slash", "a//b"),
    ("leading-slash", "/lead"),
    ("leading-double-slash", "//lead"),
    ("trailing-slash", "dir/"),
    ("dot-segment", "a/./b"),
    ("dotdot-segment", "a/../b"),
    ("dotdot", ".."),
    ("dot", "."),
    ("tilde", "~user/file~"),
    ("reserved", "!*'();:@&=$,?#[]"),
    ("quote-and-angle", "\"<x>\""),
    ("backslash", "a\\b"),
    ("tab", "a\tb"),
    ("long", "k/" + "x" * 1000),
]


def hexs(text):
    return text.encode("utf-8").hex() if isinstance(text, str) else text.hex()


def pairs(items):
    return "&".join("%s=%s" % (hexs(k), hexs(v)) for k, v in items) or "-"


def main():
    session = botocore.session.get_session()
    client = session.create_client(
        "s3", region_name="us-east-1", endpoint_url=ENDPOINT,
        aws_access_key_id="test:tester", aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))

    captured = {}

    def before_sign(request, **kwargs):
        captured["headers"] = dict(request.headers.items())

    client.meta.events.register("before-sign.s3", before_sign)

    original = botocore.auth.SigV4Auth.canonical_request

    def canonical_request(self, request):
        text = original(self, request)
        captured["creq"] = text
        return text

    botocore.auth.SigV4Auth.canonical_request = canonical_request

    cases = []
    for name, key in KEYS:
        cases.append(("get-" + name, "get_object", "GET", {"Key": key}))
    cases += [
        ("get-disposition", "get_object", "GET", {
            "Key": "a b.jpg",
            "ResponseContentDisposition":
                "attachment; filename=\"a b.jpg\"; filename*=UTF-8''a%20b%E2%82%AC.jpg",
            "ResponseContentType": "image/jpeg"}),
        ("get-disposition-unicode", "get_object", "GET", {
            "Key": "k", "ResponseContentDisposition": "inline; filename=\"\u20ac+~.png\""}),
        ("head", "head_object", "HEAD", {"Key": "x y"}),
        ("delete", "delete_object", "DELETE", {"Key": "x+y"}),
        ("put-typed", "put_object", "PUT", {
            "Key": "staging/u1/f00d.jpg", "ContentType": "image/jpeg", "ContentLength": 1234}),
        ("put-type-params", "put_object", "PUT", {
            "Key": "s/a b", "ContentType": "text/plain; charset=utf-8", "ContentLength": 0}),
        ("upload-part", "upload_part", "PUT", {
            "Key": "staging/u1/big.mp4", "PartNumber": 2,
            "UploadId": "2~abc/DEF+ghi=&x y%", "ContentLength": 5242880}),
        ("upload-part-10000", "upload_part", "PUT", {
            "Key": "k", "PartNumber": 10000, "UploadId": "u"}),
    ]

    print("# botocore %s, python %s" % (botocore.__version__, sys.version.split()[0]))
    for expires in (1, 900, 604800):
        cases.append(("expires-%d" % expires, "get_object", "GET", {"Key": "e"}, expires))

    for case in cases:
        name, op, method, params = case[:4]
        expires = case[4] if len(case) > 4 else 300
        captured.clear()
        url = client.generate_presigned_url(op, Params=dict(params, Bucket=BUCKET),
                                            ExpiresIn=expires)
        parts = urlsplit(url)
        query = []
        auth = {}
        for item in parts.query.split("&"):
            k, _, v = item.partition("=")
            k = unquote_to_bytes(k).decode("utf-8")
            v = unquote_to_bytes(v).decode("utf-8")
            if k.startswith("X-Amz-"):
                auth[k] = v
            else:
                query.append((k, v))
        signed = [h for h in auth["X-Amz-SignedHeaders"].split(";") if h != "host"]
        lower = {k.lower(): v for k, v in captured.get("headers", {}).items()}
        headers = []
        for h in signed:
            value = lower[h]
            headers.append((h, value.decode() if isinstance(value, bytes) else str(value)))
        import calendar
        import time
        now = calendar.timegm(time.strptime(auth["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
        print("\t".join([name, method, hexs(params["Key"]), pairs(query), pairs(headers),
                         str(expires), str(now), url, hexs(captured.get("creq", ""))]))
        # The canonical request, for people reading the output.
        for line in captured.get("creq", "").split("\n"):
            print("#   " + line)


if __name__ == "__main__":
    main()
