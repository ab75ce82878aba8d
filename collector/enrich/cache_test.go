package enrich

import (
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/messtrack/messtrack/collector/enrich/geotest"
	"github.com/messtrack/messtrack/collector/visit"
)

func TestBoundedCache(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		// puts are stored in order, then gets are looked up.
		puts []string
		gets map[string]bool
	}{
		{name: "hit", limit: 64, puts: []string{"a", "b"}, gets: map[string]bool{"a": true, "b": true}},
		{name: "miss", limit: 64, puts: []string{"a"}, gets: map[string]bool{"b": false, "": false}},
		{name: "empty key", limit: 64, puts: []string{""}, gets: map[string]bool{"": true}},
		{name: "nothing stored", limit: 64, gets: map[string]bool{"a": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newBoundedCache[string, int](tt.limit)
			for i, k := range tt.puts {
				c.put(k, i+1)
			}
			for k, want := range tt.gets {
				v, ok := c.get(k)
				if ok != want {
					t.Fatalf("get(%q) found = %v, want %v", k, ok, want)
				}
				if ok && tt.puts[v-1] != k {
					t.Fatalf("get(%q) = %d, the value of %q", k, v, tt.puts[v-1])
				}
			}
		})
	}
}

func TestBoundedCacheOverwrite(t *testing.T) {
	c := newBoundedCache[string, int](64)
	c.put("a", 1)
	c.put("a", 2)
	if v, ok := c.get("a"); !ok || v != 2 {
		t.Fatalf("get after two puts = %d, %v; want 2, true", v, ok)
	}
	if n := c.len(); n != 1 {
		t.Fatalf("len = %d, want 1", n)
	}
}

func TestBoundedCacheEvictionBound(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		keys  int
	}{
		{name: "smallest", limit: 2 * cacheShards, keys: 1000},
		{name: "under the limit", limit: 4096, keys: 1000},
		{name: "ten times the limit", limit: 1024, keys: 10240},
		{name: "limit not a multiple of the shards", limit: 1000, keys: 50000},
		{name: "limit below one per shard", limit: 3, keys: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newBoundedCache[int, int](tt.limit)
			bound := max(tt.limit, 2*cacheShards)
			for k := range tt.keys {
				c.put(k, k)
				if n := c.len(); n > bound {
					t.Fatalf("after %d puts the cache holds %d entries, more than %d", k+1, n, bound)
				}
			}
			if tt.keys <= tt.limit/2 {
				// Well under the limit nothing is evicted.
				for k := range tt.keys {
					if v, ok := c.get(k); !ok || v != k {
						t.Fatalf("get(%d) = %d, %v; want it kept", k, v, ok)
					}
				}
			}
			// The newest key is always there.
			if v, ok := c.get(tt.keys - 1); !ok || v != tt.keys-1 {
				t.Fatalf("newest key lost: %d, %v", v, ok)
			}
		})
	}
}

// TestBoundedCacheKeepsWhatIsAskedFor checks that an entry read regularly
// survives a flood of one-off keys many times the cache's size.
func TestBoundedCacheKeepsWhatIsAskedFor(t *testing.T) {
	c := newBoundedCache[string, int](256)
	c.put("popular", 7)
	for i := range 100_000 {
		c.put("one-off "+strconv.Itoa(i), i)
		if i%8 == 0 {
			if v, ok := c.get("popular"); !ok || v != 7 {
				t.Fatalf("after %d one-off keys the popular entry is gone (%d, %v)", i, v, ok)
			}
		}
	}
	if n := c.len(); n > 256 {
		t.Fatalf("the cache holds %d entries, more than 256", n)
	}
}

