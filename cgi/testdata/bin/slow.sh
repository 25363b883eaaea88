#!/bin/sh
# Streams five lines, a little apart.
printf 'Content-Type: text/plain\n\n'
for i in 1 2 3 4 5; do
	echo "line $i"
	sleep 0.05
done
