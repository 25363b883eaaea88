#!/usr/bin/env python3
# Writes output without end until killed (the client goes away).
import sys, time
sys.stdout.write("Content-Type: text/plain\n\n")
sys.stdout.flush()
line = ("z" * 1023 + "\n").encode()
try:
    while True:
        sys.stdout.buffer.write(line * 64)
        sys.stdout.buffer.flush()
except BrokenPipeError:
    pass
