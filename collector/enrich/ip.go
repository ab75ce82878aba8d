package enrich

import (
	"net/netip"

	"github.com/messtrack/messtrack/collector/visit"
)

// ipStep stores the client IP, with its host part zeroed (IPv4 /24, IPv6
// /48) when the config sets truncate_ips. It runs after geo, which needs the
// full address.
type ipStep struct {
	truncate bool
}

func (s ipStep) Enrich(v *visit.Visit, h *Hit) error {
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
