// Package wsbench is the WebSocket benchmark's load: an echo load (N
// connections, one message in flight each, every echo checked) and a
// broadcast probe (N clients in a chat room, one message, the time until
// the last client has it, and the server's RSS per connected client). It
// uses gorilla/websocket as the client for every server under test. It must
// never measure anything it has not checked arrived intact.
package wsbench
