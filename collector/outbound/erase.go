package outbound

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// A person's deliveries: every delivery is indexed by its chat
// (store.OutboundChat), so that a person's export lists them and an
// erasure removes them, their lanes and dead letters without a scan. An
// erasure also marks the chat (store.OutboundErased, named by the chat's
// salted hash) with the newest stream entry, so that an entry of the chat
// still waiting to be routed, or being routed, makes no delivery.

// chatBatch bounds the deliveries one export read or erasure step handles.
const chatBatch = 100

// maxStreamScan bounds how much of a site's stream an export or erasure
// reads for a chat's waiting entries; the stream is routed every poll, so
// it is short unless no collector runs (entries past the bound are still
// dropped unsent when routed, by the erasure marker).
const maxStreamScan = 10000

// maxChatDeliveries bounds a chat's export and erasure (a chat's deliveries
// over delivery_days are far fewer).
const maxChatDeliveries = 100000

// chatIndexFor is how long a chat's delivery index outlives its newest
// delivery: a delivery is pending for at most maxAge, then kept for the
// site's delivery_days; a day of margin.
func chatIndexFor(st *config.Site, maxAge time.Duration) time.Duration {
	return keepFor(st) + maxAge + 24*time.Hour
}

// PersonSalt returns the site's random salt for the hashes that name an
// erased person (store.PersonSalt), making it at first use.
func PersonSalt(ctx context.Context, rdb redis.UniversalClient, site string) ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	if err := rdb.SetNX(ctx, store.PersonSalt(site), hex.EncodeToString(b), 0).Err(); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	v, err := rdb.Get(ctx, store.PersonSalt(site)).Result()
	if err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	return []byte(v), nil
}

// PersonHash is the salted hash that names a chat once erased: in the
// audit list, the reports state kept after the erasure and the erasure
// marker. It cannot be turned back into the chat key.
func PersonHash(salt []byte, chat string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(chat))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// ChatDelivery is one delivery of a chat's event, as a person's export
// shows it: the listing's fields and the payload sent.
type ChatDelivery struct {
	Listed
	// Payload is the JSON sent (for a webhook the body as is; other targets
	// send what their API takes, made from it).
	Payload json.RawMessage `json:"payload"`
	// Lane is the lane the delivery sits on while pending.
	Lane string `json:"-"`
}

