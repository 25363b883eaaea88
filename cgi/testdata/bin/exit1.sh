#!/bin/sh
printf 'Content-Type: text/plain\n\npartial\n'
exit 1
