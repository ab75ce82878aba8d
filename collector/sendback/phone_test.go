package sendback

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		raw, region, want, region2, err string
	}{
		{"+49 1512 3456789", "", "+4915123456789", "DE", ""},
		{"0049 (1512) 345-6789", "US", "+4915123456789", "DE", ""},
		{"01512 3456789", "DE", "+4915123456789", "DE", ""},
		{"+1 650 253 0000", "", "+16502530000", "US", ""},
		{"+44 7400 123456", "", "+447400123456", "GB", ""},
		{"(650) 253-0000", "us", "+16502530000", "US", ""},
		{"", "DE", "", "", "Enter your WhatsApp number"},
		{"01512 3456789", "", "", "", "Start with +"},
		{"+49 15", "", "", "", "too short"},
		{"+49 1512 3456789 1234567", "", "", "", "too long"},
		{"+999 1234567", "", "", "", "country code"},
		{"+1 800 253 0000", "", "", "", "cannot have WhatsApp"},
		{"+49 1512 34<script>", "", "", "", "only digits"},
		{"+49 1512 3456789\u202e", "", "", "", "only digits"},
		{strings.Repeat("1", 41), "DE", "", "", "too long for a phone number"},
		{"+1 555 000 0000", "", "", "", "not a valid number"},
	} {
		p, err := Normalize(tc.raw, tc.region)
		var pe *PhoneError
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q in %q: %v", tc.raw, tc.region, err)
		case tc.err == "" && (p.E164 != tc.want || p.Region != tc.region2 || p.Digits != strings.TrimPrefix(tc.want, "+")):
			t.Errorf("%q in %q: %+v, want %s in %s", tc.raw, tc.region, p, tc.want, tc.region2)
		case tc.err != "" && (!errors.As(err, &pe) || !strings.Contains(pe.Reason, tc.err)):
			t.Errorf("%q in %q: %+v %v, want an error saying %q", tc.raw, tc.region, p, err, tc.err)
		}
	}
}

func TestCallingCode(t *testing.T) {
	if CallingCode("de") != 49 || CallingCode("US") != 1 || CallingCode("") != 0 || CallingCode("XX") != 0 {
		t.Fatal(CallingCode("de"), CallingCode("US"), CallingCode(""), CallingCode("XX"))
	}
}

// FuzzNormalize: whatever a page sends, Normalize answers a number or a
// reason, and a number it gives reads back as itself.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+49 1512 3456789", "01512 3456789", "0049 (1512) 345-6789", "+1 800 253 0000", "+", "00", "((((", "+999 1234567"} {
		f.Add(s, "DE")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		p, err := Normalize(raw, region)
		var pe *PhoneError
		if err != nil {
			if !errors.As(err, &pe) || pe.Reason == "" {
				t.Fatalf("%q in %q: %v is not a reason for the visitor", raw, region, err)
			}
			return
		}
		again, err := Normalize(p.E164, "")
		if err != nil || again != p || "+"+p.Digits != p.E164 {
			t.Fatalf("%q in %q gave %+v, which reads back as %+v %v", raw, region, p, again, err)
		}
	})
}
