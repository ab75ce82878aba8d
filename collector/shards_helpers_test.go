package collector

import "github.com/messtrack/messtrack/store"

// demoKeys builds the keys of the demo site's visits in the test world,
// whose sites have one shard.
var demoKeys = store.NewShards("demo", 1)
