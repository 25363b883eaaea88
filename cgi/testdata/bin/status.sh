#!/bin/sh
printf 'Status: 201 Created\r\nContent-Type: text/plain\r\nX-Script: yes\r\nConnection: close\r\nTransfer-Encoding: gzip\r\n\r\ncreated\n'
