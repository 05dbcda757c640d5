package risk

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultThresholdsText is DefaultThresholds in ParseThresholds' form.
const DefaultThresholdsText = "card_testing=10/5/10m/1h,card_velocity=5/1h,ip_velocity=30/10m," +
	"email_card_velocity=3/24h,amount_anomaly=10/100/20"

// ParseThresholds reads the signals' thresholds and windows, comma-
// separated name=values, each optional (DefaultThresholds for the rest):
// card_testing=failures/cards/window/block, card_velocity=attempts/window,
// ip_velocity=attempts/window, email_card_velocity=cards/window,
// amount_anomaly=factor/history/minimum.
func ParseThresholds(s string) (Thresholds, error) {
	th := DefaultThresholds
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return th, fmt.Errorf("%q is not name=values", part)
		}
		f := strings.Split(value, "/")
		var err error
		switch name {
		case "card_testing":
			err = fields(f, &th.TestingFailures, &th.TestingCards, &th.TestingWindow, &th.TestingBlock)
		case "card_velocity":
			err = fields(f, &th.CardAttempts, &th.CardWindow)
		case "ip_velocity":
			err = fields(f, &th.IPAttempts, &th.IPWindow)
		case "email_card_velocity":
			err = fields(f, &th.EmailCards, &th.EmailWindow)
		case "amount_anomaly":
			var factor int
			err = fields(f, &factor, &th.AmountHistory, &th.AmountMinimum)
			th.AmountFactor = int64(factor)
		default:
			err = fmt.Errorf("unknown signal")
		}
		if err != nil {
			return th, fmt.Errorf("%s: %w", name, err)
		}
	}
	return th, nil
}

// fields parses vals into dst, each a positive int or duration.
func fields(vals []string, dst ...any) error {
	if len(vals) != len(dst) {
		return fmt.Errorf("want %d values separated by /, got %d", len(dst), len(vals))
	}
	for i, v := range vals {
		switch d := dst[i].(type) {
		case *int:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("%q is not a positive whole number", v)
			}
			*d = n
		case *time.Duration:
			t, err := time.ParseDuration(v)
			if err != nil || t < time.Second {
				return fmt.Errorf("%q is not a duration of a second or more", v)
			}
			*d = t
		}
	}
	return nil
}