// ChatDeliveries answers the kept deliveries of the chat's events, oldest
// first, read in bounded batches.
func ChatDeliveries(ctx context.Context, rdb redis.UniversalClient, site, chat string) ([]ChatDelivery, error) {
	out := []ChatDelivery{}
	for start := int64(0); start < maxChatDeliveries; start += chatBatch {
		ids, err := rdb.ZRange(ctx, store.OutboundChat(site, chat), start, start+chatBatch-1).Result()
		if err != nil {
			return nil, fmt.Errorf("chat deliveries: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		pipe := rdb.Pipeline()
		cmds := make([]*redis.MapStringStringCmd, len(ids))
		for i, id := range ids {
			cmds[i] = pipe.HGetAll(ctx, store.OutboundDelivery(site, id))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("chat deliveries: %w", err)
		}
		for i, c := range cmds {
			h := c.Val()
			if len(h) == 0 {
				continue // expired with its retention
			}
			d := ChatDelivery{Listed: listed(ids[i], h), Lane: h["lane"]}
			if json.Valid([]byte(h["body"])) {
				d.Payload = json.RawMessage(h["body"])
			} else {
				p, _ := json.Marshal(h["body"]) // a string always encodes
				d.Payload = p
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// ChatWaiting answers the IDs of the chat's events in the site's stream,
// not yet routed, read in bounded batches.
func ChatWaiting(ctx context.Context, rdb redis.UniversalClient, site, chat string) ([]string, error) {
	var out []string
	start := "-"
	for read := 0; read < maxStreamScan; read += chatBatch {
		msgs, err := rdb.XRangeN(ctx, store.OutboundEvents(site), start, "+", chatBatch).Result()
		if err != nil {
			return nil, fmt.Errorf("chat waiting: %w", err)
		}
		for _, m := range msgs {
			if c, _ := m.Values["chat"].(string); c == chat {
				out = append(out, m.ID)
			}
		}
		if len(msgs) < chatBatch {
			break
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	return out, nil
}

// ErasedDeliveries is what EraseChat removed.
type ErasedDeliveries struct {
	Deliveries  int
	DeadLetters int
	Lanes       int
	// Waiting are the chat's events removed from the stream before they
	// were routed.
	Waiting int
	// Marked says the chat was marked erased for entries still in the
	// stream.
	Marked bool
}

// EraseChat removes the deliveries of the chat's events: each delivery's
// hash and its entries in the site's delivery index and dead letters, and
// the chat's lanes with their place in the due set and their leases, in
// batches of at most 100 deliveries. First it marks the chat erased (named
// by hash, the chat's PersonHash) up to the newest stream entry, so that
// an entry of the chat not yet routed makes no delivery, and deletes the
// chat's entries from the stream (the first 10,000 entries looked at); an attempt in
// flight finds its lease gone and records nothing, so its delivery is not
// made again (the request it already sent cannot be called back).
func EraseChat(ctx context.Context, rdb redis.UniversalClient, st *config.Site, chat, hash string) (ErasedDeliveries, error) {
	var out ErasedDeliveries
	site := st.Name
	marked, err := eraseMarkScript.Run(ctx, rdb, []string{store.OutboundEvents(site), store.OutboundErased(site, hash)},
		int64(keepFor(st)/time.Second)).Int()
	if err != nil {
		return out, fmt.Errorf("erase deliveries: mark: %w", err)
	}
	out.Marked = marked == 1
	if out.Marked {
		// An entry being routed meanwhile is stopped by the marker; XDEL
		// of one already gone counts nothing.
		ids, err := ChatWaiting(ctx, rdb, site, chat)
		if err != nil {
			return out, fmt.Errorf("erase deliveries: %w", err)
		}
		for len(ids) > 0 {
			n := min(len(ids), chatBatch)
			k, err := rdb.XDel(ctx, store.OutboundEvents(site), ids[:n]...).Result()
			if err != nil {
				return out, fmt.Errorf("erase deliveries: waiting events: %w", err)
			}
			out.Waiting += int(k)
			ids = ids[n:]
		}
	}
	idx := store.OutboundChat(site, chat)
	for n := 0; n < maxChatDeliveries; n += chatBatch {
		ids, err := rdb.ZRange(ctx, idx, 0, chatBatch-1).Result()
		if err != nil {
			return out, fmt.Errorf("erase deliveries: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		pipe := rdb.Pipeline()
		cmds := make([]*redis.StringCmd, len(ids))
		for i, id := range ids {
			cmds[i] = pipe.HGet(ctx, store.OutboundDelivery(site, id), "lane")
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return out, fmt.Errorf("erase deliveries: lanes: %w", err)
		}
		keys := []string{idx, store.OutboundIndex(site), store.OutboundDead(site), store.OutboundDue(site), store.OutboundLeases(site)}
		args := []any{len(ids)}
		var lanes []string
		for i, id := range ids {
			keys = append(keys, store.OutboundDelivery(site, id))
			args = append(args, id)
			if l := cmds[i].Val(); l != "" && !slices.Contains(lanes, l) {
				lanes = append(lanes, l)
			}
		}
		for _, l := range lanes {
			keys = append(keys, store.OutboundLane(site, l))
			args = append(args, l)
		}
		res, err := eraseBatchScript.Run(ctx, rdb, keys, args...).Int64Slice()
		if err != nil {
			return out, fmt.Errorf("erase deliveries: %w", err)
		}
		if len(res) != 3 {
			return out, fmt.Errorf("erase deliveries: unexpected reply %v", res)
		}
		out.Deliveries += int(res[0])
		out.DeadLetters += int(res[1])
		out.Lanes += int(res[2])
	}
	return out, nil
}
