#!/bin/sh
printf "Content-Type: text/plain\n\nsub %s\n" "$PATH_INFO"
