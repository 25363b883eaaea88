#!/bin/sh
printf 'HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\nX-Nph: 1\r\n\r\nraw body\n'
