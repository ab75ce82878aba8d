package ids

import (
	"errors"
	"testing"
)

func TestNewCodec(t *testing.T) {
	tests := []struct {
		name    string
		secret  []byte
		wantErr error
	}{
		{name: "nil secret", secret: nil, wantErr: ErrSecretTooShort},
		{name: "15 bytes", secret: []byte("123456789012345"), wantErr: ErrSecretTooShort},
		{name: "16 bytes", secret: []byte("1234567890123456")},
		{name: "binary secret", secret: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xFF}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCodec(tt.secret)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewCodec error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && c == nil {
				t.Fatal("NewCodec returned nil Codec without error")
			}
			if tt.wantErr != nil && c != nil {
				t.Fatal("NewCodec returned a Codec with an error")
			}
		})
	}
}

func TestNumberLengthsFollowTheCounter(t *testing.T) {
	c := newTestCodec(t, secretA)
	tests := []struct {
		name       string
		counter    uint64
		wantLo     uint64
		wantHi     uint64
		tokenLen   int // VisitID length: data + 2 check symbols
		emojiCount int
	}{
		{name: "first visit", counter: 1, wantLo: 1, wantHi: tier1End, tokenLen: 6, emojiCount: 6},
		{name: "end of the first tier", counter: tier1End, wantLo: 1, wantHi: tier1End, tokenLen: 6, emojiCount: 6},
		{name: "second tier", counter: tier1End + 1, wantLo: tier1End + 1, wantHi: tier2End, tokenLen: 7, emojiCount: 0},
		{name: "one million", counter: 1_000_000, wantLo: tier1End + 1, wantHi: tier2End, tokenLen: 7, emojiCount: 0},
		{name: "third tier", counter: tier2End + 1, wantLo: tier2End + 1, wantHi: Cycle, tokenLen: 8, emojiCount: 7},
		{name: "end of cycle", counter: Cycle, wantLo: tier2End + 1, wantHi: Cycle, tokenLen: 8, emojiCount: 7},
		{name: "wraps to the start", counter: Cycle + 1, wantLo: 1, wantHi: tier1End, tokenLen: 6, emojiCount: 6},
		{name: "counter zero", counter: 0, wantLo: tier2End + 1, wantHi: Cycle, tokenLen: 8, emojiCount: 7},
		{name: "largest counter", counter: ^uint64(0), wantLo: 1, wantHi: Cycle, tokenLen: 0, emojiCount: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := c.Number(tt.counter)
			if n < tt.wantLo || n > tt.wantHi {
				t.Fatalf("Number(%d) = %d, want in [%d, %d]", tt.counter, n, tt.wantLo, tt.wantHi)
			}
			if tt.tokenLen != 0 && len(c.VisitID(n)) != tt.tokenLen {
				t.Errorf("VisitID(%d) = %q, want %d characters", n, c.VisitID(n), tt.tokenLen)
			}
			if tt.emojiCount != 0 && len(c.Emoji(n))/4 != tt.emojiCount {
				t.Errorf("Emoji(%d) = %q, want %d emoji", n, c.Emoji(n), tt.emojiCount)
			}
		})
	}
}

// The last numbers of the first two length tiers.
const (
	tier1End = 22 * 32 * 32 * 32
	tier2End = tier1End + 22*32*32*32*32
)

func TestCycle(t *testing.T) {
	if Cycle != tier2End+22<<25 {
		t.Fatalf("Cycle = %d", uint64(Cycle))
	}
	c := newTestCodec(t, secretA)
	for _, n := range []uint64{1, tier1End, tier1End + 1, tier2End, tier2End + 1, Cycle} {
		t.Logf("n=%d token %s", n, c.Token(n))
	}
	if len(c.VisitID(Cycle)) != 8 || len(c.VisitID(Cycle+1)) != 9 {
		t.Fatalf("the code space does not end where six data symbols end")
	}
}

func TestNumberWrapsWithCycle(t *testing.T) {
	c := newTestCodec(t, secretA)
	for _, counter := range []uint64{1, 5, 1 << 20, 1 << 29, Cycle - 1} {
		if a, b := c.Number(counter), c.Number(counter+Cycle); a != b {
			t.Errorf("Number(%d) = %d but Number(%d+Cycle) = %d", counter, a, counter, b)
		}
	}
}

// TestNumberIsBijectionOnFirstTier walks all 720,896 numbers of the first
// tier: every counter gets its own number, so no two live visits share a code.
func TestNumberIsBijectionOnFirstTier(t *testing.T) {
	c := newTestCodec(t, secretA)
	seen := make([]bool, tier1End+1)
	for counter := uint64(1); counter <= tier1End; counter++ {
		n := c.Number(counter)
		if n == 0 || n > tier1End {
			t.Fatalf("Number(%d) = %d, outside the first tier", counter, n)
		}
		if seen[n] {
			t.Fatalf("Number(%d) = %d, already given to an earlier counter", counter, n)
		}
		seen[n] = true
	}
}

