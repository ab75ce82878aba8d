package ids

import (
	"errors"
	"strings"
	"testing"
)

// Fuzz targets. Run each with, for example:
//
//	go test ./ids -run=^$ -fuzz=FuzzFind -fuzztime=60s
//
// Inputs they found interesting are kept in testdata/fuzz.

func FuzzTokenRoundTrip(f *testing.F) {
	c := newTestCodec(f, secretA)
	for _, n := range []uint64{1, 720_896, 720_897, Cycle, Cycle + 1, ^uint64(0)} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n uint64) {
		if n == 0 {
			return
		}
		id := c.VisitID(n)
		got, err := c.ParseVisitID(id)
		if err != nil || got != n {
			t.Fatalf("ParseVisitID(VisitID(%d) = %q) = %d, %v", n, id, got, err)
		}
		if got, err := c.ParseVisitID(strings.ToLower(c.Token(n))); err != nil || got != n {
			t.Fatalf("lower-case token of %d: %d, %v", n, got, err)
		}
		found := c.Find("x " + c.Token(n) + " y")
		if n <= Cycle && (len(found) != 1 || found[0].N != n || found[0].Format != Token) {
			t.Fatalf("Find(Token(%d)) = %+v", n, found)
		}
	})
}

func FuzzEmojiRoundTrip(f *testing.F) {
	c := newTestCodec(f, secretA)
	for _, n := range []uint64{1, 1<<24 - 1, 1 << 24, Cycle} {
		f.Add(n, " ")
	}
	f.Fuzz(func(t *testing.T, n uint64, gap string) {
		n = n%Cycle + 1
		code := c.Emoji(n)
		// Put the fuzzed gap between the emoji; when it is made only of
		// characters allowed between emoji, the code must still read.
		allowed := true
		for i := 0; i < len(gap); {
			g := emojiGap(gap, i)
			if g == 0 {
				allowed = false
				break
			}
			i += g
		}
		spread := strings.Join(emojiSplit(code), gap)
		found := c.Find(spread)
		if allowed && (len(found) != 1 || found[0].N != n) {
			t.Fatalf("Find(%q) = %+v, want %d", spread, found, n)
		}
		for _, fd := range found {
			if fd.N != n && fd.Format == Emoji && allowed {
				t.Fatalf("Find(%q) reported %d", spread, fd.N)
			}
		}
	})
}

func FuzzStartRoundTrip(f *testing.F) {
	a := newTestCodec(f, secretA)
	b := newTestCodec(f, secretB)
	f.Add(uint64(1))
	f.Add(uint64(Cycle))
	f.Add(^uint64(0))
	f.Fuzz(func(t *testing.T, n uint64) {
		if n == 0 {
			return
		}
		p := a.Start(n)
		if !startPattern.MatchString(p) {
			t.Fatalf("Start(%d) = %q", n, p)
		}
		got, err := a.ParseStart(p)
		if err != nil || got != n {
			t.Fatalf("ParseStart(Start(%d)) = %d, %v", n, got, err)
		}
		if _, err := b.ParseStart(p); !errors.Is(err, ErrForged) {
			t.Fatalf("another site accepted Start(%d): %v", n, err)
		}
	})
}

func FuzzInvisibleRoundTrip(f *testing.F) {
	c := newTestCodec(f, secretA)
	f.Add(uint64(1), true)
	f.Add(uint64(Cycle), false)
	f.Fuzz(func(t *testing.T, n uint64, emoji bool) {
		n = n%Cycle + 1
		style := CodeStyle{emoji: emoji, invisible: true}
		code := c.Code(n, style)
		found := c.Find(code)
		if len(found) != 2 || found[0].Format != Invisible || found[1].Format != style.Visible() || found[0].N != n || found[1].N != n {
			t.Fatalf("Find(Code(%d, %v)) = %+v", n, style, found)
		}
	})
}

// FuzzFind: Find never panics, reports codes in order, inside the text, on
// character boundaries, and every reported code reads the same way alone.
func FuzzFind(f *testing.F) {
	c := newTestCodec(f, secretA)
	n := c.Number(5)
	f.Add("Hello! My request code: " + c.Token(n))
	f.Add("Здравствуйте! " + c.Code(n, CodeStyle{emoji: true, invisible: true}))
	f.Add("/start " + c.Start(n))
	f.Add("#SALE2024 #12345678 🍀🐙🎈\uFE0F")
	f.Add("\xf0\x9f\x90")
	f.Fuzz(func(t *testing.T, text string) {
		found := c.Find(text)
		prevEnd := 0
		for _, fd := range found {
			if fd.Start < prevEnd || fd.End <= fd.Start || fd.End > len(text) {
				t.Fatalf("Find(%q) = %+v: bad range", text, found)
			}
			prevEnd = fd.End
			if fd.N == 0 || fd.N > Cycle {
				t.Fatalf("Find(%q) reported %d outside the code space", text, fd.N)
			}
			part := text[fd.Start:fd.End]
			var again []Found
			if fd.Format == Start {
				again = c.Find("/start " + part)
			} else {
				again = c.Find(part)
			}
			if len(again) != 1 || again[0].N != fd.N || again[0].Format != fd.Format {
				t.Fatalf("code %q from %q reads as %+v alone", part, text, again)
			}
		}
	})
}

// FuzzParse: the parsers never panic, and whatever they accept is exactly
// what the encoder writes for that number, up to case and confusions.
func FuzzParse(f *testing.F) {
	c := newTestCodec(f, secretA)
	f.Add(c.VisitID(c.Number(1)))
	f.Add(c.Start(c.Number(1)))
	f.Add("#o1lI0")
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := c.ParseVisitID(s); err == nil {
			canon := strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(strings.ToUpper(strings.TrimPrefix(strings.TrimSpace(s), "#")))
			if canon != c.VisitID(n) {
				t.Fatalf("ParseVisitID(%q) = %d but VisitID = %q", s, n, c.VisitID(n))
			}
		}
		if n, err := c.ParseStart(s); err == nil && c.Start(n) != strings.TrimSpace(s) {
			t.Fatalf("ParseStart(%q) = %d but Start = %q", s, n, c.Start(n))
		}
	})
}
