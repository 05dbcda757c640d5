package money

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMinor(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    int64
		wantErr error
	}{
		{"one", "1", 1, nil},
		{"typical", "2500", 2500, nil},
		{"max", "99999999", MaxMinor, nil},
		{"zero", "0", 0, ErrAmountInvalid},
		{"negative", "-1", 0, ErrAmountInvalid},
		{"float", "25.00", 0, ErrAmountInvalid},
		{"float no fraction", "2500.", 0, ErrAmountInvalid},
		{"exponent", "2.5e3", 0, ErrAmountInvalid},
		{"string", `"2500"`, 0, ErrAmountInvalid},
		{"decimal string", `"19.99"`, 0, ErrAmountInvalid},
		{"over max", "100000000", 0, ErrAmountInvalid},
		{"int64 overflow", "99999999999999999999", 0, ErrAmountInvalid},
		{"leading zero", "0100", 0, ErrAmountInvalid},
		{"null", "null", 0, ErrAmountInvalid},
		{"empty", "", 0, ErrAmountInvalid},
		{"bool", "true", 0, ErrAmountInvalid},
		{"plus sign", "+5", 0, ErrAmountInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMinor(tt.raw)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseMinor(%q) = %d, %v; want %d, %v", tt.raw, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestNew(t *testing.T) {
	for _, minor := range []int64{0, -5, MaxMinor + 1} {
		if _, err := New(minor, USD); !errors.Is(err, ErrAmountInvalid) {
			t.Errorf("New(%d) err = %v, want ErrAmountInvalid", minor, err)
		}
	}
	if a, err := New(1, JPY); err != nil || a != (Amount{1, JPY}) {
		t.Errorf("New(1, JPY) = %v, %v", a, err)
	}
}

func TestSet(t *testing.T) {
	s, err := ParseSet(DefaultAccepted)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Currency{AUD, CAD, EUR, GBP, INR, JPY, USD}, s.List()); diff != "" {
		t.Errorf("default set (-want +got):\n%s", diff)
	}
	tests := []struct {
		code    string
		want    Currency
		wantErr error
	}{
		{"usd", USD, nil},
		{"Jpy", JPY, nil},
		{" EUR ", EUR, nil},
		{"BHD", "", ErrCurrencyUnsupported}, // known, but not accepted by default
		{"XXX", "", ErrCurrencyUnsupported},
		{"", "", ErrCurrencyUnsupported},
		{"US", "", ErrCurrencyUnsupported},
	}
	for _, tt := range tests {
		got, err := s.Parse(tt.code)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tt.code, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := ParseSet("USD,XYZ"); err == nil {
		t.Error("ParseSet accepted an unknown code")
	}
	if _, err := ParseSet(" , "); err == nil {
		t.Error("ParseSet accepted an empty list")
	}
}

func TestExponents(t *testing.T) {
	for c, want := range map[Currency]int{USD: 2, JPY: 0, BHD: 3, EUR: 2, INR: 2, "KWD": 3, "KRW": 0} {
		if got, ok := Exponent(c); !ok || got != want {
			t.Errorf("Exponent(%s) = %d, %v; want %d", c, got, ok, want)
		}
	}
	if _, ok := Exponent("ABC"); ok {
		t.Error("Exponent knows ABC")
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		name string
		a    Amount
		want string
	}{
		{"dollars", Amount{2500, USD}, "$25.00"},
		{"euros", Amount{2500, EUR}, "€25.00"},
		{"yen, no minor unit", Amount{2500, JPY}, "¥2,500"},
		{"one cent", Amount{1, USD}, "$0.01"},
		{"zero", Amount{0, USD}, "$0.00"},
		{"zero yen", Amount{0, JPY}, "¥0"},
		{"dinar, three decimals", Amount{1234, BHD}, "BHD 1.234"},
		{"one fils", Amount{5, BHD}, "BHD 0.005"},
		{"dinar with thousands", Amount{99_999_999, BHD}, "BHD 99,999.999"},
		{"dinar below one", Amount{999, "KWD"}, "KWD 0.999"},
		{"thousands", Amount{123456789, USD}, "$1,234,567.89"},
		{"Indian grouping", Amount{12345600, INR}, "₹1,23,456.00"},
		{"largest API amount in yen", Amount{MaxMinor, JPY}, "¥99,999,999"},
		{"negative", Amount{-500, GBP}, "-£5.00"},
		{"code when no symbol", Amount{100, "CHF"}, "CHF 1.00"},
		{"Australian dollars", Amount{100, AUD}, "A$1.00"},
		{"Canadian dollars", Amount{100, CAD}, "CA$1.00"},
		{"won, no minor unit", Amount{1000, "KRW"}, "₩1,000"},
		{"unknown currency", Amount{1000, "XYZ"}, "1000 XYZ"},
		{"most negative", Amount{math.MinInt64, JPY}, "-¥9,223,372,036,854,775,808"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.a.String()); diff != "" {
				t.Errorf("Amount{%d, %s}.String() (-want +got):\n%s", tt.a.Minor, tt.a.Currency, diff)
			}
		})
	}
}

func TestAddSub(t *testing.T) {
	tests := []struct {
		name    string
		a, b    Amount
		add     Amount
		wantErr error
	}{
		{"same currency", Amount{100, USD}, Amount{250, USD}, Amount{350, USD}, nil},
		{"mismatch", Amount{100, USD}, Amount{100, EUR}, Amount{}, ErrCurrencyMismatch},
		{"overflow", Amount{math.MaxInt64, USD}, Amount{1, USD}, Amount{}, ErrOverflow},
		{"underflow", Amount{math.MinInt64, USD}, Amount{-1, USD}, Amount{}, ErrOverflow},
	}
	for _, tt := range tests {
		got, err := tt.a.Add(tt.b)
		if got != tt.add || !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: Add = %v, %v; want %v, %v", tt.name, got, err, tt.add, tt.wantErr)
		}
	}
	if got, err := (Amount{100, USD}).Sub(Amount{30, USD}); err != nil || got != (Amount{70, USD}) {
		t.Errorf("Sub = %v, %v; want $0.70", got, err)
	}
	if _, err := (Amount{0, USD}).Sub(Amount{math.MinInt64, USD}); !errors.Is(err, ErrOverflow) {
		t.Errorf("Sub(MinInt64) err = %v, want ErrOverflow", err)
	}
}
