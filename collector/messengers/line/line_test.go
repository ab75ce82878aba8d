package line

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var received = time.Date(2026, 11, 2, 9, 5, 0, 0, time.UTC)

func sample(t testing.TB, name, text string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "platform-samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), "__TEXT__", text))
}

func TestReadText(t *testing.T) {
	res, err := Read(sample(t, "line_text.json", "Hello! My request code: #K7Q2M9"), "demoshop", received)
	if err != nil || len(res.Messages) != 1 {
		t.Fatalf("Read = %+v, %v", res, err)
	}
	in := res.Messages[0]
	if in.Chat != "line:U4af4980629a0b1c2d3e4f5a6b7c8d9e0" || in.MessageID != "line:01H810YECXQQZ37VAXPF6H9E6T" ||
		in.Text != "Hello! My request code: #K7Q2M9" || in.Target != "line:demoshop" || in.HasStart {
		t.Fatalf("message %+v", in)
	}
}

func TestReadVerifyRequestHasNothing(t *testing.T) {
	res, err := Read(sample(t, "line_verify.json", ""), "demoshop", received)
	if err != nil || len(res.Messages) != 0 || res.Ignored != 0 {
		t.Fatalf("Read = %+v, %v", res, err)
	}
}

func TestReadIgnoresAndRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"group message": `{"events":[{"type":"message","webhookEventId":"01A","timestamp":1,"source":{"type":"group","groupId":"C1","userId":"U4af4980629a0b1c2d3e4f5a6b7c8d9e0"},"message":{"id":"1","type":"text","text":"hi"}}]}`,
		"follow":        `{"events":[{"type":"follow","webhookEventId":"01A","timestamp":1,"source":{"type":"user","userId":"U4af4980629a0b1c2d3e4f5a6b7c8d9e0"}}]}`,
		"odd user id":   `{"events":[{"type":"message","webhookEventId":"01A","timestamp":1,"source":{"type":"user","userId":"U:1"},"message":{"id":"1","type":"text","text":"hi"}}]}`,
	} {
		res, err := Read([]byte(body), "a", received)
		if err != nil || res.Ignored != 1 || len(res.Messages) != 0 {
			t.Errorf("%s: Read = %+v, %v; want ignored", name, res, err)
		}
	}
	for name, body := range map[string]string{
		"not json":  `{"events":`,
		"no events": `{"destination":"U1"}`,
		"wrong":     `{"events":{}}`,
	} {
		if res, err := Read([]byte(body), "a", received); err == nil {
			t.Errorf("%s: Read = %+v, want an error", name, res)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(sample(f, "line_text.json", "hi"))
	f.Add(sample(f, "line_verify.json", ""))
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := Read(body, "a", received)
		if err != nil {
			return
		}
		for _, in := range res.Messages {
			if !strings.HasPrefix(in.Chat, "line:U") || in.MessageID == "" || in.Time.IsZero() {
				t.Fatalf("message %+v", in)
			}
		}
	})
}
