// Package natsbus is a rooms.Bus over NATS (github.com/nats-io/nats.go):
// one core NATS subject per room, one connection per instance.
//
// NATS keeps the order of one connection's messages on a subject, which
// is the order rooms.Hub numbers them in. The connection is made with
// NoEcho, so an instance is not sent its own messages, and reconnects
// forever with exponential back-off (Config.MinBackoff to
// Config.MaxBackoff, with jitter). While it is down, Publish fails at
// once: nats.go's reconnect buffer is off, because the Hub holds its
// queue while the bus is down and until the other instances are back.
// Each subscription bounds what waits for delivery
// (Config.PendingMsgs, Config.PendingBytes): past that NATS drops
// messages for this slow consumer, BusStatus.SlowConsumer counts the
// episode, and the Hub's numbering counts the messages (Stats.Lost).
// nats.go delivers each subscription from a goroutine of its own: one
// per room with members on this instance, not one per connection.
//
// It must never block its caller longer than nats.go's own flush of a
// full write buffer, and never retry or persist a message: NATS core is
// at-most-once, and a loss is left to be counted.
package natsbus