// TestNumberUniqueInUpperTiers samples runs of consecutive counters in the
// larger tiers, where an exhaustive walk would be too slow for every run.
func TestNumberUniqueInUpperTiers(t *testing.T) {
	c := newTestCodec(t, secretA)
	for _, start := range []uint64{tier1End + 1, tier2End - 100_000, Cycle - 200_000} {
		seen := make(map[uint64]uint64, 200_000)
		for counter := start; counter < start+200_000; counter++ {
			n := c.Number(counter)
			if prev, dup := seen[n]; dup {
				t.Fatalf("Number(%d) = Number(%d) = %d", counter, prev, n)
			}
			seen[n] = counter
			if tokenDataLen(n) != tokenDataLen(counter) {
				t.Fatalf("Number(%d) = %d changed the token length", counter, n)
			}
		}
	}
}

// TestNumberDoesNotLookSequential: consecutive counters give numbers that
// differ in about half their bits, and the two sites' sequences differ.
func TestNumberDoesNotLookSequential(t *testing.T) {
	a := newTestCodec(t, secretA)
	b := newTestCodec(t, secretB)
	const visits = 10_000
	var ascending, same int
	prev := a.Number(1)
	for counter := uint64(2); counter <= visits; counter++ {
		n := a.Number(counter)
		if n == prev+1 || n == prev-1 {
			ascending++
		}
		if n == b.Number(counter) {
			same++
		}
		prev = n
	}
	// For a random permutation of 720,896 numbers, neighbours differ by 1
	// with probability about 3e-6: 10,000 draws expect 0.03 such pairs.
	if ascending > 2 {
		t.Errorf("%d of %d consecutive counters gave neighbouring numbers", ascending, visits)
	}
	if same > 2 {
		t.Errorf("%d of %d counters gave the same number on two sites", same, visits)
	}
}

func TestCodecIsDeterministic(t *testing.T) {
	a1 := newTestCodec(t, secretA)
	a2 := newTestCodec(t, append([]byte(nil), secretA...))
	for counter := uint64(1); counter < 1000; counter++ {
		n := a1.Number(counter)
		if n != a2.Number(counter) || a1.Start(n) != a2.Start(n) {
			t.Fatalf("two Codecs with one secret disagree at counter %d", counter)
		}
	}
}

func TestFormatString(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		want   string
	}{
		{name: "token", format: Token, want: "token"},
		{name: "emoji", format: Emoji, want: "emoji"},
		{name: "start", format: Start, want: "start"},
		{name: "invisible", format: Invisible, want: "invisible"},
		{name: "zero", format: 0, want: "Format(0)"},
		{name: "unknown", format: 9, want: "Format(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.format.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseCodeStyle(t *testing.T) {
	tests := []struct {
		name          string
		in            string
		wantVisible   Format
		wantInvisible bool
		wantErr       error
	}{
		{name: "token", in: "token", wantVisible: Token},
		{name: "emoji", in: "emoji", wantVisible: Emoji},
		{name: "invisible token", in: "invisible+token", wantVisible: Token, wantInvisible: true},
		{name: "invisible emoji", in: "invisible+emoji", wantVisible: Emoji, wantInvisible: true},
		{name: "empty", in: "", wantErr: ErrUnknownStyle},
		{name: "invisible alone", in: "invisible", wantErr: ErrUnknownStyle},
		{name: "start is not a message style", in: "start", wantErr: ErrUnknownStyle},
		{name: "upper case", in: "TOKEN", wantErr: ErrUnknownStyle},
		{name: "reversed", in: "token+invisible", wantErr: ErrUnknownStyle},
		{name: "html", in: "<script>token</script>", wantErr: ErrUnknownStyle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseCodeStyle(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseCodeStyle(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if s.Visible() != tt.wantVisible || s.Invisible() != tt.wantInvisible {
				t.Errorf("ParseCodeStyle(%q) = %v/%v, want %v/%v", tt.in, s.Visible(), s.Invisible(), tt.wantVisible, tt.wantInvisible)
			}
			if s.String() != tt.in {
				t.Errorf("String() = %q, want %q", s.String(), tt.in)
			}
		})
	}
	var zero CodeStyle
	if zero.String() != "token" {
		t.Errorf("zero CodeStyle is %q, want token", zero.String())
	}
}

func TestCode(t *testing.T) {
	c := newTestCodec(t, secretA)
	n := c.Number(42)
	tests := []struct {
		style string
		want  string
	}{
		{style: "token", want: c.Token(n)},
		{style: "emoji", want: c.Emoji(n)},
		{style: "invisible+token", want: c.Invisible(n) + c.Token(n)},
		{style: "invisible+emoji", want: c.Invisible(n) + c.Emoji(n)},
	}
	for _, tt := range tests {
		t.Run(tt.style, func(t *testing.T) {
			s, err := ParseCodeStyle(tt.style)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Code(n, s)
			if got != tt.want {
				t.Fatalf("Code = %q, want %q", got, tt.want)
			}
			found := c.Find("Hello! My request code: " + got)
			if len(found) == 0 {
				t.Fatalf("Find found nothing in the code of style %s", tt.style)
			}
			for _, f := range found {
				if f.N != n {
					t.Errorf("Find reported %v number %d, want %d", f.Format, f.N, n)
				}
			}
		})
	}
}
