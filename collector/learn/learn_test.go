package learn

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/posterior"
	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/store"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

var start = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// labelledAt is an id match at t: the writer clicked gap before, one
// other visitor clicked five minutes before.
func labelledAt(t time.Time, gap time.Duration) posterior.Labelled {
	return posterior.Labelled{
		Message: posterior.Message{Time: t, Messenger: posterior.WhatsApp, Target: "whatsapp:15551234567", PhoneCountry: "DE", PhoneOffsets: []int{3600}, ClicksPerHour: 6},
		Clicked: posterior.Click{At: t.Add(-gap), Country: "DE", Offset: 3600, HasOffset: true},
		Others:  []posterior.Click{{At: t.Add(-5 * time.Minute), Country: "US", Offset: -18000, HasOffset: true}},
	}
}

func TestExamplesAreBoundedAndExpire(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.NewUniversal(t)
	s := New(rdb, store.NewManualClock(start))
	for i := range MaxExamples + 3 {
		l := labelledAt(start.Add(time.Duration(i)*time.Minute), 40*time.Second)
		if err := s.AddLabelled(ctx, "demo", &l); err != nil {
			t.Fatal(err)
		}
	}
	key := store.LearnLabelled("demo", posterior.WhatsApp)
	if n := rdb.LLen(ctx, key).Val(); n != MaxExamples {
		t.Fatalf("%d examples kept, want the newest %d", n, MaxExamples)
	}
	for _, k := range []string{key, store.LearnMessengers("demo")} {
		if ttl := rdb.TTL(ctx, k).Val(); ttl <= ExampleTTL-time.Minute || ttl > ExampleTTL {
			t.Errorf("%s: TTL %v, want %v", k, ttl, ExampleTTL)
		}
	}
	labelled, _, err := s.examples(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(labelled) != MaxExamples || !labelled[0].Message.Time.Equal(start.Add(3*time.Minute)) {
		t.Fatalf("read %d, oldest %v: want the newest %d, oldest first", len(labelled), labelled[0].Message.Time, MaxExamples)
	}
	u := posterior.Unlabelled{Message: posterior.Message{Time: start}}
	if err := s.AddUnlabelled(ctx, "demo", &u); err == nil {
		t.Fatal("an example without a messenger was kept")
	}
}

func TestRefitVersionsProvesAndLocks(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.NewUniversal(t)
	clock := store.NewManualClock(start)
	s := New(rdb, clock)
	if m, err := s.Model(ctx, "demo"); err != nil || m != nil {
		t.Fatalf("model before any fit: %v, %v", m, err)
	}
	add := func(from time.Time, n int) {
		for i := range n {
			l := labelledAt(from.Add(time.Duration(i)*time.Minute), 40*time.Second)
			if err := s.AddLabelled(ctx, "demo", &l); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(start, MinLabelled)
	first, err := s.Refit(ctx, "demo", 30*time.Minute, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if first.Version != 1 || first.Labelled != MinLabelled || first.Proved != 0 {
		t.Fatalf("first refit %+v", first)
	}
	m, err := s.Model(ctx, "demo")
	if err != nil || m == nil || m.Version != 1 || !Usable(m, posterior.WhatsApp) || Usable(m, posterior.Telegram) {
		t.Fatalf("model after the first fit: %+v, %v", m, err)
	}
	// Ten newer id matches: the second refit proves model 1 on them.
	add(start.Add(24*time.Hour), 10)
	second, err := s.Refit(ctx, "demo", 30*time.Minute, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if second.Version != 2 || second.Proved != 10 || second.Labelled != MinLabelled+10 {
		t.Fatalf("second refit %+v", second)
	}
	proof, err := s.LoadProof(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(proof.Rows) != 1 || proof.Rows[0].Messages != 10 || proof.Rows[0].Period != "2026-11" {
		t.Fatalf("proof %+v", proof.Rows)
	}
	// Every writer clicked 40 s before, in the phone's zone; the other
	// clicker is abroad: the model answers them all, rightly.
	if r := proof.Rows[0]; r.Correct != 10 || r.Answered != 10 {
		t.Errorf("proof: %d right of %d answered, want 10 of 10", r.Correct, r.Answered)
	}

	// Another collector's refit under way: this one does nothing.
	if err := rdb.Set(ctx, store.LearnLock("demo"), "other", LockTTL).Err(); err != nil {
		t.Fatal(err)
	}
	busy, err := s.Refit(ctx, "demo", 30*time.Minute, 0.95)
	if err != nil || !busy.Busy {
		t.Fatalf("refit while locked: %+v, %v", busy, err)
	}
	if v := rdb.HGet(ctx, store.LearnModel("demo"), "version").Val(); v != "2" {
		t.Fatalf("version %s after a busy refit, want 2", v)
	}
	if rdb.Get(ctx, store.LearnLock("demo")).Val() != "other" {
		t.Fatal("a busy refit released another collector's lock")
	}
}

// A collector sees another collector's fit within a minute of its clock.
func TestModelReloadsWhenTheVersionMoves(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.NewUniversal(t)
	clock := store.NewManualClock(start)
	reader, writer := New(rdb, clock), New(rdb, clock)
	if _, err := writer.Refit(ctx, "demo", 30*time.Minute, 0.95); err != nil {
		t.Fatal(err)
	}
	m, err := reader.Model(ctx, "demo")
	if err != nil || m == nil || m.Version != 1 {
		t.Fatalf("reader: %+v, %v", m, err)
	}
	if _, err := writer.Refit(ctx, "demo", 30*time.Minute, 0.95); err != nil {
		t.Fatal(err)
	}
	if m, _ := reader.Model(ctx, "demo"); m.Version != 1 {
		t.Fatalf("reader reloaded within the minute: version %d", m.Version)
	}
	clock.Advance(reloadEvery)
	if m, _ := reader.Model(ctx, "demo"); m.Version != 2 {
		t.Fatalf("reader after a minute: version %d, want 2", m.Version)
	}
	// A corrupt model is an error, not a silent fallback.
	rdb.HSet(ctx, store.LearnModel("demo"), "version", 3, "model", "{not json")
	clock.Advance(reloadEvery)
	if _, err := reader.Model(ctx, "demo"); err == nil {
		t.Fatal("a corrupt model read without error")
	}
}

func TestMergeRowsAddsCounts(t *testing.T) {
	row := func(messenger, period string, messages, answered, correct int, conf float64) posterior.ProofRow {
		r := posterior.ProofRow{Messenger: messenger, Period: period, Messages: messages, Answered: answered, Correct: correct}
		r.Reliability = make([]posterior.Bin, 10)
		r.Reliability[9] = posterior.Bin{Lo: 0.9, Hi: 1, Answered: answered, Correct: correct, MeanConfidence: conf}
		return r
	}
	rows := MergeRows(nil, []posterior.ProofRow{row("whatsapp", "2026-11", 10, 4, 4, 0.98)})
	rows = MergeRows(rows, []posterior.ProofRow{row("whatsapp", "2026-11", 30, 6, 5, 0.96), row("telegram", "2026-11", 5, 1, 1, 0.97)})
	if len(rows) != 2 || rows[0].Messenger != "telegram" {
		t.Fatalf("rows %+v", rows)
	}
	wa := rows[1]
	if wa.Messages != 40 || wa.Answered != 10 || wa.Correct != 9 || wa.Precision.K != 9 || wa.Precision.N != 10 || wa.Recall.N != 40 {
		t.Fatalf("merged %+v", wa)
	}
	if b := wa.Reliability[9]; b.Answered != 10 || b.Correct != 9 || b.MeanConfidence < 0.9679 || b.MeanConfidence > 0.9681 {
		t.Fatalf("merged bin %+v, want 9 of 10 at mean 0.968", b)
	}
	total := Total(append(rows, row("whatsapp", "2026-12", 10, 0, 0, 0)), "whatsapp")
	if total.Messages != 50 || total.Correct != 9 || total.Period != "all" {
		t.Fatalf("total %+v", total)
	}
}

func TestFeatures(t *testing.T) {
	s := New(nil, store.NewManualClock(start))
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	m := MessageOf(at, posterior.WhatsApp, "whatsapp:15551234567", "79161234567", "", "", 3)
	if m.PhoneCountry != "RU" || m.PhoneOffsets != nil || m.ClicksPerHour != 3 {
		t.Errorf("a Russian mobile: %+v, want RU without time-zone evidence", m)
	}
	if m := MessageOf(at, posterior.WhatsApp, "", "12125551234", "", "", 0); len(m.PhoneOffsets) != 1 || m.PhoneOffsets[0] != -4*3600 {
		t.Errorf("a New York number in July: %+v", m)
	}
	if m := MessageOf(at, posterior.Telegram, "", "", "de", "de-DE", 0); m.PhoneCountry != "DE" || m.Language != "de-DE" {
		t.Errorf("a Telegram user with a hint: %+v", m)
	}
	tests := []struct {
		v      visit.Visit
		offset int
		has    bool
	}{
		{visit.Visit{TimeZone: "Europe/Berlin"}, 7200, true},
		{visit.Visit{TimeZone: "UTC+05:30"}, 19800, true},
		{visit.Visit{GeoTimeZone: "America/Denver"}, -6 * 3600, true},
		{visit.Visit{TimeZone: "Mars/Olympus"}, 0, false},
		{visit.Visit{}, 0, false},
	}
	for _, tc := range tests {
		c := s.ClickOf(&tc.v, at.Add(-time.Minute), at)
		if c.Offset != tc.offset || c.HasOffset != tc.has || !c.At.Equal(at.Add(-time.Minute)) {
			t.Errorf("%+v: %+v, want offset %d (%v)", tc.v, c, tc.offset, tc.has)
		}
	}
}
