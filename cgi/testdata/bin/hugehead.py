#!/usr/bin/env python3
# Writes a head longer than the limit.
import sys
sys.stdout.write("Content-Type: text/plain\n")
for i in range(3000):
    sys.stdout.write("X-Filler-%d: %s\n" % (i, "f" * 40))
sys.stdout.write("\nbody\n")
