// Package redisbus is a rooms.Bus over Redis pub/sub
// (github.com/redis/go-redis/v9): one channel per room.
//
// Redis keeps the order of one connection's publishes, and the Hub
// publishes from one goroutine, each Publish waiting for its reply, so
// one instance's messages arrive in order. Redis has no "no echo": the
// Hub recognises and ignores its own messages (Stats.Echoes). While Redis
// is down, Publish fails at once and the Hub counts the message dropped;
// nothing is buffered. Each subscription reads on its own goroutine into a
// bounded queue (Config.PendingMsgs) drained by another: past the bound,
// messages are dropped, BusStatus.SlowConsumer counts the episode and the
// Hub's numbering counts the messages (Stats.Lost). A health check
// (Config.HealthInterval) tells the connection's state and counts the
// disconnects and reconnections; go-redis resubscribes by itself.
//
// It must never retry or persist a message: Redis pub/sub is
// at-most-once, and a loss is left to be counted.
package redisbus
