package ledger

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// On a site of several shards a commit runs in steps on different slots;
// each test below stops or repeats a commit between them and checks that
// the claim rules hold and nothing is lost: on one server and on a real
// cluster.
func TestShardedCommitSteps(t *testing.T) {
	for _, tc := range []struct {
		name string
		rdb  func(t *testing.T) redis.UniversalClient
	}{
		{"one server", func(t *testing.T) redis.UniversalClient { return redistest.New(t) }},
		{"cluster", func(t *testing.T) redis.UniversalClient { return redistest.NewCluster(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rdb := tc.rdb(t)
			ctx := context.Background()
			l := New(rdb, nil)
			l.SetLayout(store.NewLayout(map[string]int{"demo": 8}))
			sh := l.Shards("demo")
			const visit, guessed = uint64(1001), uint64(1002) // on different shards
			if sh.Of(visit) == sh.Of(guessed) || sh.Of(visit) == 0 {
				t.Fatalf("visits on shards %d and %d", sh.Of(visit), sh.Of(guessed))
			}
			at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			commit := func(chat, ver, msg string, claim uint64, kind ClaimKind) (Result, error) {
				return l.Commit(ctx, "demo", Commit{Chat: chat, Ver: ver, Record: &Record{First: at.UnixMilli()}, MessageAt: at,
					MessageID: msg, Claim: claim, ClaimTTL: time.Hour, ClaimKind: kind})
			}

			// Chat G guesses the visit.
			if r, err := commit("whatsapp:1", "0", "m1", visit, ClaimGuess); err != nil || r.Outcome != Stored {
				t.Fatalf("guess: %+v %v", r, err)
			}
			// Chat A's code takes it, but the chat step meets a changed
			// chat (a stale version): the claim is made, the commit is to
			// be retried.
			if _, err := commit("whatsapp:2", "7", "m2", visit, ClaimCode); !errors.Is(err, ErrRetry) {
				t.Fatalf("stale commit: %v, want ErrRetry", err)
			}
			if got := rdb.Get(ctx, sh.VisitMatched(visit)).Val(); got != "f|whatsapp:2" {
				t.Fatalf("claim after the claim step: %q", got)
			}
			// The retry still learns whose guess it took.
			r, err := commit("whatsapp:2", "0", "m2", visit, ClaimCode)
			if err != nil || r.Outcome != Stored || r.TakenFrom != "whatsapp:1" {
				t.Fatalf("retried commit: %+v %v; want stored, taken from whatsapp:1", r, err)
			}
			// The platform's redelivery of the stored message is a
			// duplicate, and claims nothing.
			// A stop between the chat's step and its index entry is
			// made good by that redelivery.
			if err := rdb.Del(ctx, sh.VisitMatched(visit)).Err(); err != nil {
				t.Fatal(err)
			}
			if err := rdb.ZRem(ctx, store.Chats("demo"), "whatsapp:2").Err(); err != nil {
				t.Fatal(err)
			}
			if r, err := commit("whatsapp:2", "1", "m2", visit, ClaimCode); err != nil || r.Outcome != Duplicate {
				t.Fatalf("redelivery: %+v %v", r, err)
			}
			if sc, err := rdb.ZScore(ctx, store.Chats("demo"), "whatsapp:2").Result(); err != nil || int64(sc) != at.UnixMilli() {
				t.Errorf("index entry after the redelivery: %v %v", sc, err)
			}
			// An erased chat's redelivered message indexes nothing.
			if err := rdb.Del(ctx, sh.Chat("whatsapp:2")).Err(); err != nil {
				t.Fatal(err)
			}
			if err := rdb.ZRem(ctx, store.Chats("demo"), "whatsapp:2").Err(); err != nil {
				t.Fatal(err)
			}
			if r, err := commit("whatsapp:2", "1", "m2", visit, ClaimCode); err != nil || r.Outcome != Duplicate {
				t.Fatalf("redelivery of an erased chat's message: %+v %v", r, err)
			}
			if n := rdb.ZCard(ctx, store.Chats("demo")).Val(); n != 1 {
				t.Errorf("index holds %d chats after an erased chat's redelivery, want 1", n)
			}
			if n := rdb.Exists(ctx, sh.VisitMatched(visit)).Val(); n != 0 {
				t.Errorf("a duplicate claimed the visit again")
			}
			// A guess never takes a code's visit: nothing of the chat is
			// stored.
			if _, err := commit("whatsapp:4", "0", "m3", visit, ClaimCode); err != nil {
				t.Fatal(err)
			}
			if r, err := commit("whatsapp:3", "0", "m4", visit, ClaimGuess); err != nil || r.Outcome != Claimed {
				t.Fatalf("guess of a coded visit: %+v %v", r, err)
			}
			if c, err := l.Load(ctx, "demo", "whatsapp:3"); err != nil || c.Record != nil {
				t.Errorf("chat of a refused claim: %+v %v", c, err)
			}
			if seen, err := l.Seen(ctx, "demo", "whatsapp:3", "m4"); err != nil || seen {
				t.Errorf("message of a refused claim marked seen: %v %v", seen, err)
			}
			chats, err := l.VisitChats(ctx, "demo", visit)
			slices.Sort(chats)
			if err != nil || !slices.Equal(chats, []string{"whatsapp:2", "whatsapp:4"}) {
				t.Errorf("visit's chats %v %v", chats, err)
			}
			// A chat lets go of its guess on another shard once its own
			// record moved on.
			if r, err := commit("whatsapp:5", "0", "m5", guessed, ClaimGuess); err != nil || r.Outcome != Stored {
				t.Fatalf("guess: %+v %v", r, err)
			}
			r, err = l.Commit(ctx, "demo", Commit{Chat: "whatsapp:5", Ver: "1", Record: &Record{First: at.UnixMilli()}, MessageAt: at,
				MessageID: "m6", Release: guessed})
			if err != nil || r.Outcome != Stored {
				t.Fatalf("release: %+v %v", r, err)
			}
			if n := rdb.Exists(ctx, sh.VisitMatched(guessed)).Val(); n != 0 {
				t.Errorf("guessed visit still held after its release")
			}
			// A visit of shard 0 keeps the site's own tag.
			if r, err := commit("whatsapp:6", "0", "m7", 1000, ClaimCode); err != nil || r.Outcome != Stored || sh.Of(1000) != 0 {
				t.Fatalf("claim on shard 0: %+v %v", r, err)
			}
			if got := rdb.Get(ctx, sh.VisitMatched(1000)).Val(); got != "f|whatsapp:6" || !strings.HasPrefix(sh.VisitMatched(1000), "mt:{demo}:") {
				t.Errorf("claim on shard 0: %s = %q", sh.VisitMatched(1000), got)
			}
		})
	}
}
