package viber

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var received = time.Date(2026, 11, 2, 9, 5, 0, 0, time.UTC)

func sample(t testing.TB, name, code, text string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "platform-samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer("__CODE__", code, "__TEXT__", text).Replace(string(b)))
}

func TestReadConversationStartedHoldsTheContext(t *testing.T) {
	res, err := Read(sample(t, "viber_conversation_started.json", "AQIDBAUGBw", ""), "demoshop", received)
	if err != nil || len(res.Holds) != 1 || len(res.Messages) != 0 {
		t.Fatalf("Read = %+v, %v", res, err)
	}
	if h := res.Holds[0]; h.Chat != "viber:01234567890A=" || h.Code != "AQIDBAUGBw" {
		t.Fatalf("hold %+v", h)
	}
	res, err = Read(sample(t, "viber_conversation_started.json", "", ""), "demoshop", received)
	if err != nil || len(res.Holds) != 0 || res.Ignored != 1 {
		t.Fatalf("without a context: %+v, %v", res, err)
	}
}

func TestReadMessageKeepsTheTokenExact(t *testing.T) {
	res, err := Read(sample(t, "viber_message.json", "", "Hello"), "demoshop", received)
	if err != nil || len(res.Messages) != 1 {
		t.Fatalf("Read = %+v, %v", res, err)
	}
	in := res.Messages[0]
	// 5406893180055821525 is above 2^53: read as a float it would be
	// ...524 or ...528, and two messages could share an ID.
	if in.MessageID != "viber:demoshop:5406893180055821525" || in.Chat != "viber:01234567890A=" || in.Text != "Hello" ||
		in.Country != "GB" || in.Language != "en" || in.Target != "viber:demoshop" || in.HasStart {
		t.Fatalf("message %+v", in)
	}
}

func TestReadRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"not json":         `{"event":`,
		"no event":         `{"timestamp":1}`,
		"started, no user": `{"event":"conversation_started","context":"x"}`,
		"message, no send": `{"event":"message","message_token":1,"message":{"text":"x"}}`,
		"message, no tok":  `{"event":"message","sender":{"id":"a="},"message":{"text":"x"}}`,
		"token not number": `{"event":"message","message_token":"abc","sender":{"id":"a="},"message":{"text":"x"}}`,
	} {
		if res, err := Read([]byte(body), "b", received); err == nil {
			t.Errorf("%s: Read = %+v, want an error", name, res)
		}
	}
	for _, ev := range []string{"webhook", "subscribed", "delivered", "seen"} {
		res, err := Read([]byte(`{"event":"`+ev+`","timestamp":1793610060000,"message_token":1}`), "b", received)
		if err != nil || res.Ignored != 1 {
			t.Errorf("%s: Read = %+v, %v; want ignored", ev, res, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(sample(f, "viber_conversation_started.json", "AQIDBAUGBw", ""))
	f.Add(sample(f, "viber_message.json", "", "hi"))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := Read(body, "b", received)
		if err != nil {
			return
		}
		for _, in := range res.Messages {
			if !strings.HasPrefix(in.Chat, "viber:") || in.MessageID == "" || in.Time.IsZero() {
				t.Fatalf("message %+v", in)
			}
		}
		for _, h := range res.Holds {
			if !strings.HasPrefix(h.Chat, "viber:") || h.Code == "" {
				t.Fatalf("hold %+v", h)
			}
		}
	})
}
