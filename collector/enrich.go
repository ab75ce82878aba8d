package collector

import (
	"context"
	"fmt"
	"net/url"
)

// hit is what the HTTP request says about a visit beyond its body.
type hit struct {
	IP        string
	UserAgent string
}

// step is one enrichment of a visit: each reads the visit and the hit and
// fills its own fields. A step may drop the hit by returning an error that
// wraps ErrDropped.
type step interface {
	enrich(ctx context.Context, st *site, v *Visit, h *hit) error
}

// stepFunc adapts a function to step.
type stepFunc func(ctx context.Context, st *site, v *Visit, h *hit) error

func (f stepFunc) enrich(ctx context.Context, st *site, v *Visit, h *hit) error {
	return f(ctx, st, v, h)
}

// steps returns the enrichment pipeline in order.
func (s *Server) steps() []step {
	return []step{stepFunc(utmStep)}
}

// enrich runs every step over the visit.
func (s *Server) enrich(ctx context.Context, st *site, v *Visit, h *hit) error {
	for _, stp := range s.steps() {
		if err := stp.enrich(ctx, st, v, h); err != nil {
			return fmt.Errorf("enrich: %w", err)
		}
	}
	return nil
}

// clickIDKinds are the ad click ID parameters, in order of preference when a
// landing URL carries several.
var clickIDKinds = []string{"gclid", "gbraid", "wbraid", "dclid", "fbclid", "yclid", "ysclid", "msclkid", "ttclid", "twclid", "li_fat_id", "epik", "sccid", "rdt_cid", "vkclid"}

// utmStep reads UTM tags and the ad click ID from the landing URL.
func utmStep(_ context.Context, _ *site, v *Visit, _ *hit) error {
	u, err := url.Parse(v.Landing)
	if err != nil {
		return nil
	}
	q := u.Query()
	v.UTMSource = cleanShort(q.Get("utm_source"))
	v.UTMMedium = cleanShort(q.Get("utm_medium"))
	v.UTMCampaign = cleanShort(q.Get("utm_campaign"))
	v.UTMContent = cleanShort(q.Get("utm_content"))
	v.UTMTerm = cleanShort(q.Get("utm_term"))
	for _, k := range clickIDKinds {
		if id := q.Get(k); id != "" {
			v.ClickIDKind, v.ClickID = k, cleanShort(id)
			break
		}
	}
	return nil
}
