#!/bin/sh
printf 'Location: /elsewhere?x=1\n\n'
