#!/bin/sh
# Writes its head in small pieces, a little apart.
printf 'Content-Type: text/plain\r\n'
sleep 0.02
printf 'X-Long: aaaaaaaaaaaaaaaa'
sleep 0.02
printf 'bbbb\r'
sleep 0.02
printf '\n\r'
sleep 0.02
printf '\nok\n'
