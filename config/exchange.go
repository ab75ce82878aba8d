package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Webhook is one outbound webhook endpoint of a site: every event of the
// listed types is POSTed to URL, signed with Secret.
type Webhook struct {
	URL    string `yaml:"url"`
	Secret string `yaml:"secret"`
	// Events are the event types sent; empty means every type.
	Events []string `yaml:"events"`
}

// Wants tells whether the endpoint takes events of type typ.
func (w Webhook) Wants(typ string) bool {
	return len(w.Events) == 0 || slices.Contains(w.Events, typ)
}

// MetaCAPI sends chats from click-to-WhatsApp ads and their conversions to
// a Meta dataset through the Conversions API for Business Messaging.
type MetaCAPI struct {
	DatasetID   string `yaml:"dataset_id"`
	AccessToken string `yaml:"access_token"`
	// WABAID is the WhatsApp Business Account the dataset is linked to;
	// it goes into user_data.whatsapp_business_account_id when set.
	WABAID string `yaml:"whatsapp_business_account_id"`
	// BaseURL defaults to DefaultCAPIBaseURL.
	BaseURL string `yaml:"base_url"`
}

// Enabled tells whether the site sends to the Conversions API.
func (m MetaCAPI) Enabled() bool { return m.DatasetID != "" }

// GA4 sends chats and conversions to Google Analytics 4 through the
// Measurement Protocol.
type GA4 struct {
	MeasurementID string `yaml:"measurement_id"`
	APISecret     string `yaml:"api_secret"`
	// BaseURL defaults to DefaultGA4BaseURL.
	BaseURL string `yaml:"base_url"`
}

// Enabled tells whether the site sends to GA4.
func (g GA4) Enabled() bool { return g.MeasurementID != "" }

// Metrica uploads chats and conversions to Yandex Metrica as offline
// conversions.
type Metrica struct {
	CounterID string `yaml:"counter_id"`
	Token     string `yaml:"token"`
	// GoalChat and GoalConversion are the JavaScript-event goal
	// identifiers a chat and a conversion count under.
	GoalChat       string `yaml:"goal_chat"`
	GoalConversion string `yaml:"goal_conversion"`
	// BaseURL defaults to DefaultMetricaBaseURL.
	BaseURL string `yaml:"base_url"`
}

// Enabled tells whether the site sends to Metrica.
func (m Metrica) Enabled() bool { return m.CounterID != "" }

// Data-exchange defaults.
const (
	DefaultCAPIBaseURL    = "https://graph.facebook.com/v21.0"
	DefaultGA4BaseURL     = "https://www.google-analytics.com"
	DefaultMetricaBaseURL = "https://api-metrika.yandex.net"
)

// EventTypes are the event types a webhook may list.
var EventTypes = []string{
	"chat.attributed", "conversation.started", "session.converted", "session.closed",
	"event.received", "chat.confirmed",
}

// normalizeExchange checks a site's webhooks and ad and analytics targets.
func (c *Config) normalizeExchange(s *Site, at string) error {
	for i := range s.Webhooks {
		w := &s.Webhooks[i]
		wat := fmt.Sprintf("%s.webhooks[%d]", at, i)
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c.fieldError(wat+".url", "%q is not an http(s) URL", w.URL)
		}
		if len(w.Secret) < 16 {
			return c.fieldError(wat+".secret", "the signing secret must be at least 16 characters")
		}
		for _, e := range w.Events {
			if !slices.Contains(EventTypes, e) {
				return c.fieldError(wat+".events", "%q is not one of %s", e, strings.Join(EventTypes, ", "))
			}
		}
	}
	base := func(v *string, def, key string) error {
		if *v == "" {
			*v = def
		}
		*v = strings.TrimRight(*v, "/")
		u, err := url.Parse(*v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c.fieldError(at+key, "%q is not an http(s) URL", *v)
		}
		return nil
	}
	if err := base(&s.MetaCAPI.BaseURL, DefaultCAPIBaseURL, ".meta_capi.base_url"); err != nil {
		return err
	}
	if s.MetaCAPI.Enabled() && s.MetaCAPI.AccessToken == "" {
		return c.fieldError(at+".meta_capi.access_token", "a dataset needs an access token")
	}
	if err := base(&s.GA4.BaseURL, DefaultGA4BaseURL, ".ga4.base_url"); err != nil {
		return err
	}
	if s.GA4.Enabled() && s.GA4.APISecret == "" {
		return c.fieldError(at+".ga4.api_secret", "a measurement ID needs an API secret")
	}
	if err := base(&s.Metrica.BaseURL, DefaultMetricaBaseURL, ".metrica.base_url"); err != nil {
		return err
	}
	if s.Metrica.Enabled() {
		if s.Metrica.Token == "" {
			return c.fieldError(at+".metrica.token", "a counter needs an OAuth token")
		}
		if s.Metrica.GoalChat == "" && s.Metrica.GoalConversion == "" {
			return c.fieldError(at+".metrica", "name goal_chat, goal_conversion or both")
		}
	}
	return nil
}
