// Package snippet builds and serves the JavaScript that site owners paste:
// it registers visits and rewrites chat links. It imports nothing else of
// messtrack.
package snippet
