package config

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// MessengerKeys are the site keys of the messengers beyond WhatsApp and
// Telegram, each read by its own package under collector/messengers. A
// messenger added there adds its key here; its settings take the one shape
// MessengerSettings gives every messenger.
var MessengerKeys = []string{"max", "vk", "messenger", "instagram", "viber", "line"}

// MessengerSettings is one messenger's settings on a site: the accounts
// whose links the snippet rewrites and whose webhooks the collector takes
// (listed under the word the platform uses: bots, communities, pages or
// accounts), and a webhook secret shared by them. Which fields an account
// needs is the messenger's to say; the config only checks that each is one
// clean line.
type MessengerSettings struct {
	Secret      string             `yaml:"secret"`
	Bots        []MessengerAccount `yaml:"bots"`
	Communities []MessengerAccount `yaml:"communities"`
	Pages       []MessengerAccount `yaml:"pages"`
	Accounts    []MessengerAccount `yaml:"accounts"`

	// notMapping marks a value that is no mapping: under a key that is no
	// messenger's, a misspelt site key.
	notMapping bool
}

// UnmarshalYAML reads the settings with every key known: an unknown one is
// an error naming its line.
func (m *MessengerSettings) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		m.notMapping = true
		return nil
	}
	if err := knownKeys(n, "secret", "bots", "communities", "pages", "accounts"); err != nil {
		return err
	}
	type plain MessengerSettings
	return n.Decode((*plain)(m))
}

// knownKeys refuses a mapping key not among keys.
func knownKeys(n *yaml.Node, keys ...string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(keys, k.Value) {
			return fmt.Errorf("line %d: field %s not found (known: %s)", k.Line, k.Value, strings.Join(keys, ", "))
		}
	}
	return nil
}

// MessengerAccount is one bot, community, page or account. A plain string
// in the YAML list is its Name.
type MessengerAccount struct {
	Name         string `yaml:"name"`
	ID           string `yaml:"id"`
	URI          string `yaml:"uri"`
	Confirmation string `yaml:"confirmation"`
	Secret       string `yaml:"secret"`
	Token        string `yaml:"token"`
}

// UnmarshalYAML takes a plain string as the account's name.
func (a *MessengerAccount) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		a.Name = n.Value
		return nil
	}
	if err := knownKeys(n, "name", "id", "uri", "confirmation", "secret", "token"); err != nil {
		return err
	}
	type plain MessengerAccount
	return n.Decode((*plain)(a))
}

// List is the settings' accounts under their list's key ("bots",
// "communities", "pages", "accounts"): the one list a messenger reads.
func (m *MessengerSettings) List() (string, []MessengerAccount) {
	for _, l := range []struct {
		key  string
		list []MessengerAccount
	}{{"bots", m.Bots}, {"communities", m.Communities}, {"pages", m.Pages}, {"accounts", m.Accounts}} {
		if len(l.list) > 0 {
			return l.key, l.list
		}
	}
	return "", nil
}

// Messenger is the site's settings for the messenger under key, or nil
// when the site does not configure it.
func (s *Site) Messenger(key string) *MessengerSettings { return s.Messengers[key] }

// normalizeMessengers checks the keys the site's inline messenger map
// caught (an unknown key is a typo, not a messenger) and that every value
// is one clean line, without surrounding spaces.
func (c *Config) normalizeMessengers(s *Site, at string) error {
	for _, key := range sortedKeys(s.Messengers) {
		m := s.Messengers[key]
		if !slices.Contains(MessengerKeys, key) {
			return c.fieldError(at+"."+key, "not a site key (messengers: %s)", strings.Join(MessengerKeys, ", "))
		}
		if m == nil || m.notMapping {
			return c.fieldError(at+"."+key, "the messenger has no settings (a mapping like {bots: [...]})")
		}
		if err := cleanLine(m.Secret); err != nil {
			return c.fieldError(at+"."+key+".secret", "%v", err)
		}
		lists := 0
		for _, l := range []struct {
			key  string
			list []MessengerAccount
		}{{"bots", m.Bots}, {"communities", m.Communities}, {"pages", m.Pages}, {"accounts", m.Accounts}} {
			if len(l.list) > 0 {
				lists++
			}
			for i, a := range l.list {
				for _, f := range []struct{ name, v string }{{"name", a.Name}, {"id", a.ID}, {"uri", a.URI},
					{"confirmation", a.Confirmation}, {"secret", a.Secret}, {"token", a.Token}} {
					if err := cleanLine(f.v); err != nil {
						return c.fieldError(fmt.Sprintf("%s.%s.%s[%d].%s", at, key, l.key, i, f.name), "%v", err)
					}
				}
			}
		}
		if lists > 1 {
			return c.fieldError(at+"."+key, "give its accounts in one list (bots, communities, pages or accounts)")
		}
	}
	for _, f := range []struct{ key, v string }{{"meta_app_secret", s.MetaAppSecret}, {"meta_verify_token", s.MetaVerifyToken}} {
		if err := cleanLine(f.v); err != nil {
			return c.fieldError(at+"."+f.key, "%v", err)
		}
	}
	return nil
}

// cleanLine refuses a value with control characters, surrounding spaces
// or more than 512 bytes.
func cleanLine(v string) error {
	switch {
	case len(v) > 512:
		return fmt.Errorf("longer than 512 bytes")
	case strings.TrimSpace(v) != v:
		return fmt.Errorf("%q has spaces around it", v)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return fmt.Errorf("holds control characters")
	}
	return nil
}
