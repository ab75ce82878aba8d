package visit

import "testing"

func TestAnalyticsClientIDsFromTheirCookies(t *testing.T) {
	for raw, want := range map[string]string{
		"GA1.1.1234567890.1700000000":   "1234567890.1700000000",
		"GA1.2.987654321.1699999999":    "987654321.1699999999",
		"1234567890.1700000000":         "1234567890.1700000000",
		"GA1.1.12<script>.1700000000":   "",
		"GA1.1.1234567890":              "",
		"1234567890.1700000000.5":       "",
		"":                              "",
		"GS1.1.1700000000.1.1.1700.0.0": "",
	} {
		if got := GAClientID(raw); got != want {
			t.Errorf("GAClientID(%q) = %q, want %q", raw, got, want)
		}
	}
	for raw, want := range map[string]string{
		"1700000000123456789":       "1700000000123456789",
		" 17000000001 ":             "17000000001",
		"17000000001x":              "",
		"-1":                        "",
		"1234567890123456789012345": "",
	} {
		if got := YMClientID(raw); got != want {
			t.Errorf("YMClientID(%q) = %q, want %q", raw, got, want)
		}
	}
	v := &Visit{N: 7, Landing: "https://shop.test/", Page: "https://shop.test/", GAClientID: "1234567890.1700000000", YMClientID: "1700000000123456789"}
	b, err := Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(7, b)
	if err != nil || got.GAClientID != v.GAClientID || got.YMClientID != v.YMClientID {
		t.Fatalf("round trip %+v, %v", got, err)
	}
}
