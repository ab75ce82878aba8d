package inbound

import "testing"

func TestStartPayload(t *testing.T) {
	tests := []struct {
		name, text, bot, payload string
		ok                       bool
	}{
		{name: "payload", text: "/start abc_DEF-1", bot: "demo_bot", payload: "abc_DEF-1", ok: true},
		{name: "bare", text: "/start", bot: "demo_bot", ok: true},
		{name: "addressed to the bot", text: "/start@Demo_Bot xyz", bot: "demo_bot", payload: "xyz", ok: true},
		{name: "addressed to another bot", text: "/start@other_bot xyz", bot: "demo_bot"},
		{name: "other command", text: "/help", bot: "demo_bot"},
		{name: "text", text: "start please", bot: "demo_bot"},
		{name: "starts alike", text: "/starting now", bot: "demo_bot"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := StartPayload(tc.text, tc.bot)
			if p != tc.payload || ok != tc.ok {
				t.Errorf("StartPayload(%q) = %q, %v; want %q, %v", tc.text, p, ok, tc.payload, tc.ok)
			}
		})
	}
}
