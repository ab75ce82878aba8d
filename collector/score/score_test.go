package score

import (
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/visit"
)

func TestScoreCandidate(t *testing.T) {
	at := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	us := Signals{Country: "US", Zones: []string{"America/New_York"}}
	tests := []struct {
		name string
		sig  Signals
		v    visit.Visit
		gap  time.Duration
		want float64 // weight, to 4 places
	}{
		{name: "no signals, at once", v: visit.Visit{}, gap: 0, want: 1},
		{name: "no signals, a minute", v: visit.Visit{}, gap: time.Minute, want: timeWeight(time.Minute)},
		{name: "country and zone match", sig: us, v: visit.Visit{Country: "US", TimeZone: "America/New_York"}, gap: 0, want: countryMatch * zoneMatch},
		{name: "zone alias of the same offset", sig: us, v: visit.Visit{Country: "US", TimeZone: "America/Detroit"}, gap: 0, want: countryMatch * zoneMatch},
		{name: "geo zone when the browser gives none", sig: us, v: visit.Visit{Country: "US", GeoTimeZone: "America/Los_Angeles"}, gap: 0, want: countryMatch * zoneMismatch},
		{name: "country mismatch", sig: us, v: visit.Visit{Country: "DE", TimeZone: "Europe/Berlin"}, gap: 0, want: countryMismatch},
		{name: "unknown visit country", sig: us, v: visit.Visit{}, gap: 0, want: 1},
		{name: "language match", sig: Signals{Language: "ru"}, v: visit.Visit{Language: "ru-RU"}, gap: 0, want: langMatch},
		{name: "language mismatch", sig: Signals{Language: "en"}, v: visit.Visit{Language: "pt-BR"}, gap: 0, want: langMismatch},
		{name: "click after the whole-second timestamp", v: visit.Visit{}, gap: -time.Second, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Score(tc.sig, &tc.v, tc.gap, at)
			if got := round4(c.Weight); got != round4(tc.want) {
				t.Errorf("weight %.4f, want %.4f (%v)", c.Weight, tc.want, c.Reasons)
			}
		})
	}
}

func round4(f float64) float64 { return float64(int64(f*1e4+0.5)) / 1e4 }

func TestSignalsOf(t *testing.T) {
	tests := []struct {
		name string
		in   struct{ Country, Phone string }
		want string
		zone string
	}{
		{name: "US number", in: struct{ Country, Phone string }{Phone: "12125550123"}, want: "US", zone: "America/New_York"},
		{name: "German mobile", in: struct{ Country, Phone string }{Phone: "4915123456789"}, want: "DE", zone: "Europe/Berlin"},
		{name: "business-scoped ID", in: struct{ Country, Phone string }{Country: "BR"}, want: "BR"},
		{name: "not a number", in: struct{ Country, Phone string }{Phone: "999"}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := SignalsOf(tc.in.Country, tc.in.Phone, "")
			if sig.Country != tc.want || (tc.zone != "" && (len(sig.Zones) != 1 || sig.Zones[0] != tc.zone)) {
				t.Errorf("signals = %+v", sig)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	mk := func(ws ...float64) []Candidate {
		cs := make([]Candidate, len(ws))
		for i, w := range ws {
			cs[i] = Candidate{Visit: string(rune('A' + i)), Weight: w, Of: &visit.Visit{}}
		}
		return Normalize(cs)
	}
	tests := []struct {
		name  string
		cands []Candidate
		ok    bool
	}{
		{name: "none", cands: nil},
		{name: "one recent", cands: mk(1), ok: true},
		{name: "one stale", cands: mk(0.3)},
		{name: "clear leader", cands: mk(4, 0.5), ok: true},
		{name: "two alike", cands: mk(2, 1.5)},
		{name: "leader not three times the next", cands: mk(4, 1.5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := Decide(tc.cands); ok != tc.ok {
				t.Errorf("decide(%+v) = %v, want %v", tc.cands, ok, tc.ok)
			}
		})
	}
	t.Run("one visitor's two visits are one candidate", func(t *testing.T) {
		cs := Normalize([]Candidate{
			{Visit: "A", Weight: 2, Of: &visit.Visit{VisitorID: "p1"}},
			{Visit: "B", Weight: 1.8, Of: &visit.Visit{VisitorID: "p1"}},
		})
		best, ok := Decide(cs)
		if len(cs) != 1 || !ok || best.Visit != "A" {
			t.Errorf("candidates %+v, decided %v", cs, ok)
		}
	})
}
