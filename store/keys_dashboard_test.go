package store_test

import (
	"strings"
	"testing"

	"github.com/messtrack/messtrack/store"
)

func TestDashboardKeys(t *testing.T) {
	tests := []struct {
		name string
		key  string
	}{
		{name: "session", key: store.DashboardSession("demo", "0f1e2d")},
		{name: "session with hostile part", key: store.DashboardSession("demo", "{x}:y z")},
		{name: "sign-in failures", key: store.DashboardSignInFailures("demo", "2001:db8::1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.HasPrefix(tt.key, "mt:{demo}:dash:") {
				t.Errorf("key %q is outside the site's dashboard section", tt.key)
			}
			if strings.Count(tt.key, "{") != 1 || strings.Count(tt.key, "}") != 1 || strings.Contains(tt.key, " ") {
				t.Errorf("key %q leaks structure from its free-form part", tt.key)
			}
		})
	}
	if store.DashboardSession("demo", "a") == store.DashboardSignInFailures("demo", "a") {
		t.Fatal("session and failure keys collide")
	}
}
