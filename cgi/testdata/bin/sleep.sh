#!/bin/sh
# Writes its process group id (its pid) to the file QUERY_STRING names,
# starts a child in the background, and sleeps past any timeout.
sleep 1000 &
echo $$ > "$QUERY_STRING.tmp" && mv "$QUERY_STRING.tmp" "$QUERY_STRING"
sleep 1000
