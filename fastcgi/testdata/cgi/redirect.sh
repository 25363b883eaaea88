#!/bin/sh
printf 'Location: http://example.com/there\r\n\r\n'
