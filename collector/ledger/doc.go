// Package ledger is the chat ledger: a chat's stored record (Record), its
// history (HistoryEntry), the conversation starts that decide which message
// began a conversation (Start), and the storage protocol that keeps them on
// Redis. One Lua script stores a message's whole effect on a chat at once
// (Commit: record, history, index, the visit's claim, the message's seen
// mark); its reply is read once into a Result. Update is the one retry loop:
// load the chat, run a change on it, and run it again on fresh state when
// another delivery changed the chat or took the visit meanwhile (ErrRetry).
// Reports facts a commit leaves pending are handed over (HandOver) to the
// sink at least once.
//
// The ledger decides nothing about attribution: the collector's matcher
// makes the change, the ledger stores it.
package ledger
