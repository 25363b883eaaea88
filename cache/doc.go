// Package cache holds an LRU of small, immutable file contents for the HTTP
// file server, bounded by a byte budget rather than an entry count.
//
// A [Cache] is shared by all event loops: it is safe for concurrent use, and a
// hit ([Cache.Get]) takes one short mutex section and allocates nothing. Each
// [Entry] remembers the [Identity] of the file it was read from (size, mtime
// in nanoseconds, inode and device); a lookup passes the caller's fresh
// fstat identity and a mismatch is a miss that also drops the stale entry, so
// a file rewritten in place, truncated, or replaced by rename is never served
// from the cache once the server has seen its new identity. Entries carry a
// precomputed ETag, Last-Modified string and Content-Type, so a hit is served
// without formatting anything.
//
// What this package must never do:
//
//   - exceed its byte budget: the sum of len(Entry.Data) over all cached
//     entries is at most Config.MaxBytes at every instant;
//   - mutate an Entry after it was added (a write in flight may still hold
//     its Data; see [Entry]);
//   - touch the network, the ring, or decide HTTP semantics: it stores bytes
//     and validators, nothing more;
//   - clean or interpret keys: callers pass an already cleaned path (for
//     example the final name returned by the http package's OpenUnder), so
//     the hit path does no string work.
package cache
