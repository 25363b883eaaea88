#!/bin/sh
printf 'Location: /cgi-bin/env.sh/redirected?from=local\n\n'
