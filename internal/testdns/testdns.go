// Package testdns is the DNS of tests that resolve webhook hosts: a map
// of names to addresses that a test may change while it runs, as DNS can.
package testdns

import (
	"context"
	"net"
	"net/netip"
	"sync"
)

// Resolver answers from its names; safe for concurrent use.
type Resolver struct {
	mu    sync.Mutex
	names map[string][]netip.Addr
}

// Set makes host resolve to addrs (none: found, but without addresses).
func (r *Resolver) Set(host string, addrs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names == nil {
		r.names = map[string][]netip.Addr{}
	}
	r.names[host] = nil
	for _, a := range addrs {
		r.names[host] = append(r.names[host], netip.MustParseAddr(a))
	}
}

// LookupNetIP answers host's addresses, or a not-found error for a name
// never set.
func (r *Resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a, ok := r.names[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}
