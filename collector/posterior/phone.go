package posterior

import (
	"fmt"
	"slices"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// PhoneSignals reads a phone number in international digits (with or
// without "+"): its country, and the UTC offsets at time at that its
// geography allows. A number carries time-zone evidence only when it is
// geographic (a fixed line, a North American number, a mobile in a country
// with geographic mobile ranges) or when its whole country keeps one
// offset; a mobile range of a country with several offsets (every Russian
// mobile is filed under Moscow in the phone data) carries none, and
// offsets is nil.
func PhoneSignals(phone string, at time.Time) (country string, offsets []int, err error) {
	if phone == "" {
		return "", nil, nil
	}
	if phone[0] != '+' {
		phone = "+" + phone
	}
	num, err := phonenumbers.Parse(phone, "")
	if err != nil {
		return "", nil, fmt.Errorf("PhoneSignals: %w", err)
	}
	if rc := phonenumbers.GetRegionCodeForNumber(num); rc != "" && rc != "ZZ" {
		country = rc
	}
	zones, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil || slices.Contains(zones, phonenumbers.UNKNOWN_TIMEZONE) {
		return country, nil, nil
	}
	offsets = zoneOffsets(zones, at)
	switch t := phonenumbers.GetNumberType(num); {
	case t == phonenumbers.FIXED_LINE, t == phonenumbers.FIXED_LINE_OR_MOBILE,
		t == phonenumbers.MOBILE && phonenumbers.GEO_MOBILE_COUNTRIES[num.GetCountryCode()]:
		return country, offsets, nil
	}
	all, err := phonenumbers.GetTimezonesForPrefix(fmt.Sprintf("+%d", num.GetCountryCode()))
	if err != nil || len(zoneOffsets(all, at)) != 1 {
		return country, nil, nil
	}
	return country, offsets, nil
}

// zoneOffsets are the distinct UTC offsets of zones at t.
func zoneOffsets(zones []string, t time.Time) []int {
	var out []int
	for _, z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			continue
		}
		if _, off := t.In(loc).Zone(); !slices.Contains(out, off) {
			out = append(out, off)
		}
	}
	return out
}
