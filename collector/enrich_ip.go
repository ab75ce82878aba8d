package collector

import (
	"context"
	"net/netip"
)

// ipStep stores the client IP, with its host part zeroed (IPv4 /24, IPv6
// /48) when the config sets truncate_ips. It runs after geo, which needs the
// full address.
type ipStep struct {
	truncate bool
}

func (s ipStep) enrich(_ context.Context, _ *site, v *Visit, h *hit) error {
	ip, err := netip.ParseAddr(h.IP)
	if err != nil {
		return nil
	}
	ip = ip.Unmap()
	if s.truncate {
		ip = truncateIP(ip)
	}
	v.IP = ip.String()
	return nil
}

// truncateIP zeroes the host part of an address: what is left names a
// network of hundreds of homes, enough for geo and too little for a person.
func truncateIP(ip netip.Addr) netip.Addr {
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ip
	}
	return p.Addr()
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
