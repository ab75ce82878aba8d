package dashboard

import "testing"

func TestSafeHref(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "https", in: "https://shop.example/cacti?utm_source=x", want: "https://shop.example/cacti?utm_source=x"},
		{name: "http", in: "http://blog.example/post/1", want: "http://blog.example/post/1"},
		{name: "javascript", in: "javascript:alert(1)", want: ""},
		{name: "javascript with spaces and case", in: "  JaVaScRiPt:alert(1)", want: ""},
		{name: "data", in: "data:text/html,<script>alert(1)</script>", want: ""},
		{name: "vbscript", in: "vbscript:msgbox(1)", want: ""},
		{name: "relative", in: "/dashboard/signout", want: ""},
		{name: "scheme-relative", in: "//evil.example/", want: ""},
		{name: "no host", in: "https:///x", want: ""},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := safeHref(tt.in); got != tt.want {
				t.Errorf("safeHref(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPreviousRange(t *testing.T) {
	tests := []struct {
		name string
		in   Range
		want Range
	}{
		{name: "four weeks", in: Range{From: "2026-03-16", To: "2026-04-12"}, want: Range{From: "2026-02-16", To: "2026-03-15"}},
		{name: "one day", in: Range{From: "2026-11-02", To: "2026-11-02"}, want: Range{From: "2026-11-01", To: "2026-11-01"}},
		{name: "across a leap day", in: Range{From: "2028-03-01", To: "2028-03-31"}, want: Range{From: "2028-01-30", To: "2028-02-29"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := previousRange(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("previousRange(%v) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
	if _, err := previousRange(Range{From: "soon", To: "later"}); err == nil {
		t.Error("previousRange accepted words for dates")
	}
}
