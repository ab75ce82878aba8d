package collector

import (
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/config"
)

// routesDashboardPages registers the report and chat pages.
func (s *Server) routesDashboardPages(g fiber.Router) {
}

func sortedSourceNames(m map[string]*config.Source) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
