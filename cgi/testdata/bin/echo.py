#!/usr/bin/env python3
# Copies the request body (CONTENT_LENGTH bytes of stdin) to the response,
# without a Content-Length: the server frames it.
import os, sys
n = int(os.environ.get("CONTENT_LENGTH") or "0")
out = sys.stdout.buffer
out.write(b"Content-Type: application/octet-stream\r\n\r\n")
inp = sys.stdin.buffer
while n > 0:
    b = inp.read(min(n, 1 << 16))
    if not b:
        break
    out.write(b)
    n -= len(b)
out.flush()
