package main

import (
	"os"
	"testing"

	"github.com/messtrack/messtrack/store/redistest"
)

// TestMain stops the Redis the tests share when they end: the cluster that
// redistest.NewURL starts on first use with MESSTRACK_TEST_REDIS=cluster.
func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }
