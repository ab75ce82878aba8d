package vk

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

func TestReadMessageNewCarriesTheRef(t *testing.T) {
	in, err := Read(sample(t, "vk_message_new_ref.json", "AQIDBAUGBw", "Hello"), "demoshop", received)
	if err != nil || in == nil {
		t.Fatalf("Read = %v, %v", in, err)
	}
	if in.Chat != "vk:700000001" || in.Target != "vk:demoshop" || !in.HasStart || in.Start != "AQIDBAUGBw" ||
		in.Text != "Hello" || in.MessageID != "vk:123456:101" || !in.Time.Equal(time.Unix(1793610060, 0)) {
		t.Fatalf("message %+v", in)
	}
}

func TestReadWithoutRefHasNoStart(t *testing.T) {
	in, err := Read(sample(t, "vk_message_new_ref.json", "", "Hello"), "demoshop", received)
	if err != nil || in == nil || in.HasStart {
		t.Fatalf("Read = %+v, %v", in, err)
	}
}

func TestReadIgnoresWhatIsNobodyWriting(t *testing.T) {
	for name, body := range map[string]string{
		"group chat":       `{"type":"message_new","group_id":1,"object":{"message":{"id":5,"from_id":7,"peer_id":2000000001,"text":"hi"}}}`,
		"community writes": `{"type":"message_new","group_id":1,"object":{"message":{"id":5,"from_id":7,"peer_id":7,"out":1,"text":"hi"}}}`,
		"reply event":      `{"type":"message_reply","group_id":1,"object":{"id":5}}`,
		"join":             `{"type":"group_join","group_id":1,"object":{"user_id":7}}`,
	} {
		in, err := Read([]byte(body), "c", received)
		if err != nil || in != nil {
			t.Errorf("%s: Read = %+v, %v; want ignored", name, in, err)
		}
	}
}

func TestReadRefusesWhatIsNoEvent(t *testing.T) {
	for name, body := range map[string]string{
		"not json":     `{"type":`,
		"no type":      `{"group_id":1}`,
		"old version":  `{"type":"message_new","group_id":1,"object":{"id":5,"from_id":7,"peer_id":7}}`,
		"wrong type":   `{"type":"message_new","group_id":"one"}`,
		"empty body":   ``,
		"wrong fields": `{"type":"message_new","object":{"message":{"id":"x"}}}`,
	} {
		if in, err := Read([]byte(body), "c", received); err == nil {
			t.Errorf("%s: Read = %+v, want an error", name, in)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(sample(f, "vk_message_new_ref.json", "AQIDBAUGBw", "hi"))
	f.Add(sample(f, "vk_confirmation.json", "", ""))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := Read(body, "c", received)
		if err != nil && in != nil {
			t.Fatal("a message and an error")
		}
		if in != nil && (!strings.HasPrefix(in.Chat, "vk:") || in.MessageID == "" || in.Time.IsZero()) {
			t.Fatalf("message %+v", in)
		}
	})
}
