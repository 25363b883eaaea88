#!/bin/sh
# Promises more bytes than it sends.
printf 'Content-Type: text/plain\nContent-Length: 100\n\nonly this\n'
