#!/bin/sh
printf 'Location: /cgi-bin/loop.sh\n\n'
