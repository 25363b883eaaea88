#!/usr/bin/env python3
# Answers with a body of the size the query names, with a Content-Length.
import os, sys
n = int(os.environ.get("QUERY_STRING") or "0")
out = sys.stdout.buffer
out.write(b"Content-Type: application/octet-stream\nContent-Length: %d\n\n" % n)
block = bytes(range(256)) * 256
while n > 0:
    k = min(n, len(block))
    out.write(block[:k])
    n -= k
out.flush()
