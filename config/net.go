package config

import "net"

func parseCIDR(s string) (*net.IPNet, error) {
	_, n, err := net.ParseCIDR(s)
	return n, err
}

func parseIP(s string) net.IP { return net.ParseIP(s) }
