package ids

import (
	"errors"
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	c := newTestCodec(t, secretA)
	if c.VisitID(0) != "" || c.Token(0) != "" || c.Emoji(0) != "" || c.Invisible(0) != "" || c.Start(0) != "" {
		t.Fatal("0 got a code")
	}
	for _, n := range append(sampleNumbers(t, c), 1, 1<<32, ^uint64(0)) {
		id := c.VisitID(n)
		if c.Token(n) != "#"+id {
			t.Fatalf("Token(%d) = %q, VisitID = %q", n, c.Token(n), id)
		}
		if strings.Trim(id, tokenAlphabet) != "" {
			t.Fatalf("VisitID(%d) = %q uses symbols outside the alphabet", n, id)
		}
		if id[0] <= '9' {
			t.Fatalf("VisitID(%d) = %q starts with a digit", n, id)
		}
		got, err := c.ParseVisitID(id)
		if err != nil || got != n {
			t.Fatalf("ParseVisitID(%q) = %d, %v; want %d", id, got, err, n)
		}
	}
}

// mutate returns id with its i-th character replaced by the next alphabet
// symbol that reads differently.
func mutate(id string, i int) string {
	v := strings.IndexByte(tokenAlphabet, id[i])
	return id[:i] + string(tokenAlphabet[(v+7)%32]) + id[i+1:]
}

func TestParseVisitID(t *testing.T) {
	c := newTestCodec(t, secretA)
	n := c.Number(3)
	id := c.VisitID(n)
	// A code with an O/I/L-confusable symbol: find a small number whose
	// token has a 0 and a 1 in it.
	var confusable uint64
	for counter := uint64(1); ; counter++ {
		m := c.Number(counter)
		v := c.VisitID(m)
		if strings.Contains(v, "0") && strings.Contains(v, "1") {
			confusable = m
			break
		}
	}
	cid := c.VisitID(confusable)
	other := newTestCodec(t, secretB)
	tests := []struct {
		name    string
		in      string
		want    uint64
		wantErr error
	}{
		{name: "as minted", in: id, want: n},
		{name: "with marker", in: "#" + id, want: n},
		{name: "surrounding spaces", in: "  #" + id + "\n", want: n},
		{name: "lower case", in: strings.ToLower(id), want: n},
		{name: "mixed case", in: "#" + strings.ToLower(id[:3]) + id[3:], want: n},
		{name: "O for zero", in: strings.ReplaceAll(cid, "0", "O"), want: confusable},
		{name: "lower o for zero", in: strings.ReplaceAll(cid, "0", "o"), want: confusable},
		{name: "I for one", in: strings.ReplaceAll(cid, "1", "I"), want: confusable},
		{name: "L for one", in: strings.ReplaceAll(cid, "1", "L"), want: confusable},
		{name: "lower l for one", in: strings.ReplaceAll(cid, "1", "l"), want: confusable},
		{name: "changed first symbol", in: mutate(id, 0), wantErr: ErrCheck},
		{name: "changed middle symbol", in: mutate(id, 3), wantErr: ErrCheck},
		{name: "changed check symbol", in: mutate(id, len(id)-1), wantErr: ErrCheck},
		{name: "swapped neighbours", in: swapFirstDistinct(id), wantErr: ErrCheck},
		{name: "truncated by one", in: id[:len(id)-1], wantErr: ErrLength},
		{name: "first symbol lost", in: id[1:], wantErr: ErrLength},
		{name: "extra symbol", in: id + "7", wantErr: ErrCheck},
		{name: "pasted twice", in: id + id, wantErr: ErrCheck},
		{name: "pasted twice with space", in: id + " " + id, wantErr: ErrSymbol},
		{name: "U is not a symbol", in: "U" + id[1:], wantErr: ErrSymbol},
		{name: "hyphenated", in: id[:3] + "-" + id[3:], wantErr: ErrSymbol},
		{name: "empty", in: "", wantErr: ErrEmpty},
		{name: "bare marker", in: " # ", wantErr: ErrEmpty},
		{name: "all zeros", in: "000000", wantErr: ErrCheck},
		{name: "another site's token", in: other.VisitID(other.Number(3)), wantErr: ErrCheck},
		{name: "html", in: "<b>" + id + "</b>", wantErr: ErrSymbol},
		{name: "csv formula", in: "=HYPERLINK(\"x\")", wantErr: ErrSymbol},
		{name: "control characters", in: id[:3] + "\x00\x1b" + id[3:], wantErr: ErrSymbol},
		{name: "non-ASCII", in: "K7Q2Мé", wantErr: ErrSymbol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.ParseVisitID(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseVisitID(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Fatalf("ParseVisitID(%q) = %d, want %d", tt.in, got, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "ids.ParseVisitID: ") {
				t.Errorf("error %q does not name the operation", err)
			}
		})
	}
}

// swapFirstDistinct swaps the first two neighbouring symbols that differ.
func swapFirstDistinct(id string) string {
	b := []byte(id)
	for i := 0; i+1 < len(b); i++ {
		if b[i] != b[i+1] {
			b[i], b[i+1] = b[i+1], b[i]
			break
		}
	}
	return string(b)
}

// TestParseVisitIDRejectsNonCanonical: a number padded to a longer token
// than it needs, even with correct check symbols, is refused, so every
// number has one spelling.
func TestParseVisitIDRejectsNonCanonical(t *testing.T) {
	c := newTestCodec(t, secretA)
	for _, tt := range []struct {
		name string
		data []uint8
	}{
		{name: "zero", data: []uint8{0, 0, 0, 0}},
		{name: "starts with a digit", data: []uint8{0, 1, 2, 3, 4}},
		{name: "starts with one", data: []uint8{1, 31, 31, 31}},
		{name: "65 bits", data: []uint8{31, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sym := append([]uint8(nil), tt.data...)
			c1, c0 := gf32.checkSymbols(sym, c.tokenTarget[len(sym)])
			sym = append(sym, c1, c0)
			var b strings.Builder
			for _, v := range sym {
				b.WriteByte(tokenAlphabet[v])
			}
			if _, err := c.ParseVisitID(b.String()); !errors.Is(err, ErrNotCanonical) {
				t.Fatalf("ParseVisitID(%q) error = %v, want ErrNotCanonical", b.String(), err)
			}
		})
	}
}
