// Package browsertest holds the collector's tests that need a real headless
// Chromium: the snippet on demo pages and on site builders' markup, its cost
// to a page in long tasks, the desktop QR, the page a scan over the rate limit
// gets, and the dashboard. They run a real collector on a real Redis and
// fail, never skip, when Chromium is missing, so that `go test ./collector/`
// needs no browser. The package has no code of its own beyond this comment.
package browsertest
