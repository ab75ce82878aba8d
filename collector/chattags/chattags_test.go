package chattags_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/chattags"
	"github.com/messtrack/messtrack/collector/ledger"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{nil, []string{}},
		{[]string{" Sofa ", "sofa", "lead: hot", "", "  "}, []string{"Sofa", "lead: hot"}},
		{[]string{"<script>alert(1)</script>"}, []string{"<script>alert(1)</script>"}},
		{[]string{"a\u202eb\nc\x00"}, []string{"ab c"}},
		{[]string{"=HYPERLINK(\"x\")"}, []string{"=HYPERLINK(\"x\")"}},
	} {
		got, err := chattags.Normalize(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	many := make([]string, chattags.MaxTags+1)
	for i := range many {
		many[i] = strings.Repeat("x", i+1)
	}
	for _, in := range [][]string{many, {strings.Repeat("é", chattags.MaxTagLen+1)}, {strings.Repeat("x", 10000)}} {
		var ie *chattags.InputError
		if _, err := chattags.Normalize(in); !errors.As(err, &ie) {
			t.Errorf("Normalize of %d tags: %v", len(in), err)
		}
	}
}

func TestSetKeepsTheRecord(t *testing.T) {
	rdb := redistest.NewUniversal(t)
	l := ledger.New(rdb, nil)
	ctx := context.Background()
	svc := chattags.New(l)
	if _, err := svc.Set(ctx, "demo", "whatsapp:16505551234", []string{"sofa"}); !errors.Is(err, chattags.ErrNoChat) {
		t.Fatalf("tags on no chat: %v", err)
	}
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	rec := &ledger.Record{Chat: "whatsapp:16505551234", Messenger: "whatsapp", First: at.UnixMilli(), ConvAt: at.UnixMilli(),
		Conversations: 1, Method: "referral", Source: ledger.Source{Channel: "messenger_ad", AdID: "120226305854810726"}}
	if _, err := l.Commit(ctx, "demo", ledger.Commit{Chat: rec.Chat, Ver: "0", Record: rec, MessageAt: at, MessageID: "wa:1"}); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Set(ctx, "demo", rec.Chat, []string{"Sofa", "lead: hot", "sofa"})
	if err != nil || !reflect.DeepEqual(got, []string{"Sofa", "lead: hot"}) {
		t.Fatalf("%q %v", got, err)
	}
	c, err := l.Load(ctx, "demo", rec.Chat)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Record.Tags, []string{"Sofa", "lead: hot"}) || c.Record.Source != rec.Source || c.Msgs != 1 ||
		!chattags.Has(c.Record, "LEAD: HOT") || chattags.Has(c.Record, "lead") {
		t.Fatalf("record after tagging: %+v (msgs %d)", c.Record, c.Msgs)
	}
	if _, err := svc.Set(ctx, "demo", rec.Chat, []string{}); err != nil {
		t.Fatal(err)
	}
	if c, _ = l.Load(ctx, "demo", rec.Chat); c.Record.Tags != nil {
		t.Fatalf("cleared tags: %q", c.Record.Tags)
	}
	// Another site's chat of the same key is another chat.
	if _, err := svc.Set(ctx, "shop", rec.Chat, []string{"x"}); !errors.Is(err, chattags.ErrNoChat) {
		t.Fatalf("other site: %v", err)
	}
}
