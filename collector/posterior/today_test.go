package posterior

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Today's formula, copied from the collector's matcher with its constants
// and structure (time weight × country, time zone and language factors,
// a fixed background weight, the best taken at a 0.70 share and a 3×
// lead), on this package's inputs. It is the baseline of the simulation
// and of the benchmark.
const (
	todayGapFast         = 60 * time.Second
	todayGapSlow         = 10 * time.Minute
	todayGapFastPart     = 0.75
	todayCountryMatch    = 3.0
	todayCountryMismatch = 0.15
	todayZoneMatch       = 1.5
	todayZoneMismatch    = 0.7
	todayLangMatch       = 1.5
	todayLangMismatch    = 0.5
	todayBackground      = 0.4
	todayMinConfidence   = 0.7
	todayMinLead         = 3
)

// todayMessage is what today's matcher reads of a message: the phone's
// country, the offsets of the time zones the phone data gives (Moscow for
// every Russian mobile), the language.
type todayMessage struct {
	Time     time.Time
	Country  string
	Offsets  []int
	Language string
}

func todayTimeWeight(gap time.Duration) float64 {
	return todayGapFastPart*math.Exp(-gap.Seconds()/todayGapFast.Seconds()) +
		(1-todayGapFastPart)*math.Exp(-gap.Seconds()/todayGapSlow.Seconds())
}

func todayScore(sig *todayMessage, c *Click) float64 {
	gap := max(sig.Time.Sub(c.At), 0)
	w := todayTimeWeight(gap)
	if sig.Country != "" && c.Country != "" {
		if strings.EqualFold(sig.Country, c.Country) {
			w *= todayCountryMatch
			if len(sig.Offsets) > 0 && c.HasOffset {
				if slices.Contains(sig.Offsets, c.Offset) {
					w *= todayZoneMatch
				} else {
					w *= todayZoneMismatch
				}
			}
		} else {
			w *= todayCountryMismatch
		}
	}
	if lang := primaryLanguage(c.Language); sig.Language != "" && lang != "" {
		if lang == primaryLanguage(sig.Language) {
			w *= todayLangMatch
		} else {
			w *= todayLangMismatch
		}
	}
	return w
}

// todayDecide scores, normalises (with the matcher's rounding) and decides
// as the matcher does; it returns the chosen candidate's index and its
// confidence.
func todayDecide(sig *todayMessage, cands []Click, weights []float64) (int, float64, bool) {
	total := todayBackground
	for i := range cands {
		weights[i] = todayScore(sig, &cands[i])
		total += weights[i]
	}
	best, second := -1, -1
	for i := range weights {
		weights[i] = math.Round(weights[i]*1e4) / 1e4
		switch {
		case best < 0 || weights[i] > weights[best]:
			best, second = i, best
		case second < 0 || weights[i] > weights[second]:
			second = i
		}
	}
	if best < 0 {
		return -1, 0, false
	}
	conf := math.Round(weights[best]/total*1e3) / 1e3
	if conf < todayMinConfidence {
		return -1, conf, false
	}
	if second >= 0 && weights[best] < todayMinLead*weights[second] {
		return -1, conf, false
	}
	return best, conf, true
}
