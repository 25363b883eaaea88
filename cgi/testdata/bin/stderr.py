#!/usr/bin/env python3
# Writes many lines to stderr, then answers "ok".
import sys
for i in range(2000):
    sys.stderr.write("stderr line %d %s\n" % (i, "x" * 50))
sys.stderr.write("no newline at the end" + "y" * 3000)
sys.stderr.flush()
sys.stdout.write("Content-Type: text/plain\n\nok\n")
