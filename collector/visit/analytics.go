package visit

import (
	"strings"
)

// GAClientID reads Google Analytics' client ID from the value of the page's
// _ga cookie ("GA1.1.1234567890.1700000000") or the ID itself
// ("1234567890.1700000000"); anything else gives "".
func GAClientID(raw string) string {
	parts := strings.Split(strings.TrimSpace(raw), ".")
	if len(parts) >= 4 && strings.HasPrefix(parts[0], "GA") {
		parts = parts[len(parts)-2:]
	}
	if len(parts) != 2 || !digits(parts[0], 20) || !digits(parts[1], 12) {
		return ""
	}
	return parts[0] + "." + parts[1]
}

// YMClientID reads Yandex Metrica's ClientID from the value of the page's
// _ym_uid cookie (a decimal number); anything else gives "".
func YMClientID(raw string) string {
	raw = strings.TrimSpace(raw)
	if !digits(raw, 24) {
		return ""
	}
	return raw
}

func digits(s string, most int) bool {
	if s == "" || len(s) > most {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
