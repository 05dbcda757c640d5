package forms

import "testing"

func TestNormalizeOrigin(t *testing.T) {
	tests := []struct {
		in, want string // want "" means refused
	}{
		{"https://shop.example", "https://shop.example"},
		{"HTTPS://Shop.Example", "https://shop.example"},
		{"https://shop.example/", "https://shop.example"},
		{"https://shop.example:443", "https://shop.example"},
		{"https://shop.example:8443", "https://shop.example:8443"},
		{"https://xn--bcher-kva.example", "https://xn--bcher-kva.example"},
		{"http://localhost:8081", "http://localhost:8081"},
		{"http://127.0.0.1:8081", "http://127.0.0.1:8081"},
		{"http://shop.localhost", "http://shop.localhost"},
		{"http://[::1]:3000", "http://[::1]:3000"},
		{"http://127.0.0.1:80", "http://127.0.0.1"},
		{"https://203.0.113.7", "https://203.0.113.7"},
		{"http://shop.example", ""},       // http only on loopback
		{"http://10.0.0.1", ""},           // not loopback
		{"https://shop.example/pay", ""},  // a path is not an origin
		{"https://shop.example?x=1", ""},  // nor a query
		{"https://shop.example#top", ""},  // nor a fragment
		{"https://user@shop.example", ""}, // nor credentials
		{"https://*.shop.example", ""},    // no wildcards
		{"*", ""},                         // no wildcards
		{"https://shop.example;", ""},     // CSP injection
		{"https://a.example https://b.example", ""},
		{"https://shop.example:0", ""},
		{"https://shop.example:65536", ""},
		{"https://shop.example:08443", ""},
		{"https://256.1.1.1", ""},
		{"https://bücher.example", ""}, // IDNs in punycode only
		{"ftp://shop.example", ""},
		{"shop.example", ""},
		{"https://", ""},
		{"", ""},
		{"javascript:alert(1)", ""},
		{"https://-shop.example", ""},
		{"https://[fe80::1%25eth0]", ""},
	}
	for _, tc := range tests {
		got, err := NormalizeOrigin(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("NormalizeOrigin(%q) = %q, want refused", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestChargeAndAllows(t *testing.T) {
	fixed := &Form{Amount: 2500, Currency: "USD", AllowedOrigins: []string{"https://shop.example"}}
	ranged := &Form{AmountMin: 500, AmountMax: 10000, Currency: "USD"}
	n := func(v int64) *int64 { return &v }
	tests := []struct {
		name string
		f    *Form
		req  *int64
		want int64 // 0: refused
	}{
		{"fixed, no amount", fixed, nil, 2500},
		{"fixed, same amount", fixed, n(2500), 2500},
		{"fixed, other amount", fixed, n(100), 0},
		{"range, missing", ranged, nil, 0},
		{"range, below", ranged, n(499), 0},
		{"range, lowest", ranged, n(500), 500},
		{"range, highest", ranged, n(10000), 10000},
		{"range, above", ranged, n(10001), 0},
	}
	for _, tc := range tests {
		got, err := tc.f.Charge(tc.req)
		if (tc.want == 0) != (err != nil) || got.Minor != tc.want {
			t.Errorf("%s: Charge = %v, %v; want %d", tc.name, got, err, tc.want)
		}
	}
	if o, ok := fixed.Allows("HTTPS://SHOP.EXAMPLE:443"); !ok || o != "https://shop.example" {
		t.Errorf("Allows(normalised form of an allowed origin) = %q, %v", o, ok)
	}
	for _, o := range []string{"https://evil.example", "https://shop.example.evil.example", "", "null"} {
		if _, ok := fixed.Allows(o); ok {
			t.Errorf("Allows(%q) = true", o)
		}
	}
}
