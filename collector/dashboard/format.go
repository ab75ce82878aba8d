package dashboard

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// NumberFormat turns report numbers and times into what an operator reads:
// money in the site's currency, times in the site's time zone. The
// dashboard's words are English, so are its separators ("1,234.50").
type NumberFormat struct {
	currency string
	loc      *time.Location
}

// currencySymbols are the signs put before amounts; a currency missing here
// is written as its code after the amount ("1,234.50 CHF"), which is always
// understood.
var currencySymbols = map[string]string{
	"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "INR": "₹",
	"RUB": "₽", "UAH": "₴", "KZT": "₸", "TRY": "₺", "BRL": "R$", "KRW": "₩",
	"ILS": "₪", "VND": "₫", "NGN": "₦", "PHP": "₱", "AUD": "A$", "CAD": "CA$",
	"MXN": "MX$",
}

// zeroDecimalCurrencies have no minor unit in everyday prices (ISO 4217
// exponent 0).
var zeroDecimalCurrencies = map[string]bool{
	"JPY": true, "KRW": true, "VND": true, "CLP": true, "ISK": true, "UGX": true,
}

func NewNumberFormat(currency string, loc *time.Location) NumberFormat {
	if loc == nil {
		loc = time.UTC
	}
	if currency == "" {
		currency = "USD"
	}
	return NumberFormat{currency: strings.ToUpper(currency), loc: loc}
}

// dash stands for a value that does not exist (cost per conversion with no
// conversion), so it is never mistaken for a zero.
const dash = "—"

// Money formats an amount in the site's currency: "$1,234.50", "¥1,235",
// "1,234.50 CHF".
func (f NumberFormat) Money(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	decimals := 2
	if zeroDecimalCurrencies[f.currency] {
		decimals = 0
	}
	sign := ""
	if v < 0 {
		sign = "-"
		v = -v
	}
	num := groupDigits(strconv.FormatFloat(v, 'f', decimals, 64))
	if sym, ok := currencySymbols[f.currency]; ok {
		return sign + sym + num
	}
	return sign + num + " " + f.currency
}

// Count formats a whole number with thousands separators.
func (f NumberFormat) Count(n int64) string {
	if n < 0 {
		return "-" + groupDigits(strconv.FormatUint(uint64(-n), 10))
	}
	return groupDigits(strconv.FormatInt(n, 10))
}

// Number formats a measure with up to two decimals, dropping trailing zeros.
func (f NumberFormat) Number(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return sign + groupDigits(s)
}

// Percent formats a fraction (0.25) as a percentage ("25.0%").
func (f NumberFormat) Percent(fraction float64) string {
	if math.IsNaN(fraction) || math.IsInf(fraction, 0) {
		return dash
	}
	return strconv.FormatFloat(fraction*100, 'f', 1, 64) + "%"
}

// Time formats an instant in the site's time zone, naming the zone so a
// reader abroad is not misled.
func (f NumberFormat) Time(t time.Time) string {
	if t.IsZero() {
		return dash
	}
	return t.In(f.loc).Format("2006-01-02 15:04 MST")
}

// Date formats an instant as its day in the site's time zone.
func (f NumberFormat) Date(t time.Time) string {
	if t.IsZero() {
		return dash
	}
	return t.In(f.loc).Format("2006-01-02")
}

// groupDigits puts thousands separators into a plain decimal number
// ("1234567.5" → "1,234,567.5").
func groupDigits(s string) string {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if len(intPart) <= 3 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(intPart)/3)
	lead := len(intPart) % 3
	if lead > 0 {
		b.WriteString(intPart[:lead])
	}
	for i := lead; i < len(intPart); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(intPart[i : i+3])
	}
	if hasFrac {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}
