// Package enrich fills a visit from what the request says about it: UTM tags
// and click IDs from the landing URL, the traffic channel, the user agent,
// the place of the IP address, and the IP as it may be stored. Each step is
// pure over a visit and a hit, apart from the caches and the GeoIP database
// it owns; a step may drop a hit (a bot, a prefetch).
package enrich

import (
	"errors"
	"fmt"

	"github.com/messtrack/messtrack/collector/visit"
)

// Hit is what the HTTP request says about a visit beyond its body.
type Hit struct {
	// IP is the client address, never truncated.
	IP        string
	UserAgent string
	// Purpose is the request's prefetch or preview marker, from the
	// Sec-Purpose, Purpose, X-Purpose or X-Moz headers; empty for a real visit.
	Purpose string
}

// Step is one enrichment of a visit: each reads the visit and the hit and
// fills its own fields. A step may drop the hit by returning an error that
// wraps ErrDropped (see Drop).
type Step interface {
	Enrich(v *visit.Visit, h *Hit) error
}

// StepFunc adapts a function to Step.
type StepFunc func(v *visit.Visit, h *Hit) error

// Enrich calls f.
func (f StepFunc) Enrich(v *visit.Visit, h *Hit) error { return f(v, h) }

// Pipeline is the steps in order; it is itself a Step.
type Pipeline []Step

// New returns the enrichment steps in order: the cheap checks that drop a
// hit run first, so a bot costs no geo lookup; the IP is truncated last,
// after geo has used the full address. geo may be nil: no place is looked up.
func New(geo *Geo, truncateIPs bool) Pipeline {
	return Pipeline{
		StepFunc(prefetchStep),
		newUAStep(),
		StepFunc(utmStep),
		StepFunc(channelStep),
		&geoStep{geo: geo},
		ipStep{truncate: truncateIPs},
	}
}

// Enrich runs every step over the visit.
func (p Pipeline) Enrich(v *visit.Visit, h *Hit) error {
	for _, stp := range p {
		if err := stp.Enrich(v, h); err != nil {
			return fmt.Errorf("enrich: %w", err)
		}
	}
	return nil
}

// ErrDropped is what a dropped hit's error wraps.
var ErrDropped = errors.New("dropped")

// DropError is a hit dropped on purpose; Reason is a short token fit for the
// X-Messtrack-Dropped header.
type DropError struct{ Reason string }

func (e *DropError) Error() string { return e.Reason }

// Unwrap makes a DropError match ErrDropped.
func (e *DropError) Unwrap() error { return ErrDropped }

// Drop is the error a step returns to drop a hit.
func Drop(reason string) error { return &DropError{Reason: reason} }

// DropReason is the reason of a dropped hit's error, and whether err is one.
func DropReason(err error) (string, bool) {
	var de *DropError
	if errors.As(err, &de) {
		return de.Reason, true
	}
	return "", false
}

// utmStep reads UTM tags and the ad click ID from the landing URL.
func utmStep(v *visit.Visit, _ *Hit) error {
	visit.ReadLandingTags(v)
	return nil
}
