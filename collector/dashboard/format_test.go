package dashboard

import (
	"math"
	"testing"
	"time"
)

func TestNumberFormatMoney(t *testing.T) {
	tests := []struct {
		name     string
		currency string
		value    float64
		want     string
	}{
		{name: "dollars", currency: "USD", value: 1234.5, want: "$1,234.50"},
		{name: "zero", currency: "USD", value: 0, want: "$0.00"},
		{name: "millions", currency: "EUR", value: 1234567.891, want: "€1,234,567.89"},
		{name: "no minor unit", currency: "JPY", value: 123456.7, want: "¥123,457"},
		{name: "code when no symbol", currency: "CHF", value: 99.9, want: "99.90 CHF"},
		{name: "lower-case code", currency: "gbp", value: 5, want: "£5.00"},
		{name: "negative", currency: "USD", value: -1500, want: "-$1,500.00"},
		{name: "huge", currency: "USD", value: 1e15, want: "$1,000,000,000,000,000.00"},
		{name: "not a number", currency: "USD", value: math.NaN(), want: "—"},
		{name: "infinite", currency: "USD", value: math.Inf(1), want: "—"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewNumberFormat(tt.currency, time.UTC).Money(tt.value); got != tt.want {
				t.Errorf("Money(%v) = %q, want %q", tt.value, got, tt.want)
			}
		})
	}
}

func TestNumberFormatNumbers(t *testing.T) {
	f := NewNumberFormat("USD", time.UTC)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "count small", got: f.Count(999), want: "999"},
		{name: "count thousands", got: f.Count(1000), want: "1,000"},
		{name: "count millions", got: f.Count(12345678), want: "12,345,678"},
		{name: "count negative", got: f.Count(-4321), want: "-4,321"},
		{name: "count min int64", got: f.Count(math.MinInt64), want: "-9,223,372,036,854,775,808"},
		{name: "number trims zeros", got: f.Number(2.50), want: "2.5"},
		{name: "number whole", got: f.Number(12000), want: "12,000"},
		{name: "percent quarter", got: f.Percent(0.25), want: "25.0%"},
		{name: "percent all", got: f.Percent(1), want: "100.0%"},
		{name: "percent small", got: f.Percent(0.0004), want: "0.0%"},
		{name: "percent undefined", got: f.Percent(math.NaN()), want: "—"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestNumberFormatTimeZone(t *testing.T) {
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Fatal(err)
	}
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		name     string
		loc      *time.Location
		wantTime string
		wantDate string
	}{
		{name: "UTC", loc: time.UTC, wantTime: "2026-11-02 23:30 UTC", wantDate: "2026-11-02"},
		{name: "east: next day", loc: moscow, wantTime: "2026-11-03 02:30 MSK", wantDate: "2026-11-03"},
		{name: "west", loc: la, wantTime: "2026-11-02 15:30 PST", wantDate: "2026-11-02"},
		{name: "nil is UTC", loc: nil, wantTime: "2026-11-02 23:30 UTC", wantDate: "2026-11-02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewNumberFormat("USD", tt.loc)
			if got := f.Time(at); got != tt.wantTime {
				t.Errorf("Time = %q, want %q", got, tt.wantTime)
			}
			if got := f.Date(at); got != tt.wantDate {
				t.Errorf("Date = %q, want %q", got, tt.wantDate)
			}
			if got := f.Time(time.Time{}); got != "—" {
				t.Errorf("zero Time = %q, want a dash", got)
			}
		})
	}
}
