package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store"
)

// Storage limits.
const (
	// SeenTTL outlives WhatsApp's retries (36 hours documented, up to 7
	// days reported) so a redelivery is always recognised.
	SeenTTL = 8 * 24 * time.Hour
	// HistoryCap bounds one chat's history list.
	HistoryCap = 1000
	// MaxStoredText bounds the first-message text kept for review.
	MaxStoredText = 1000
	// commitTries is how often Update runs a change again when another
	// delivery changed the same chat or took the same visit meanwhile.
	commitTries = 8
)

// ErrRetry makes Update run a change again from fresh state: the chat
// changed, or the visit was taken, since it was loaded.
var ErrRetry = errors.New("chat changed meanwhile")

// Sink receives the reports facts of conversations, at least once.
type Sink func(context.Context, reports.Conversation) error

// Ledger keeps the chats of every site on one Redis.
type Ledger struct {
	rdb    redis.UniversalClient
	sink   Sink
	layout store.Layout
}

// New returns the ledger on rdb, handing facts over to sink.
func New(rdb redis.UniversalClient, sink Sink) *Ledger {
	return &Ledger{rdb: rdb, sink: sink}
}

// SetSink makes fn receive the facts handed over from now on.
func (l *Ledger) SetSink(fn Sink) { l.sink = fn }

// SetLayout gives the ledger the sites' shards (a site it does not hold
// has one). Call it before the ledger is used.
func (l *Ledger) SetLayout(layout store.Layout) { l.layout = layout }

// Shards is the site's layout of visit and chat keys.
func (l *Ledger) Shards(site string) store.Shards { return l.layout.Of(site) }

// Chat is a chat as loaded: its record, version and pending facts.
type Chat struct {
	// Record is nil when the chat is new.
	Record  *Record
	Ver     string
	Pending string
	// Last is the latest message's time (Unix ms), Msgs the number of
	// messages.
	Last int64
	Msgs int64
}

// Load reads a chat of the site.
func (l *Ledger) Load(ctx context.Context, site, chat string) (*Chat, error) {
	vals, err := l.rdb.HMGet(ctx, l.Shards(site).Chat(chat), "rec", "ver", "pending", "last", "msgs").Result()
	if err != nil {
		return nil, fmt.Errorf("loadChat: %w", err)
	}
	sc := &Chat{Ver: "0"}
	str := func(i int) string { v, _ := vals[i].(string); return v }
	if rec := str(0); rec != "" {
		sc.Record = &Record{}
		if err := json.Unmarshal([]byte(rec), sc.Record); err != nil {
			return nil, fmt.Errorf("loadChat %s: %w", chat, err)
		}
	}
	if v := str(1); v != "" {
		sc.Ver = v
	}
	sc.Pending = str(2)
	for _, f := range []struct {
		i   int
		dst *int64
	}{{3, &sc.Last}, {4, &sc.Msgs}} {
		if v := str(f.i); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("loadChat %s: field %d: %w", chat, f.i, err)
			}
			*f.dst = n
		}
	}
	return sc, nil
}

// Update is the ledger's one retry loop: it loads the chat and runs change
// on it, and when change answers ErrRetry (another delivery changed the
// chat, or took the visit, meanwhile) it runs change again on the chat as it
// now stands, at most commitTries times. op names the operation in errors.
func Update[T any](ctx context.Context, l *Ledger, site, chat, op string, change func(c *Chat) (T, error)) (T, error) {
	var zero T
	for range commitTries {
		sc, err := l.Load(ctx, site, chat)
		if err != nil {
			return zero, fmt.Errorf("%s: %w", op, err)
		}
		out, err := change(sc)
		if errors.Is(err, ErrRetry) {
			continue
		}
		return out, err
	}
	return zero, fmt.Errorf("%s %s: %w after %d tries", op, chat, ErrRetry, commitTries)
}

// Seen tells whether a message (or notice) ID of the chat was stored before.
func (l *Ledger) Seen(ctx context.Context, site, chat, messageID string) (bool, error) {
	n, err := l.rdb.Exists(ctx, l.Shards(site).MessageSeen(chat, messageID)).Result()
	if err != nil {
		return false, fmt.Errorf("seen: %w", err)
	}
	return n > 0, nil
}

