package config_test

import (
	"strings"
	"testing"

	"github.com/messtrack/messtrack/config"
)

func TestWhatsAppBusinessConfig(t *testing.T) {
	cfg, err := config.Parse("m.yaml", []byte(`
sites:
  demo:
    api_key: demo-key-1
    currency: eur
    whatsapp_api: {base_url: "http://127.0.0.1:9/v25.0/", token: t0ken, phone_number_id: "106540352242922"}
    whatsapp_rates:
      - {category: Marketing, country: de, price: 0.1365}
      - {category: marketing, price: 0.05}
      - {category: utility, country: "*", price: 0.02, per: conversation}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Site("demo")
	if s.WhatsAppAPI.BaseURL != "http://127.0.0.1:9/v25.0" || !s.WhatsAppAPI.Configured() || s.Currency != "EUR" {
		t.Fatalf("api %+v currency %s", s.WhatsAppAPI, s.Currency)
	}
	for _, tc := range []struct {
		per, category, country string
		price                  float64
		ok                     bool
	}{
		{config.RatePerMessage, "marketing", "DE", 0.1365, true},
		{config.RatePerMessage, "marketing", "FR", 0.05, true},
		{config.RatePerMessage, "marketing", "", 0.05, true},
		{config.RatePerConversation, "utility", "IN", 0.02, true},
		{config.RatePerMessage, "utility", "IN", 0, false},
		{config.RatePerConversation, "marketing", "DE", 0, false},
	} {
		p, ok := s.WhatsAppRate(tc.per, tc.category, tc.country)
		if p != tc.price || ok != tc.ok {
			t.Errorf("%s %s %s: %v %v, want %v %v", tc.per, tc.category, tc.country, p, ok, tc.price, tc.ok)
		}
	}
	def, err := config.Parse("m.yaml", []byte("sites:\n  demo:\n    api_key: demo-key-1\n"), nil)
	if err != nil || def.Site("demo").WhatsAppAPI.BaseURL != config.DefaultMetaBaseURL || def.Site("demo").WhatsAppAPI.Configured() {
		t.Fatalf("defaults: %v %+v", err, def)
	}
}

func TestWhatsAppBusinessConfigErrors(t *testing.T) {
	site := "sites:\n  demo:\n    api_key: demo-key-1\n"
	for _, tc := range []struct{ yaml, want string }{
		{"    whatsapp_api: {base_url: \"ftp://x\"}\n", "sites.demo.whatsapp_api.base_url"},
		{"    whatsapp_api: {token: t}\n", "sites.demo.whatsapp_api: token and phone_number_id go together"},
		{"    whatsapp_api: {token: t, phone_number_id: \"12a\"}\n", "sites.demo.whatsapp_api.phone_number_id"},
		{"    whatsapp_rates: [{category: \"<b>\", price: 1}]\n", "sites.demo.whatsapp_rates[0].category"},
		{"    whatsapp_rates: [{category: marketing, country: Germany, price: 1}]\n", "sites.demo.whatsapp_rates[0].country"},
		{"    whatsapp_rates: [{category: marketing, price: -1}]\n", "sites.demo.whatsapp_rates[0].price"},
		{"    whatsapp_rates: [{category: marketing, price: 1, per: day}]\n", "sites.demo.whatsapp_rates[0].per"},
		{"    whatsapp_rates: [{category: marketing, price: 1}, {category: marketing, price: 2}]\n", "sites.demo.whatsapp_rates[1]: the same"},
		{"    whatsapp_rates: [{category: marketing, prize: 1}]\n", "field prize not found"},
	} {
		_, err := config.Parse("m.yaml", []byte(site+tc.yaml), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
