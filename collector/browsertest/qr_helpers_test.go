package browsertest

import (
	"net/url"
	"testing"

	"github.com/messtrack/messtrack/ids"
)

// linkVisit finds the visit number a chat link carries, the way the matcher
// will: the start parameter of a bot link, else the code in the text.
func linkVisit(t testing.TB, codec *ids.Codec, link string) uint64 {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("chat link %q: %v", link, err)
	}
	q := u.Query()
	if u.Host == "t.me" && q.Has("start") {
		n, err := codec.ParseStart(q.Get("start"))
		if err != nil {
			t.Fatalf("start payload of %q: %v", link, err)
		}
		return n
	}
	found := codec.Find(q.Get("text"))
	if len(found) != 1 {
		t.Fatalf("text of %q holds %d codes, want 1", link, len(found))
	}
	return found[0].N
}
