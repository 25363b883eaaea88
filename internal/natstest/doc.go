// Package natstest runs a real message bus server for tests: Debian's
// nats-server (the binary on PATH, or NATS_SERVER) or redis-server (or
// REDIS_SERVER), started on a free loopback port in a process of its own,
// stopped and started again on the same port to make a bus outage.
//
// It must never be imported by non-test code, and never fake a server:
// without the binary, Start skips the test, saying why.
package natstest
