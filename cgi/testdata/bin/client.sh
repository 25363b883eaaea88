#!/bin/sh
printf 'Location: http://example.com/there\nContent-Type: text/plain\n\nmoved\n'