func TestBoundedCacheConcurrent(t *testing.T) {
	const workers, keys, limit = 8, 2000, 512
	c := newBoundedCache[string, string](limit)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range keys {
				k := strconv.Itoa((i * (w + 1)) % keys)
				if v, ok := c.get(k); ok && v != "value "+k {
					t.Errorf("get(%q) = %q", k, v)
					return
				}
				c.put(k, "value "+k)
				if w == 0 && i%100 == 0 && c.len() > limit {
					t.Errorf("cache holds %d entries, more than %d", c.len(), limit)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := c.len(); n > limit {
		t.Fatalf("cache holds %d entries, more than %d", n, limit)
	}
}

// TestUAStepCache checks that the cached step answers as the uncached one
// does, the first time and from the cache, and that hostile or oversized
// headers neither get a different answer nor a place in the cache.
func TestUAStepCache(t *testing.T) {
	long := "Mozilla/5.0 (X11; Linux x86_64) " + string(make([]byte, uaCacheKeyMax)) + " Firefox/121.0"
	tests := []struct {
		name, ua string
		cached   bool
	}{
		{name: "Chrome on Windows", ua: uaChromeWindows, cached: true},
		{name: "iPad", ua: uaIPad, cached: true},
		{name: "bot", ua: uaGooglebot, cached: true},
		{name: "headless", ua: uaHeadless, cached: true},
		{name: "not a browser", ua: uaCurl, cached: true},
		{name: "no header", ua: "", cached: true},
		{name: "markup in the header", ua: "Mozilla/5.0 (<script>alert(1)</script>) Gecko/20100101 Firefox/121.0", cached: true},
		{name: "control characters", ua: "Mozilla/5.0 (Windows NT 10.0\x00\x1b[31m) Chrome/120.0.0.0 Safari/537.36", cached: true},
		{name: "longer than the cache takes", ua: long, cached: false},
	}
	s := newUAStep()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want visit.Visit
			wantErr := userAgentStep(&want, &Hit{UserAgent: tt.ua})
			for round := range 2 {
				var v visit.Visit
				err := s.Enrich(&v, &Hit{UserAgent: tt.ua})
				if droppedReason(err) != droppedReason(wantErr) || v != want {
					t.Fatalf("round %d: %+v, %v; want %+v, %v", round, v, err, want, wantErr)
				}
			}
			if _, ok := s.cache.get(tt.ua); ok != tt.cached {
				t.Fatalf("cached = %v, want %v", ok, tt.cached)
			}
		})
	}
	t.Run("no header keeps the visit's fields", func(t *testing.T) {
		v := visit.Visit{Browser: "set before", OS: "set before", Device: "set before"}
		want := v
		if err := s.Enrich(&v, &Hit{}); err != nil || v != want {
			t.Fatalf("got %+v, %v; want %+v", v, err, want)
		}
	})
}

func TestUAStepConcurrent(t *testing.T) {
	s := newUAStep()
	uas := []string{uaChromeWindows, uaSafariIPhone, uaChromeAndroid, uaAndroidTablet, uaIPad, uaFirefoxLinux, uaGooglebot, uaHeadless}
	want := make([]visit.Visit, len(uas))
	wantErr := make([]string, len(uas))
	for i, ua := range uas {
		wantErr[i] = droppedReason(userAgentStep(&want[i], &Hit{UserAgent: ua}))
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := (i + w) % len(uas)
				var v visit.Visit
				err := s.Enrich(&v, &Hit{UserAgent: uas[k]})
				if droppedReason(err) != wantErr[k] || v != want[k] {
					t.Errorf("%q: %+v, %v; want %+v, %q", uas[k], v, err, want[k], wantErr[k])
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestGeoCache checks that cached answers equal the first, looked-up ones,
// for every kind of address, and that the cache holds one answer per exact
// address, never one per guessed network.
func TestGeoCache(t *testing.T) {
	geo, err := OpenGeo(geotest.WriteDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { geo.Close() })
	tests := []struct {
		name   string
		ip     string
		want   geoPlaceInfo
		cached int // cache entries after the lookups
	}{
		{name: "IPv4", ip: "81.2.69.160", want: geoPlaceInfo{country: "GB", region: "England", city: "London", timeZone: "Europe/London"}, cached: 1},
		{name: "same network, other host", ip: "81.2.69.7", want: geoPlaceInfo{country: "GB", region: "England", city: "London", timeZone: "Europe/London"}, cached: 2},
		{name: "IPv6", ip: "2a02:6b8::feed:ff", want: geoPlaceInfo{country: "RU", region: "Moscow", city: "Moscow", timeZone: "Europe/Moscow"}, cached: 3},
		{name: "IPv4-mapped IPv6", ip: "::ffff:89.160.20.112", want: geoPlaceInfo{country: "SE", region: "Östergötland County", city: "Linköping", timeZone: "Europe/Stockholm"}, cached: 4},
		{name: "country only", ip: "203.0.113.9", want: geoPlaceInfo{country: "BR", timeZone: "America/Sao_Paulo"}, cached: 5},
		{name: "unknown address", ip: "198.51.100.1", want: geoPlaceInfo{}, cached: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for round := range 3 {
				got, err := geo.lookup(net.ParseIP(tt.ip))
				if err != nil || got != tt.want {
					t.Fatalf("round %d: %+v, %v; want %+v", round, got, err, tt.want)
				}
			}
			if n := geo.cache.len(); n != tt.cached {
				t.Fatalf("cache holds %d records, want %d", n, tt.cached)
			}
		})
	}
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := range 300 {
					tt := tests[(i+w)%len(tests)]
					var v visit.Visit
					if err := (&geoStep{geo: geo}).Enrich(&v, &Hit{IP: tt.ip}); err != nil {
						t.Errorf("%s: %v", tt.ip, err)
						return
					}
					got := geoPlaceInfo{country: v.Country, region: v.Region, city: v.City, timeZone: v.GeoTimeZone}
					if got != tt.want {
						t.Errorf("%s: %+v, want %+v", tt.ip, got, tt.want)
						return
					}
				}
			})
		}
		wg.Wait()
	})
}
