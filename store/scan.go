package store

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// scanBatch is how many keys one SCAN step asks for: each call stays short,
// so Redis keeps answering others.
const scanBatch = 200

// SiteNode is the Redis node that holds a site's keys under its own {site}
// hash tag: the client itself on one server; on a cluster the master of
// that slot, since a SCAN cursor means something on one node only. The
// keys of a site's visits on its other shards (shards.go) live elsewhere;
// nothing scans them.
func SiteNode(ctx context.Context, rdb redis.UniversalClient, site string) (redis.Cmdable, error) {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return rdb, nil
	}
	c, err := cc.MasterForKey(ctx, siteKey(site))
	if err != nil {
		return nil, fmt.Errorf("find the node of site %s: %w", site, err)
	}
	return c, nil
}

// ScanSite calls fn with the site's keys under its own tag that match
// pattern, a bounded batch at a time. A key may come more than once (SCAN's promise); fn must allow it.
func ScanSite(ctx context.Context, rdb redis.UniversalClient, site, pattern string, fn func(keys []string) error) error {
	node, err := SiteNode(ctx, rdb, site)
	if err != nil {
		return err
	}
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, pattern, scanBatch).Result()
		if err != nil {
			return fmt.Errorf("scan %s: %w", pattern, err)
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
