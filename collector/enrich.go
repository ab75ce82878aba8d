package collector

import (
	"context"
	"fmt"
	"net/url"
)

// hit is what the HTTP request says about a visit beyond its body.
type hit struct {
	// IP is the client address (see clientIP), never truncated.
	IP        string
	UserAgent string
	// Purpose is the request's prefetch or preview marker, from the
	// Sec-Purpose, Purpose, X-Purpose or X-Moz headers; empty for a real visit.
	Purpose string
}

// step is one enrichment of a visit: each reads the visit and the hit and
// fills its own fields. A step may drop the hit by returning an error that
// wraps ErrDropped (see drop).
type step interface {
	enrich(ctx context.Context, st *site, v *Visit, h *hit) error
}

// stepFunc adapts a function to step.
type stepFunc func(ctx context.Context, st *site, v *Visit, h *hit) error

func (f stepFunc) enrich(ctx context.Context, st *site, v *Visit, h *hit) error {
	return f(ctx, st, v, h)
}

// newPipeline returns the enrichment steps in order: the cheap checks that
// drop a hit run first, so a bot costs no geo lookup; the IP is truncated
// last, after geo has used the full address.
func (s *Server) newPipeline() []step {
	return []step{
		stepFunc(prefetchStep),
		newUAStep(),
		stepFunc(utmStep),
		stepFunc(channelStep),
		&geoStep{geo: s.geo},
		ipStep{truncate: s.cfg.TruncateIPs},
	}
}

// enrich runs every step over the visit.
func (s *Server) enrich(ctx context.Context, st *site, v *Visit, h *hit) error {
	for _, stp := range s.pipeline {
		if err := stp.enrich(ctx, st, v, h); err != nil {
			return fmt.Errorf("enrich: %w", err)
		}
	}
	return nil
}

// drop is the error a step returns to drop a hit; reason is a short token
// that goes into the X-Messtrack-Dropped header.
func drop(reason string) error { return fail(ErrDropped, "%s", reason) }

// clickIDKinds are the ad click ID parameters, in order of preference when a
// landing URL carries several.
var clickIDKinds = []string{"gclid", "gbraid", "wbraid", "dclid", "fbclid", "yclid", "ysclid", "msclkid", "ttclid", "twclid", "li_fat_id", "epik", "sccid", "rdt_cid", "vkclid"}

// utmStep reads UTM tags and the ad click ID from the landing URL.
func utmStep(_ context.Context, _ *site, v *Visit, _ *hit) error {
	readLandingTags(v)
	return nil
}

// readLandingTags sets the UTM and click ID fields that v.Landing carries,
// leaving the others as they are (a QR visit may set its own). The stored
// visit leaves these out when they equal what the URL alone gives (see
// encodeVisit), so what it reads must stay a pure function of the URL.
func readLandingTags(v *Visit) {
	u, err := url.Parse(v.Landing)
	if err != nil || u.RawQuery == "" {
		return
	}
	q := u.Query()
	for _, f := range []struct {
		param string
		field *string
	}{
		{param: "utm_source", field: &v.UTMSource},
		{param: "utm_medium", field: &v.UTMMedium},
		{param: "utm_campaign", field: &v.UTMCampaign},
		{param: "utm_content", field: &v.UTMContent},
		{param: "utm_term", field: &v.UTMTerm},
	} {
		if val := cleanShort(q.Get(f.param)); val != "" {
			*f.field = val
		}
	}
	for _, k := range clickIDKinds {
		if id := cleanShort(q.Get(k)); id != "" {
			v.ClickIDKind, v.ClickID = k, id
			break
		}
	}
}
