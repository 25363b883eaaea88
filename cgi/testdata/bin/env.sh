#!/bin/sh
# Prints the environment, one NAME=value per line.
printf 'Content-Type: text/plain\r\n\r\n'
env
