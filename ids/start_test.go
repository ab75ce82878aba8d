package ids

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"regexp"
	"strings"
	"testing"
)

var startPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func TestStartRoundTrip(t *testing.T) {
	c := newTestCodec(t, secretA)
	for _, n := range append(sampleNumbers(t, c), 1, 255, 256, 1<<32, ^uint64(0)) {
		p := c.Start(n)
		if !startPattern.MatchString(p) {
			t.Fatalf("Start(%d) = %q is not a valid Telegram start parameter", n, p)
		}
		got, err := c.ParseStart(p)
		if err != nil || got != n {
			t.Fatalf("ParseStart(%q) = %d, %v; want %d", p, got, err, n)
		}
	}
}

// TestStartMACIsHMAC pins the hand-rolled, allocation-free HMAC to the
// standard library's.
func TestStartMACIsHMAC(t *testing.T) {
	c := newTestCodec(t, secretA)
	key := derive(secretA, "messtrack/ids/start/v1")
	for _, n := range []uint64{1, 610582, Cycle, ^uint64(0)} {
		m := hmac.New(sha256.New, key[:])
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], n)
		m.Write(b[:])
		want := m.Sum(nil)[:startMACLen]
		got := c.startMAC(n)
		if !hmac.Equal(got[:], want) {
			t.Fatalf("startMAC(%d) = %x, want %x", n, got, want)
		}
	}
}

func TestParseStart(t *testing.T) {
	c := newTestCodec(t, secretA)
	other := newTestCodec(t, secretB)
	n := c.Number(9)
	p := c.Start(n)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name    string
		in      string
		want    uint64
		wantErr error
	}{
		{name: "as minted", in: p, want: n},
		{name: "surrounding space", in: " " + p + "\n", want: n},
		{name: "other site's payload", in: other.Start(n), wantErr: ErrForged},
		{name: "other site's payload for its own visit", in: other.Start(other.Number(9)), wantErr: ErrForged},
		{name: "first character changed", in: flip(p, 0), wantErr: ErrForged},
		{name: "last character changed", in: flip(p, len(p)-2), wantErr: ErrForged},
		{name: "case changed", in: strings.ToUpper(p), wantErr: ErrForged},
		{name: "truncated", in: p[:len(p)-2], wantErr: ErrNotCanonical},
		{name: "truncated by one", in: p[:len(p)-1], wantErr: ErrNotCanonical},
		{name: "pasted twice", in: p + p, wantErr: ErrLength},
		{name: "fixture payload", in: "v1_Ab3dE-9xYz", wantErr: ErrLength},
		{name: "fixture-like payload", in: "v1_Ab3dE-9xY", wantErr: ErrForged},
		{name: "someone else's deep link", in: "airplane", wantErr: ErrLength},
		{name: "empty", in: "", wantErr: ErrEmpty},
		{name: "slash", in: "abc/def", wantErr: ErrSymbol},
		{name: "html", in: "<script>", wantErr: ErrSymbol},
		{name: "csv formula", in: "=cmd|' /C calc'!A0", wantErr: ErrSymbol},
		{name: "control character", in: "AAAA\x00AAAAAA", wantErr: ErrSymbol},
		{name: "64 characters", in: strings.Repeat("A", 64), wantErr: ErrLength},
		{name: "padded number", in: "AAAAAAAAAAAAAAAA", wantErr: ErrNotCanonical},
		{name: "token instead", in: c.VisitID(n), wantErr: ErrLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.ParseStart(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseStart(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Fatalf("ParseStart(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// TestStartForgeryAcrossManyVisits: none of 20,000 of one site's payloads
// verifies on another site, and no payload verifies for a neighbour number.
func TestStartForgeryAcrossManyVisits(t *testing.T) {
	a := newTestCodec(t, secretA)
	b := newTestCodec(t, secretB)
	for counter := uint64(1); counter <= 20_000; counter++ {
		n := a.Number(counter)
		if _, err := b.ParseStart(a.Start(n)); !errors.Is(err, ErrForged) {
			t.Fatalf("site B accepted site A's payload for %d: %v", n, err)
		}
	}
}
