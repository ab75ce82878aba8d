package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// WhatsAppAPI is where and as whom the template send endpoint calls the
// WhatsApp Cloud API: POST {base_url}/{phone_number_id}/messages with the
// token as a bearer.
type WhatsAppAPI struct {
	// BaseURL defaults to https://graph.facebook.com/v25.0.
	BaseURL       string `yaml:"base_url"`
	Token         string `yaml:"token"`
	PhoneNumberID string `yaml:"phone_number_id"`
}

// Configured tells whether the send endpoint may call the API.
func (a WhatsAppAPI) Configured() bool { return a.Token != "" && a.PhoneNumberID != "" }

// WhatsAppRate is one line of the rate card: what a delivered message (per
// "message", the per-message pricing) or an opened conversation (per
// "conversation", the conversation-based pricing) of a pricing category
// costs, in the site's currency, for recipients in Country (ISO 3166
// alpha-2; empty: any country without a line of its own).
type WhatsAppRate struct {
	Category string  `yaml:"category"`
	Country  string  `yaml:"country"`
	Price    float64 `yaml:"price"`
	Per      string  `yaml:"per"`
}

// The values of a rate's per.
const (
	RatePerMessage      = "message"
	RatePerConversation = "conversation"
)

var (
	rateCategoryRE  = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)
	countryRE       = regexp.MustCompile(`^[A-Z]{2}$`)
	phoneNumberIDRE = regexp.MustCompile(`^[0-9]{1,32}$`)
)

// normalizeWhatsAppBusiness checks whatsapp_api and whatsapp_rates.
func (c *Config) normalizeWhatsAppBusiness(s *Site, at string) error {
	api := &s.WhatsAppAPI
	if api.BaseURL == "" {
		api.BaseURL = DefaultMetaBaseURL
	}
	u, err := url.Parse(api.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return c.fieldError(at+".whatsapp_api.base_url", "%q is not a URL like %s", api.BaseURL, DefaultMetaBaseURL)
	}
	api.BaseURL = strings.TrimRight(api.BaseURL, "/")
	if api.PhoneNumberID != "" && !phoneNumberIDRE.MatchString(api.PhoneNumberID) {
		return c.fieldError(at+".whatsapp_api.phone_number_id", "%q is not a phone number ID (digits)", api.PhoneNumberID)
	}
	if (api.Token == "") != (api.PhoneNumberID == "") {
		return c.fieldError(at+".whatsapp_api", "token and phone_number_id go together")
	}
	seen := map[string]int{}
	for i := range s.WhatsAppRates {
		r := &s.WhatsAppRates[i]
		rat := fmt.Sprintf("%s.whatsapp_rates[%d]", at, i)
		r.Category = strings.ToLower(strings.TrimSpace(r.Category))
		if !rateCategoryRE.MatchString(r.Category) {
			return c.fieldError(rat+".category", "%q is not a pricing category like marketing, utility, authentication or service", r.Category)
		}
		r.Country = strings.ToUpper(strings.TrimSpace(r.Country))
		if r.Country == "*" {
			r.Country = ""
		}
		if r.Country != "" && !countryRE.MatchString(r.Country) {
			return c.fieldError(rat+".country", "%q is not a two-letter country code (or empty for any)", r.Country)
		}
		if r.Price < 0 || r.Price > 1000 {
			return c.fieldError(rat+".price", "%v is outside 0..1000", r.Price)
		}
		if r.Per == "" {
			r.Per = RatePerMessage
		}
		if r.Per != RatePerMessage && r.Per != RatePerConversation {
			return c.fieldError(rat+".per", "%q is not message or conversation", r.Per)
		}
		k := r.Per + "|" + r.Category + "|" + r.Country
		if j, dup := seen[k]; dup {
			return c.fieldError(rat, "the same category, country and per as whatsapp_rates[%d]", j)
		}
		seen[k] = i
	}
	return nil
}

// WhatsAppRate is the price of one unit (per is RatePerMessage or
// RatePerConversation) of a pricing category for a recipient in country
// ("" when unknown): the country's line, else the category's line for any
// country; ok is false when the card has neither.
func (s *Site) WhatsAppRate(per, category, country string) (price float64, ok bool) {
	var any *WhatsAppRate
	for i := range s.WhatsAppRates {
		r := &s.WhatsAppRates[i]
		if r.Per != per || r.Category != category {
			continue
		}
		if r.Country == "" {
			any = r
		} else if country != "" && r.Country == country {
			return r.Price, true
		}
	}
	if any != nil {
		return any.Price, true
	}
	return 0, false
}
