#!/bin/sh
printf 'Status: 404 Not Found\r\nContent-Type: text/plain\r\nX-Script: status\r\n\r\nno such thing\n'