// HandOverFacts hands over the facts a Commit just left pending, in the
// form it left them, so that they are cleared unless a newer commit
// replaced them.
func (l *Ledger) HandOverFacts(ctx context.Context, site, chat string, facts []reports.Conversation) error {
	b, err := json.Marshal(facts)
	if err != nil {
		return fmt.Errorf("handOver %s: %w", chat, err)
	}
	return l.HandOver(ctx, site, chat, string(b))
}

// HandOver gives stored pending conversation facts to the sink and clears
// them. Facts are handed over at least once: when the hand-over fails, they
// stay pending and go with the chat's next delivery (the platform's retry of
// the failed one included), so reports must take a fact again for the same
// Site, Chat and Time as the same conversation. pending is a JSON array of
// facts, or one fact as earlier versions stored it.
func (l *Ledger) HandOver(ctx context.Context, site, chat, pending string) error {
	if pending == "" {
		return nil
	}
	var facts []reports.Conversation
	if strings.HasPrefix(pending, "[") {
		if err := json.Unmarshal([]byte(pending), &facts); err != nil {
			return fmt.Errorf("handOver %s: %w", chat, err)
		}
	} else {
		var fact reports.Conversation
		if err := json.Unmarshal([]byte(pending), &fact); err != nil {
			return fmt.Errorf("handOver %s: %w", chat, err)
		}
		facts = append(facts, fact)
	}
	for _, fact := range facts {
		if err := l.sink(ctx, fact); err != nil {
			return fmt.Errorf("handOver %s: %w", chat, err)
		}
	}
	if err := clearPendingScript.Run(ctx, l.rdb, []string{l.Shards(site).Chat(chat)}, pending).Err(); err != nil {
		return fmt.Errorf("handOver %s: clear: %w", chat, err)
	}
	return nil
}

// History reads a chat's history, oldest first, as stored (JSON entries).
func (l *Ledger) History(ctx context.Context, site, chat string) ([]string, error) {
	raw, err := l.rdb.LRange(ctx, l.Shards(site).ChatHistory(chat), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", chat, err)
	}
	return raw, nil
}

// VisitChats are the chats a visit's code (or an operator's confirmation)
// matched.
func (l *Ledger) VisitChats(ctx context.Context, site string, n uint64) ([]string, error) {
	chats, err := l.rdb.SMembers(ctx, l.Shards(site).VisitChats(n)).Result()
	if err != nil {
		return nil, fmt.Errorf("visit chats: %w", err)
	}
	return chats, nil
}

// Indexed is a chat in the site's index, scored by its first message (ms).
type Indexed struct {
	Chat  string
	Score int64
}

// Index reads the site's chat index from top down to bottom (score bounds
// as Redis takes them: "+inf", "123", "(123"), at most count chats.
func (l *Ledger) Index(ctx context.Context, site, top, bottom string, count int64) ([]Indexed, error) {
	zs, err := l.rdb.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{
		Key: store.Chats(site), Start: top, Stop: bottom, ByScore: true, Rev: true, Count: count,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	out := make([]Indexed, len(zs))
	for i, z := range zs {
		m, _ := z.Member.(string)
		out[i] = Indexed{Chat: m, Score: int64(z.Score)}
	}
	return out, nil
}

// Listed is a chat's record as a list shows it; Record is nil when the
// chat has none or it cannot be read, Err set when its record or its last
// message time cannot be read (the record is still given when only the
// time is bad, with Last zero).
type Listed struct {
	Record *Record
	Last   int64
	Err    error
}

// Records reads the records and last message times of chats in one round
// trip.
func (l *Ledger) Records(ctx context.Context, site string, chats []string) ([]Listed, error) {
	sh := l.Shards(site)
	pipe := l.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(chats))
	for i, chat := range chats {
		cmds[i] = pipe.HMGet(ctx, sh.Chat(chat), "rec", "last")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}
	out := make([]Listed, len(chats))
	for i, cmd := range cmds {
		vals := cmd.Val()
		rec, _ := vals[0].(string)
		if rec == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(rec), &r); err != nil {
			out[i].Err = fmt.Errorf("record %s: %w", chats[i], err)
			continue
		}
		out[i].Record = &r
		if last, _ := vals[1].(string); last != "" {
			n, err := strconv.ParseInt(last, 10, 64)
			if err != nil {
				out[i].Err = fmt.Errorf("record %s: last: %w", chats[i], err)
			}
			out[i].Last = n
		}
	}
	return out, nil
}
