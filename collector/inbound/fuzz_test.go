package inbound

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// received is the collector's clock in the fuzz tests.
var received = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// addSamples seeds f with the collector's recorded payloads whose names
// start with prefix.
func addSamples(f *testing.F, prefix string) {
	f.Helper()
	var n int
	for _, dir := range []string{"platform-samples", "notices"} {
		paths, err := filepath.Glob(filepath.Join("..", "testdata", dir, prefix+"*.json"))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
			n++
		}
	}
	if n == 0 {
		f.Fatalf("no %s samples in ../testdata", prefix)
	}
}

// checkRefused fails unless err is a refusal the collector answers 400.
func checkRefused(t *testing.T, err error) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) || ie.Reason == "" {
		t.Fatalf("error %v is not an *InputError with a reason", err)
	}
}

// checkMessage holds a message to what every translator promises.
func checkMessage(t *testing.T, m *Message, messenger string) {
	t.Helper()
	if m.Messenger != messenger || !strings.HasPrefix(m.Chat, messenger+":") {
		t.Fatalf("message of %q in chat %q, want %s", m.Messenger, m.Chat, messenger)
	}
	if m.Time.IsZero() || m.Time.Location() != time.UTC || m.Time.After(received.Add(FutureSkew)) {
		t.Fatalf("message filed at %v, received %v", m.Time, received)
	}
	if !m.PlatformTime.IsZero() && !m.Time.Equal(received) {
		t.Fatalf("platform time %v set, but filed at %v rather than when received", m.PlatformTime, m.Time)
	}
}

// checkNotice holds a notice to what every translator promises.
func checkNotice(t *testing.T, n *Notice, messenger string) {
	t.Helper()
	switch n.Kind {
	case NoticeReaction, NoticeEdited, NoticeDeleted:
	default:
		t.Fatalf("notice of kind %q", n.Kind)
	}
	if !strings.HasPrefix(n.Chat, messenger+":") {
		t.Fatalf("notice in chat %q, want %s", n.Chat, messenger)
	}
	if n.Kind != NoticeReaction && n.Emoji != "" {
		t.Fatalf("%s notice with emoji %q", n.Kind, n.Emoji)
	}
}

func FuzzWhatsApp(f *testing.F) {
	addSamples(f, "whatsapp_")
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := ReadWhatsApp(body, received)
		if err != nil {
			checkRefused(t, err)
			return
		}
		if p.Ignored < len(p.NoSender) {
			t.Fatalf("%d ignored, but %d without sender", p.Ignored, len(p.NoSender))
		}
		for _, e := range p.Events {
			if (e.Message == nil) == (e.Notices == nil) {
				t.Fatalf("event %+v is neither a message nor notices, or both", e)
			}
			if e.Message != nil {
				checkMessage(t, e.Message, "whatsapp")
			}
			for i := range e.Notices {
				checkNotice(t, &e.Notices[i], "whatsapp")
			}
		}
	})
}

func FuzzTelegram(f *testing.F) {
	addSamples(f, "telegram_")
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := ReadTelegram(body, "demo_bot", "demo_manager", received)
		if err != nil {
			checkRefused(t, err)
			return
		}
		if u.Message != nil {
			if u.Notices != nil {
				t.Fatalf("a message and notices from one update: %+v", u)
			}
			checkMessage(t, u.Message, "telegram")
			if !strings.HasPrefix(u.Message.MessageID, "tg:demo_bot:") {
				t.Fatalf("message ID %q is not the bot's update", u.Message.MessageID)
			}
		}
		for i := range u.Notices {
			checkNotice(t, &u.Notices[i], "telegram")
		}
	})
}

func FuzzGeneric(f *testing.F) {
	for _, s := range []string{
		`{"channel":"whatsapp","from":"+1 650 555 0100","to":"+1 555 123 4567","text":"hello"}`,
		`{"channel":"telegram","from":"1111111","to":"@Demo_Bot","text":"/start abc","time":"2026-11-02T08:59:00Z"}`,
		`{"channel":"viber","from":"u1","text":"hi","time":"2100-01-01T00:00:00Z","id":"m1"}`,
		`{"channel":"viber","from":"u1","kind":"reaction","id":"n1","ref":"m1","emoji":"❤️"}`,
		`{"channel":"viber","from":"u1","kind":"edit","id":"n3","ref":"m1","text":"Hello again"}`,
		`{"channel":"viber","from":"u1","kind":"delete","ref":"m1"}`,
		`{"channel":"Bad Channel","from":"u1"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req Generic
		if json.Unmarshal(body, &req) != nil {
			return
		}
		m, n, err := ReadGeneric(&req, received)
		switch {
		case err != nil:
			if m != nil || n != nil {
				t.Fatalf("an error and a result: %v", err)
			}
			checkRefused(t, err)
		case (m == nil) == (n == nil):
			t.Fatalf("message %+v and notice %+v: want exactly one", m, n)
		case m != nil:
			checkMessage(t, m, m.Messenger)
			if m.MessageID != "" && !strings.HasPrefix(m.MessageID, "msg:"+m.Messenger+":") {
				t.Fatalf("message ID %q is not scoped to its channel", m.MessageID)
			}
		default:
			channel, _, _ := strings.Cut(n.Chat, ":")
			checkNotice(t, n, channel)
			if !strings.HasPrefix(n.Ref, "msg:"+channel+":") {
				t.Fatalf("notice ref %q is not scoped to its channel", n.Ref)
			}
		}
	})
}

func FuzzTime(f *testing.F) {
	for _, at := range []time.Time{{}, received, received.Add(time.Minute), received.Add(time.Hour), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(-1, 0)} {
		f.Add(at.Unix())
	}
	f.Fuzz(func(t *testing.T, unix int64) {
		platform := time.Unix(unix, 0)
		at, ignored := Time(platform, received)
		if at.After(received.Add(FutureSkew)) || at.Location() != time.UTC {
			t.Fatalf("Time(%v) = %v, beyond the skew or not UTC", platform, at)
		}
		if !ignored.IsZero() && (!at.Equal(received) || !ignored.Equal(platform)) {
			t.Fatalf("Time(%v) = %v, ignored %v", platform, at, ignored)
		}
		if ignored.IsZero() && !at.Equal(received) && !at.Equal(platform) {
			t.Fatalf("Time(%v) = %v: neither the platform's time nor received", platform, at)
		}
	})
}
