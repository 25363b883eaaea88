#!/bin/sh
printf 'Content-Type: text/plain\n\nquick\n'
