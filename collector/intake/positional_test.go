package intake

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/score"
)

// TestPlainItems: the direct reading of an array gives what encoding/json
// gives, and leaves everything else to it.
func TestPlainItems(t *testing.T) {
	tests := []struct {
		body  string
		plain bool
	}{
		{body: `["demo","https://shop.test/?a=1&b=2","",1920,1080,-300,null]`, plain: true},
		{body: " [ \"a\" , null ,0 ] \n", plain: true},
		{body: `[]`, plain: true},
		{body: `["ру 😀"]`, plain: true},
		{body: `["de\u006do"]`},
		{body: `[1.5]`},
		{body: `[01]`},
		{body: `[true]`},
		{body: `["a",]`},
		{body: `["a"] x`},
	}
	for _, tt := range tests {
		got, ok := plainItems(tt.body)
		if ok != tt.plain {
			t.Errorf("plainItems(%s) ok = %v, want %v", tt.body, ok, tt.plain)
			continue
		}
		if !ok {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(tt.body))
		dec.UseNumber()
		var want []any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json refuses %s: %v", tt.body, err)
		}
		if len(want) == 0 {
			want = []any{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("plainItems(%s) = %#v, encoding/json %#v", tt.body, got, want)
		}
	}
}

// TestBrowserZoneOffsets: the snippet's offset in minutes is stored as a
// fixed zone that the matcher compares by offset like any IANA zone.
func TestBrowserZoneOffsets(t *testing.T) {
	at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		tz, stored string
		zones      []string
		same       bool
	}{
		{tz: "180", stored: "UTC+03:00", zones: []string{"Europe/Moscow"}, same: true},
		{tz: "330", stored: "UTC+05:30", zones: []string{"Asia/Kolkata"}, same: true},
		{tz: "-240", stored: "UTC-04:00", zones: []string{"America/New_York"}, same: true},
		{tz: "-300", stored: "UTC-05:00", zones: []string{"America/New_York"}, same: false},
		{tz: "0", stored: "UTC+00:00", zones: []string{"Europe/London"}, same: false},
		{tz: "Europe/Berlin", stored: "Europe/Berlin", zones: []string{"Europe/Paris"}, same: true},
		{tz: "99999", stored: "", zones: []string{"Europe/Moscow"}, same: false},
	}
	for _, tt := range tests {
		stored := browserZone(tt.tz)
		if stored != tt.stored {
			t.Errorf("browserZone(%q) = %q, want %q", tt.tz, stored, tt.stored)
		}
		if got := score.SameOffset(tt.zones, stored, at); got != tt.same {
			t.Errorf("score.SameOffset(%v, %q) = %v, want %v", tt.zones, stored, got, tt.same)
		}
	}
}
