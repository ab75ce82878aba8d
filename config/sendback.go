package config

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// SendBack is a site's send-back widget: a visitor leaves a WhatsApp
// number on the page and the business writes first, with an approved
// template that carries the visit's code, through the site's whatsapp_api.
type SendBack struct {
	// Template and Language name the approved template; its first body
	// parameter gets the visit's code.
	Template string `yaml:"template"`
	Language string `yaml:"language"`
	// Category is the template's pricing category, kept for the
	// templates report; default marketing.
	Category string `yaml:"category"`
	// Consent is the line shown under the number field (the page may
	// word its own with data-messtrack-sendback-consent).
	Consent string         `yaml:"consent"`
	Limits  SendBackLimits `yaml:"limits"`
}

// SendBackLimits bound what a send-back costs the site: sends per visit,
// per client address an hour, per number a day and per site an hour. A
// number is never sent to twice within its day window. 0 takes the
// default; -1 is no limit (not for per_number_day, which keeps a number
// from getting the template twice).
type SendBackLimits struct {
	PerVisit     int `yaml:"per_visit"`
	PerIPHour    int `yaml:"per_ip_hour"`
	PerNumberDay int `yaml:"per_number_day"`
	PerSiteHour  int `yaml:"per_site_hour"`
}

// The send-back defaults.
const (
	DefaultSendBackPerVisit     = 2
	DefaultSendBackPerIPHour    = 5
	DefaultSendBackPerNumberDay = 1
	DefaultSendBackPerSiteHour  = 100
	DefaultSendBackCategory     = "marketing"
	DefaultSendBackConsent      = "By sending your number you agree that we write to you on WhatsApp about your request."
	// maxConsent bounds the consent line, in characters.
	maxConsent = 300
)

var (
	sendBackTemplateRE = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	sendBackLanguageRE = regexp.MustCompile(`^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$`)
)

// normalizeSendBack checks sendback and fills its defaults; it needs
// whatsapp_api, through which the template goes.
func (c *Config) normalizeSendBack(s *Site, at string) error {
	sb := s.SendBack
	if sb == nil {
		return nil
	}
	at += ".sendback"
	if !s.WhatsAppAPI.Configured() {
		return c.fieldError(at, "needs whatsapp_api (token and phone_number_id): the template is sent through the Cloud API")
	}
	if !sendBackTemplateRE.MatchString(sb.Template) {
		return c.fieldError(at+".template", "%q is not a template name (lower-case letters, digits, _)", sb.Template)
	}
	if !sendBackLanguageRE.MatchString(sb.Language) {
		return c.fieldError(at+".language", "%q is not a language code like en_US", sb.Language)
	}
	sb.Category = strings.ToLower(strings.TrimSpace(sb.Category))
	if sb.Category == "" {
		sb.Category = DefaultSendBackCategory
	}
	if !rateCategoryRE.MatchString(sb.Category) {
		return c.fieldError(at+".category", "%q is not a category like marketing or utility", sb.Category)
	}
	sb.Consent = strings.TrimSpace(sb.Consent)
	if sb.Consent == "" {
		sb.Consent = DefaultSendBackConsent
	}
	if utf8.RuneCountInString(sb.Consent) > maxConsent || strings.ContainsAny(sb.Consent, "<>\x00") {
		return c.fieldError(at+".consent", "is longer than %d characters or holds < > or NUL", maxConsent)
	}
	for _, l := range []struct {
		key  string
		v    *int
		def  int
		none bool
	}{
		{"per_visit", &sb.Limits.PerVisit, DefaultSendBackPerVisit, true},
		{"per_ip_hour", &sb.Limits.PerIPHour, DefaultSendBackPerIPHour, true},
		{"per_number_day", &sb.Limits.PerNumberDay, DefaultSendBackPerNumberDay, false},
		{"per_site_hour", &sb.Limits.PerSiteHour, DefaultSendBackPerSiteHour, true},
	} {
		switch {
		case *l.v == 0:
			*l.v = l.def
		case *l.v == -1 && l.none:
		case *l.v < 1 || *l.v > 1_000_000:
			if l.none {
				return c.fieldError(at+".limits."+l.key, "%d is not 1..1000000 (or -1: no limit)", *l.v)
			}
			return c.fieldError(at+".limits."+l.key, "%d is not 1..1000000", *l.v)
		}
	}
	return nil
}
