package collector

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/config"
)

// clientIP is the visitor's address, IPv4-mapped IPv6 written as IPv4.
//
// The forwarding header (forwarded_header: X-Forwarded-For, or Forwarded as
// RFC 7239 has it) is read only when the connection comes from one of
// trusted_proxies. Then the chain is walked from the right, each entry
// having been written by the hop to its right: past every trusted proxy, the
// first other address is the client, because entries further left were
// written by the client and can be forged. An entry that names no address
// ("unknown", an obfuscated identifier, garbage) ends the walk: the client
// is then the last trusted hop, never an entry the client could have
// written. Otherwise the client is the connection's peer.
func (s *Server) clientIP(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.Context().RemoteIP().String()
	}
	peer = peer.Unmap()
	if len(s.proxies) == 0 || !s.proxies.contains(peer) {
		return peer.String()
	}
	header := config.ForwardedXFF
	if s.cfg.ForwardedHeader != "" {
		header = s.cfg.ForwardedHeader
	}
	var chain []string
	for _, v := range c.Request().Header.PeekAll(header) {
		if header == config.ForwardedRFC7239 {
			chain = append(chain, forwardedFor(string(v))...)
		} else {
			chain = append(chain, strings.Split(string(v), ",")...)
		}
	}
	client := peer
	for i := len(chain) - 1; i >= 0; i-- {
		ip, ok := parseForwardedAddr(chain[i])
		if !ok {
			break
		}
		client = ip
		if !s.proxies.contains(ip) {
			break
		}
	}
	return client.String()
}

// parseForwardedAddr reads one hop's address as proxies write it: 192.0.2.1,
// 192.0.2.1:4711, 2001:db8::1, [2001:db8::1], [2001:db8::1]:4711, and
// ::ffff:192.0.2.1 (an IPv4 client on a dual-stack socket), possibly quoted.
// IPv4-mapped addresses come back as IPv4; zones are refused.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		rest := s[end+1:]
		if rest != "" && (rest[0] != ':' || !validPort(rest[1:])) {
			return netip.Addr{}, false
		}
		s = s[1:end]
	} else if host, port, found := strings.Cut(s, ":"); found && !strings.Contains(port, ":") {
		// One colon: an IPv4 address with its port.
		if !validPort(port) {
			return netip.Addr{}, false
		}
		s = host
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, false
	}
	return ip.Unmap(), true
}

// validPort tells a decimal port number, or an RFC 7239 obfuscated port
// ("_abc"), which says nothing about the address before it.
func validPort(p string) bool {
	if p == "" || len(p) > 16 {
		return false
	}
	if p[0] == '_' {
		return true
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return len(p) <= 5
}

// forwardedFor returns the for= value of each element of an RFC 7239
// Forwarded header, left to right, quotes kept; an element without for=
// gives "" so that it still counts as a hop. Commas and semicolons inside
// quoted strings do not split.
func forwardedFor(header string) []string {
	var out []string
	for _, elem := range splitQuoted(header, ',') {
		if strings.TrimSpace(elem) == "" {
			continue
		}
		val := ""
		for _, pair := range splitQuoted(elem, ';') {
			k, v, ok := strings.Cut(pair, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
				val = strings.TrimSpace(v)
			}
		}
		out = append(out, unquote(val))
	}
	return out
}

// splitQuoted splits s at sep outside double-quoted strings.
func splitQuoted(s string, sep byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quoted:
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unquote removes a quoted-string's quotes and backslash escapes.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	v = v[1 : len(v)-1]
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// clientKey is the address a client is counted under, for rate limits and
// sign-in lockouts: an IPv4 address as it is, an IPv6 address by its
// network of ipv6_prefix bits (a /64 by default: one home or phone gets a
// whole /64, so single addresses would give it countless buckets).
func (s *Server) clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	bits := s.cfg.IPv6Prefix
	if bits <= 0 {
		bits = config.DefaultIPv6Prefix
	}
	p, err := a.WithZone("").Prefix(bits)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// trustedProxies is the parsed trusted_proxies list.
type trustedProxies []netip.Prefix

func parseTrustedProxies(list []string) trustedProxies {
	out := make(trustedProxies, 0, len(list))
	for _, p := range list {
		if pfx, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pfx.Masked())
		} else if a, err := netip.ParseAddr(p); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}

func (t trustedProxies) contains(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range t {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
