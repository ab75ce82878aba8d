package max

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

func TestReadBotStartedCarriesThePayload(t *testing.T) {
	in, err := Read(sample(t, "max_bot_started.json", "AQIDBAUGBw", ""), "demo_shop_bot", received)
	if err != nil || in == nil {
		t.Fatalf("Read = %v, %v", in, err)
	}
	if in.Chat != "max:5100001" || in.Target != "max:demo_shop_bot" || !in.HasStart || in.Start != "AQIDBAUGBw" ||
		in.Language != "ru" || in.Name != "Visitor M" || in.Messenger != "max" {
		t.Fatalf("message %+v", in)
	}
	if want := time.Date(2026, 11, 2, 9, 1, 0, 0, time.UTC); !in.Time.Equal(want) {
		t.Fatalf("time %v, want the update's %v", in.Time, want)
	}
	if in.MessageID == "" {
		t.Fatal("no message ID: a redelivered bot_started would count twice")
	}
}

func TestReadMessageCreated(t *testing.T) {
	in, err := Read(sample(t, "max_message_created.json", "", "Hello #K7Q2M9"), "demo_shop_bot", received)
	if err != nil || in == nil {
		t.Fatalf("Read = %v, %v", in, err)
	}
	if in.Chat != "max:5100001" || in.Text != "Hello #K7Q2M9" || in.HasStart || in.MessageID != "max:mid.0000000000a1b2c3" {
		t.Fatalf("message %+v", in)
	}
}

func TestReadIgnoresWhatIsNobodyWriting(t *testing.T) {
	for name, body := range map[string]string{
		"group chat":   `{"update_type":"message_created","timestamp":1,"message":{"sender":{"user_id":1},"recipient":{"chat_id":2,"chat_type":"chat"},"body":{"mid":"m1","text":"hi"}}}`,
		"a bot writes": `{"update_type":"message_created","timestamp":1,"message":{"sender":{"user_id":1,"is_bot":true},"recipient":{"chat_id":2,"chat_type":"dialog"},"body":{"mid":"m1","text":"hi"}}}`,
		"bot removed":  `{"update_type":"bot_removed","timestamp":1,"chat_id":2,"user":{"user_id":1}}`,
		"no user":      `{"update_type":"bot_started","timestamp":1,"chat_id":2}`,
	} {
		in, err := Read([]byte(body), "b", received)
		if err != nil || in != nil {
			t.Errorf("%s: Read = %+v, %v; want ignored", name, in, err)
		}
	}
}

func TestReadRefusesWhatIsNoUpdate(t *testing.T) {
	for name, body := range map[string]string{
		"not json":       `{"update_type":`,
		"no type":        `{"timestamp":1}`,
		"wrong type":     `{"update_type":"bot_started","user":{"user_id":"x"}}`,
		"empty":          ``,
		"array":          `[]`,
		"hostile string": `{"update_type":"bot_started","user":{"user_id":1},"payload":"\u202e<script>"}`,
	} {
		in, err := Read([]byte(body), "b", received)
		if name == "hostile string" {
			// A payload that is no code is kept as it came; the codec refuses it.
			if err != nil || in == nil || in.Start != "\u202e<script>" {
				t.Errorf("%s: Read = %+v, %v", name, in, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: Read = %+v, want an error", name, in)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(sample(f, "max_bot_started.json", "AQIDBAUGBw", ""))
	f.Add(sample(f, "max_message_created.json", "", "hi"))
	f.Add([]byte(`{"update_type":"bot_started","user":{"user_id":1},"payload":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := Read(body, "b", received)
		if err != nil && in != nil {
			t.Fatal("a message and an error")
		}
		if in != nil && (!strings.HasPrefix(in.Chat, "max:") || in.MessageID == "" || in.Time.IsZero() || in.Time.After(received.Add(5*time.Minute))) {
			t.Fatalf("message %+v", in)
		}
	})
}
