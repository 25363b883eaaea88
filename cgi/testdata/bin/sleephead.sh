#!/bin/sh
# Sends its head, then sleeps past any timeout.
printf 'Content-Type: text/plain\n\nstarted\n'
sleep 1000
