package sendback

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// maxPhone bounds what a visitor may type, in bytes.
const maxPhone = 40

// Phone is a number as read: E164 is "+" and the digits, Digits without
// the plus, Region the ISO country of the number.
type Phone struct {
	E164   string
	Digits string
	Region string
}

// PhoneError is why a typed number cannot be used; its text is meant for
// the visitor.
type PhoneError struct{ Reason string }

func (e *PhoneError) Error() string { return e.Reason }

// Normalize reads a number as a visitor types it: international ("+49 151
// …", "0049 …") or national in region (the visit's country, "" when
// unknown). Numbers that cannot take WhatsApp messages (toll-free, premium,
// shared cost, pagers, voicemail) are refused.
func Normalize(raw, region string) (Phone, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Phone{}, &PhoneError{"Enter your WhatsApp number."}
	}
	if len(raw) > maxPhone {
		return Phone{}, &PhoneError{"That is too long for a phone number."}
	}
	for _, r := range raw {
		if !strings.ContainsRune("0123456789+-(). ", r) {
			return Phone{}, &PhoneError{"Use only digits, spaces and + ( ) - in the number."}
		}
	}
	digits := 0
	for _, r := range raw {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	// E.164 numbers have at most 15 digits; none in use has fewer than 7
	// with its country code.
	if digits > 17 {
		return Phone{}, &PhoneError{"The number is too long."}
	}
	if digits < 6 {
		return Phone{}, &PhoneError{"The number is too short."}
	}
	if strings.HasPrefix(raw, "00") {
		raw = "+" + raw[2:]
	}
	if !strings.HasPrefix(raw, "+") && region == "" {
		return Phone{}, &PhoneError{"Start with + and your country code."}
	}
	num, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil {
		return Phone{}, &PhoneError{"That is not a phone number: start with + and your country code."}
	}
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.TOO_SHORT:
		return Phone{}, &PhoneError{"The number is too short."}
	case phonenumbers.TOO_LONG:
		return Phone{}, &PhoneError{"The number is too long."}
	case phonenumbers.INVALID_COUNTRY_CODE:
		return Phone{}, &PhoneError{"The country code is not right."}
	}
	if !phonenumbers.IsValidNumber(num) {
		return Phone{}, &PhoneError{"This is not a valid number; check the digits and the country code."}
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.PAGER,
		phonenumbers.VOICEMAIL, phonenumbers.UAN:
		return Phone{}, &PhoneError{"Enter a personal mobile number; this one cannot have WhatsApp."}
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	return Phone{E164: e164, Digits: strings.TrimPrefix(e164, "+"), Region: phonenumbers.GetRegionCodeForNumber(num)}, nil
}

// CallingCode is a region's country calling code, 0 when unknown.
func CallingCode(region string) int {
	if region == "" {
		return 0
	}
	return phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region))
}
