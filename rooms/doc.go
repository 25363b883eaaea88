// Package rooms keeps WebSocket rooms — named sets of connections that a
// message is broadcast to — on one uringnet instance or across several,
// joined by a message bus.
//
// A [Hub] sits beside a [websocket.Server]. Join and Leave edit a room's
// local members; Broadcast delivers a message to them at once (through
// websocket.Server.Broadcast: the frame is encoded once) and, when the
// Hub has a [Bus], queues it for the other instances. The Hub's publisher
// goroutine takes the queue to the bus; the bus's own goroutine hands what
// other instances published to this instance's local members, again with
// one Broadcast per message. No loop ever waits on the bus.
//
// # Guarantees
//
// Every message carries its instance's id and a sequence number per room.
// An instance ignores its own messages (no echo) and any number it has
// already seen (no duplicate), so each member gets each message at most
// once, in the order its sender sent them when the bus keeps one
// publisher's order (NATS and Redis pub/sub do). A jump in the numbers is
// a loss, and it is counted (Stats.Lost); so is every message the Hub
// could not publish (Stats.Dropped: the queue was full, or the bus refused
// it). While the bus is up and keeps up, nothing is lost: each member
// gets each message exactly once. A heartbeat per room (Config.Heartbeat)
// tells the other instances the last number sent, so a loss at the end of
// a burst is counted too, and how many members the room has there
// (Hub.Presence).
//
// # What it must never do
//
// It must never block a loop on the bus, and never hold more than its
// bounds: Config.MaxQueued messages and Config.MaxQueuedBytes bytes wait
// for the bus, the rest are dropped and counted. While the bus is down,
// and after it until the other instances are heard again, the queue is
// held (gate.go), so an outage loses only what was on the wire; it does
// not retry or persist a message beyond that, and says how much was lost.
//
// The NATS bus is in package natsbus, the Redis one in redisbus.
package rooms
